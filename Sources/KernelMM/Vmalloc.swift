import Foundation
import Topology

/// vmalloc (mm/vmalloc.c): page-granular allocations of physically scattered order-0 pages,
/// made virtually contiguous in the vmalloc area through the kernel mapper, with a guard page
/// after each area (`__get_vm_area_node`) and the areas kept in address order (`vmap_area`).
public final class Vmalloc: @unchecked Sendable {
    public let kernel: Kernel
    public let mapper: KernelMapper
    /// The vmalloc area: [start, start + bytes).
    public let start: UnsafeMutableRawPointer
    public let bytes: Int
    private let lock = NSLock()  // vmap_area_lock
    private var areas: [UInt: Area] = [:]
    /// Free address ranges (offset, pages), first fit.
    private var holes: [(Int, Int)]

    struct Area { var offset: Int; var pages: Int; var pfns: [Int] }
    /// `vfree_deferred`: areas freed from interrupt context, waiting for process context.
    private var deferred: [UnsafeMutableRawPointer] = []
    /// Frees deferred so far (`vfree_atomic()` calls).
    public private(set) var deferredFrees = 0

    public private(set) var allocations = 0
    public private(set) var mappedPages = 0

    public init(kernel: Kernel, bytes: Int = 256 << 20, mapper: KernelMapper? = nil) throws {
        self.kernel = kernel
        self.bytes = bytes
        self.mapper = mapper ?? HostMapper(kernel: kernel)
        start = try NodeMemory.reserve(bytes: bytes)
        holes = [(0, bytes / PAGE_SIZE)]
    }

    deinit { munmap(start, bytes) }

    /// `vmalloc(size)` with `gfp` (GFP_KERNEL for vmalloc, `| __GFP_ZERO` for vzalloc).
    public func vmalloc(_ cpu: CPUContext, _ size: Int, gfp: GFP = .kernel) -> UnsafeMutableRawPointer? {
        guard size > 0 else { return nil }
        if !cpu.inAtomic { runDeferred(cpu) }
        cpu.mightAlloc(gfp, log: kernel.log, at: "mm/vmalloc.c __vmalloc_node_range")
        let pages = (size + PAGE_SIZE - 1) / PAGE_SIZE
        var pfns: [Int] = []
        pfns.reserveCapacity(pages)
        for _ in 0..<pages {
            guard let p = kernel.allocPagesChecked(cpu, gfp.subtracting([.dma, .dma32]), order: 0) else {
                pfns.forEach { kernel.freePages(cpu, kernel.pageRef(pfn: $0), order: 0) }
                return nil
            }
            pfns.append(kernel.pfn(p).raw)
        }
        lock.lock()
        // One guard page after the area.
        guard let h = holes.firstIndex(where: { $0.1 >= pages + 1 }) else {
            lock.unlock()
            kernel.log.report(.warning, "vmap allocation for size \(pages * PAGE_SIZE) failed: use vmalloc=<size> to increase size")
            pfns.forEach { kernel.freePages(cpu, kernel.pageRef(pfn: $0), order: 0) }
            return nil
        }
        let offset = holes[h].0
        holes[h] = (offset + pages + 1, holes[h].1 - pages - 1)
        if holes[h].1 == 0 { holes.remove(at: h) }
        let address = start + offset * PAGE_SIZE
        areas[UInt(bitPattern: address)] = Area(offset: offset, pages: pages, pfns: pfns)
        allocations += 1
        mappedPages += pages
        lock.unlock()
        do { try mapper.map(pfns, at: address, cpu: cpu) } catch {
            kernel.log.report(.warning, "vmalloc: \(error)")
            vfree(cpu, address)
            return nil
        }
        return address
    }

    /// `vzalloc(size)`.
    public func vzalloc(_ cpu: CPUContext, _ size: Int) -> UnsafeMutableRawPointer? { vmalloc(cpu, size, gfp: [.kernel, .zero]) }

    /// `vfree(addr)`: unmap, free the pages, release the range. An address that is not the
    /// start of an area is reported ("Trying to vfree() nonexistent vm area").
    ///
    /// Context, as in Linux 6.12: from an interrupt handler the free is handed to
    /// `vfree_atomic()` (unmapping waits for other CPUs' TLB flushes, which an interrupt
    /// handler cannot); from any other atomic context `might_sleep()` reports the caller.
    /// The kernel runs the deferred frees from a work item; the model runs them at the next
    /// vmalloc or vfree in process context, or at `runDeferred` (the end of a run).
    public func vfree(_ cpu: CPUContext, _ address: UnsafeMutableRawPointer?) {
        if cpu.inInterrupt { vfreeAtomic(address); return }
        cpu.mightSleep(log: kernel.log, at: "mm/vmalloc.c vfree")
        guard let address else { return }
        if !cpu.inAtomic { runDeferred(cpu) }
        free(cpu, address)
    }

    /// `vfree_atomic(addr)`: queue the area for process context.
    public func vfreeAtomic(_ address: UnsafeMutableRawPointer?) {
        guard let address else { return }
        lock.lock()
        deferred.append(address)
        deferredFrees += 1
        lock.unlock()
    }

    /// `delayed_vfree_work()`: the frees queued from interrupt context. Process context only.
    public func runDeferred(_ cpu: CPUContext) {
        lock.lock()
        let queued = deferred
        deferred.removeAll()
        lock.unlock()
        for a in queued { free(cpu, a) }
    }

    /// Frees queued by `vfree_atomic()` and not yet run.
    public var pendingDeferred: Int { lock.lock(); defer { lock.unlock() }; return deferred.count }

    private func free(_ cpu: CPUContext, _ address: UnsafeMutableRawPointer) {
        lock.lock()
        guard let area = areas.removeValue(forKey: UInt(bitPattern: address)) else {
            lock.unlock()
            kernel.log.report(.warning, "WARNING: Trying to vfree() nonexistent vm area (0x\(String(UInt(bitPattern: address), radix: 16)))")
            return
        }
        allocations -= 1
        mappedPages -= area.pages
        lock.unlock()
        // The pages go back at once; the address range only once no TLB can still map it.
        mapper.unmap(at: address, pages: area.pages, cpu: cpu) { [self] in releaseRange(offset: area.offset, pages: area.pages + 1) }
        for pfn in area.pfns { kernel.freePages(cpu, kernel.pageRef(pfn: pfn), order: 0) }
    }

    func releaseRange(offset: Int, pages: Int) {
        lock.lock()
        holes.append((offset, pages))
        holes.sort { $0.0 < $1.0 }
        var merged: [(Int, Int)] = []
        for h in holes {
            if let last = merged.last, last.0 + last.1 == h.0 { merged[merged.count - 1].1 += h.1 } else { merged.append(h) }
        }
        holes = merged
        lock.unlock()
    }

    /// `vmalloc_to_page()`: the PFN behind a vmalloc address.
    public func vmallocToPFN(_ address: UnsafeRawPointer) -> Int? {
        let off = address - UnsafeRawPointer(start)
        guard off >= 0 && off < bytes else { return nil }
        lock.lock(); defer { lock.unlock() }
        for (base, a) in areas {
            let rel = Int(bitPattern: UInt(bitPattern: address)) - Int(bitPattern: base)
            if rel >= 0 && rel < a.pages * PAGE_SIZE { return a.pfns[rel / PAGE_SIZE] }
        }
        return nil
    }
}

