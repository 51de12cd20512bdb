import Foundation

/// How vmalloc makes scattered physical pages virtually contiguous: the one small interface
/// the kernel page table (`vmap_pages_range()` / `vunmap_range()`) stands behind.
public protocol KernelMapper: AnyObject, Sendable {
    /// Maps `pfns` at consecutive pages from `address`.
    func map(_ pfns: [Int], at address: UnsafeMutableRawPointer, cpu: CPUContext) throws
    /// Removes the mappings of `pages` pages from `address`. `release` is called once the
    /// range may be reused: at once, or after the lazy TLB purge that makes it safe.
    func unmap(at address: UnsafeMutableRawPointer, pages: Int, cpu: CPUContext, release: @escaping @Sendable () -> Void)
}

/// The host MMU as the kernel page table: each node arena is a memfd, so a physical page can
/// be mapped a second time, at the vmalloc address, with `mmap(MAP_FIXED|MAP_SHARED)` — runs of
/// consecutive PFNs in one call. Writes through either address reach the same memory.
public final class HostMapper: KernelMapper, @unchecked Sendable {
    unowned let kernel: Kernel
    public init(kernel: Kernel) { self.kernel = kernel }

    public func map(_ pfns: [Int], at address: UnsafeMutableRawPointer, cpu: CPUContext) throws {
        var i = 0
        while i < pfns.count {
            let node = kernel.nodeOf(pfn: pfns[i])
            var j = i + 1
            while j < pfns.count && pfns[j] == pfns[j - 1] + 1 && kernel.nodeOf(pfn: pfns[j]) == node { j += 1 }
            let offset = (pfns[i] - node * kernel.pagesPerNode) * PAGE_SIZE
            let p = mmap(address + i * PAGE_SIZE, (j - i) * PAGE_SIZE, PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_FIXED, kernel.nodes[node].memory.fd, off_t(offset))
            guard p != MAP_FAILED else {
                throw SlabError("vmap of \(j - i) page(s) failed: \(String(cString: strerror(errno)))")
            }
            i = j
        }
    }

    public func unmap(at address: UnsafeMutableRawPointer, pages: Int, cpu: CPUContext, release: @escaping @Sendable () -> Void) {
        // Back to an inaccessible reservation: a stale access faults, as after vunmap.
        _ = mmap(address, pages * PAGE_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0)
        release()
    }
}
