/// Which misuse a cache's debug flags let SLUB see (`kmem_cache_debug_flags()`), asked by code
/// that provokes misuse on purpose and must know whether the cache would notice. Without the
/// flag, a real kernel lets the bug through silently (and corrupts memory); a caller that
/// cannot afford the corruption must not commit the bug there.
public struct SlabDebugChecks: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// SLAB_RED_ZONE: a write past the object's end is caught when it is freed.
    public static let redZone = SlabDebugChecks(rawValue: 1)
    /// SLAB_POISON (no constructor): a write into a free object is caught when it is
    /// allocated again, or when its slab is discarded under SLAB_CONSISTENCY_CHECKS.
    public static let poison = SlabDebugChecks(rawValue: 2)
    /// A per-object state (SLUB's `on_freelist()` and `check_valid_pointer()` under
    /// SLAB_CONSISTENCY_CHECKS): double frees and pointers into an object's middle are refused.
    public static let freeState = SlabDebugChecks(rawValue: 4)
}

extension KmemCache {
    public var debugChecks: SlabDebugChecks {
        var c: SlabDebugChecks = []
        if flags.contains(.redZone) && layout.rightRedZone > 0 { c.insert(.redZone) }
        if flags.contains(.poison) && ctor == nil && flags.contains(.consistencyChecks) { c.insert(.poison) }
        if layout.stateOffset != nil { c.insert(.freeState) }
        return c
    }

    /// The object lies in the slab `cpu` is allocating from (`c->slab`): freed there, it goes
    /// onto that CPU's own freelist, where no other CPU can take it or discard its slab.
    public func inCPUSlab(_ cpu: CPUContext, _ obj: UnsafeRawPointer) -> Bool {
        let c = percpu[cpu.id]
        return UInt(bitPattern: obj) &- c.slabBase < c.slabBytes
    }
}

extension SlabAllocator {
    /// `virt_to_cache()`: the cache whose slab holds `p`, nil when `p` is no slab memory.
    public func cacheOf(_ p: UnsafeRawPointer) -> KmemCache? {
        guard var pfn = kernel.virtToPFN(p) else { return nil }
        var page = kernel.pfnToPage(pfn)
        if page.pointee.flags.contains(.slabTail) { pfn = Int(page.pointee.next); page = kernel.pfnToPage(pfn) }
        guard page.pointee.flags.contains(.slab) else { return nil }
        return cache(id: page.pointee.cacheID)
    }
}
