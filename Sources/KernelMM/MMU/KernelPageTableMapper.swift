import Foundation

/// vmalloc through the kernel page table (`vmap_pages_range()` / `vunmap_range_noflush()`),
/// on top of the host alias that gives the memory a real address: mappings go into
/// `init_mm`'s page table, and unmapping is lazy, as `free_vmap_area_noflush()` is — ranges
/// pile up until `lazy_max_pages()` = fls(ncpus) × 32 MiB / PAGE_SIZE, then one full flush on
/// every CPU (`__purge_vmap_area_lazy`) makes the addresses safe to reuse.
public final class KernelPageTableMapper: KernelMapper, @unchecked Sendable {
    public let mmu: MMU
    let host: HostMapper
    private let lock = NSLock()
    private var lazyPages = 0
    private var pendingReleases: [@Sendable () -> Void] = []
    public private(set) var purges = 0
    public let lazyMaxPages: Int

    public init(mmu: MMU) {
        self.mmu = mmu
        host = HostMapper(kernel: mmu.kernel)
        let n = mmu.kernel.cpus.count
        lazyMaxPages = (Int.bitWidth - n.leadingZeroBitCount) * (32 << 20) / PAGE_SIZE
    }

    public func map(_ pfns: [Int], at address: UnsafeMutableRawPointer, cpu: CPUContext) throws {
        try host.map(pfns, at: address, cpu: cpu)
        let space = mmu.kernelSpace
        let ok = space.lock.withLock(mayBlock: true, cpu: cpu) { () -> Bool in
            var tables = 0
            for (i, pfn) in pfns.enumerated() {
                let va = UInt64(UInt(bitPattern: address)) + UInt64(i * PAGE_SIZE)
                if !space.pageTable.map(va, pfn: pfn, flags: PTE.writable | PTE.noExecute, huge: false, cpu: cpu, tablePages: &tables) { return false }
            }
            space.tablePages += tables
            space.mappedPages += pfns.count
            return true
        }
        if !ok { throw SlabError("no memory for kernel page tables") }
    }

    public func unmap(at address: UnsafeMutableRawPointer, pages: Int, cpu: CPUContext, release: @escaping @Sendable () -> Void) {
        let space = mmu.kernelSpace
        space.lock.withLock(mayBlock: true, cpu: cpu) {
            for i in 0..<pages { _ = space.pageTable.unmap(UInt64(UInt(bitPattern: address)) + UInt64(i * PAGE_SIZE)) }
            space.mappedPages -= pages
        }
        host.unmap(at: address, pages: pages, cpu: cpu) {}
        lock.lock()
        lazyPages += pages
        pendingReleases.append(release)
        let purge = lazyPages > lazyMaxPages
        lock.unlock()
        if purge { purgeLazy(cpu) }
    }

    /// `__purge_vmap_area_lazy()`: one flush of the kernel space on every online CPU, then the
    /// address ranges are free for reuse.
    public func purgeLazy(_ cpu: CPUContext) {
        lock.lock()
        let releases = pendingReleases
        pendingReleases.removeAll()
        lazyPages = 0
        purges += 1
        lock.unlock()
        mmu.shootdown(cpu, mmu.kernelSpace, vas: [], forceFull: true)
        releases.forEach { $0() }
    }

    public var lazyPending: Int { lock.lock(); defer { lock.unlock() }; return lazyPages }
}
