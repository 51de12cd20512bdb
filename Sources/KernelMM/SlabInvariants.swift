/// Slab consistency checks (the spirit of SLUB's `validate_slab_cache()`): slab counters equal
/// a recount of the slab pages in `mem_map`, and no cache still has objects out.
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
            if expectEmpty && c.objectsInUse != 0 { out.append("cache \(c.name): \(c.objectsInUse) object(s) not freed") }
        }
        return out
    }
}
