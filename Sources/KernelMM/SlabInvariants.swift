/// Slab consistency checks (`validate_slab_cache()` itself is in SlabValidate.swift): slab
/// counters equal a recount of the slab pages in `mem_map`, and no cache still has objects out
/// — beyond those SLUB's debug code refused to free, which the kernel leaves allocated for good.
extension SlabAllocator {
    public func checkSlabs(expectEmpty: Bool) -> [String] {
        var out: [String] = []
        var counted: [Int32: Int] = [:]
        for pfn in 0..<kernel.physicalPages where kernel.pfnToPage(pfn).pointee.flags.contains(.slab) {
            counted[kernel.pfnToPage(pfn).pointee.cacheID, default: 0] += 1
        }
        for c in allCaches {
            if counted[c.id, default: 0] != c.slabs {
                out.append("cache \(c.name): \(c.slabs) slab(s) counted, \(counted[c.id, default: 0]) slab page(s) in mem_map")
            }
            let left = c.objectsInUse - c.refusedFrees
            if expectEmpty && left != 0 { out.append("cache \(c.name): \(left) object(s) not freed") }
        }
        return out
    }

    /// Pages of the slabs still held at the end of a run by caches whose debug checks refused a
    /// free of a live object or took a slab out of service: the kernel never gets those back.
    public var debugKeptSlabPages: Int {
        allCaches.filter { $0.refusedFrees > 0 || $0.disabledSlabs > 0 }.reduce(0) { $0 + $1.slabs << $1.layout.order }
    }
}
