/// Which misuse a cache's debug flags let SLUB see (`kmem_cache_debug_flags()`), asked by code
/// that provokes misuse on purpose and must know whether the cache would notice. Without the
/// flag, a real kernel lets the bug through silently (and corrupts memory); a caller that
/// cannot afford the corruption must not commit the bug there. In Linux 6.12 every one of
/// these checks runs only under SLAB_CONSISTENCY_CHECKS (F): `alloc_debug_processing()` calls
/// `check_object()` and `free_debug_processing()` calls `free_consistency_checks()` only with
/// it; Z and P alone only lay out and fill the red zones and poison.
public struct SlabDebugChecks: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// SLAB_RED_ZONE with SLAB_CONSISTENCY_CHECKS: a write past the object's end is caught
    /// when it is freed (`check_object(…, SLUB_RED_ACTIVE)`).
    public static let redZone = SlabDebugChecks(rawValue: 1)
    /// SLAB_POISON (no constructor) with SLAB_CONSISTENCY_CHECKS: a write into a free object
    /// is caught when it is allocated again, or when its slab is discarded (`free_slab()`).
    public static let poison = SlabDebugChecks(rawValue: 2)
    /// SLAB_CONSISTENCY_CHECKS: `free_consistency_checks()` refuses a double free
    /// (`on_freelist()`) and a pointer into an object's middle (`check_valid_pointer()`).
    public static let freeState = SlabDebugChecks(rawValue: 4)
}

extension KmemCache {
    public var debugChecks: SlabDebugChecks {
        guard flags.contains(.consistencyChecks) else { return [] }
        var c: SlabDebugChecks = [.freeState]
        if flags.contains(.redZone) && layout.rightRedZone > 0 { c.insert(.redZone) }
        if layout.objectPoison { c.insert(.poison) }
        return c
    }

    /// The addresses of the slab `obj` lies in (`virt_to_slab()`: all its pages), nil when
    /// `obj` is no slab memory.
    public func slabRange(_ obj: UnsafeRawPointer) -> Range<UInt>? {
        guard let pfn = kernel.slabHeadPFN(obj) else { return nil }
        let base = UInt(bitPattern: slabBase(pfn))
        return base..<base + UInt(KernelMM.PAGE_SIZE << layout.order)
    }

    /// Whether `obj`'s slab was taken out of service by a failed allocation check
    /// (`alloc_debug_processing()`: "Marking all objects used", the slab frozen): from then on
    /// `check_slab()` refuses every free into it before any object check, and none of its
    /// objects is handed out or checked again, so misuse there goes unseen. Only a debug
    /// cache's slabs are frozen that way (a fast cache's frozen slab is a CPU's own). Ask with
    /// the slab held (`withSlabHeld`), or the answer may be stale.
    public func slabDisabled(_ obj: UnsafeRawPointer) -> Bool {
        guard !fastPath, let pfn = kernel.slabHeadPFN(obj) else { return false }
        return load(pfn).frozen
    }
}

extension SlabAllocator {
    /// `virt_to_cache()`: the cache whose slab holds `p`, nil when `p` is no slab memory.
    public func cacheOf(_ p: UnsafeRawPointer) -> KmemCache? {
        guard let pfn = kernel.slabHeadPFN(p) else { return nil }
        return cache(id: kernel.pfnToPage(pfn).pointee.cacheID)
    }
}

extension Kernel {
    /// `virt_to_slab()` for the lookups off the allocation paths (misuse checks, fault
    /// injection): the PFN of the head page of the slab `p` lies in, nil when `p` is no slab
    /// memory. The free paths do the same inline, reading each page word once.
    func slabHeadPFN(_ p: UnsafeRawPointer) -> Int? {
        guard var pfn = virtToPFN(p) else { return nil }
        if pfnToPage(pfn).pointee.flags.contains(.slabTail) { pfn = Int(pfnToPage(pfn).pointee.next) }
        return pfnToPage(pfn).pointee.flags.contains(.slab) ? pfn : nil
    }
}
