/// Per-zone watermarks (`zone->_watermark[WMARK_MIN/LOW/HIGH]`), computed as
/// `__setup_per_zone_wmarks()` does, or given by a config.
public struct Watermarks: Sendable, Codable, Equatable {
    public var min: Int
    public var low: Int
    public var high: Int

    public init(min: Int, low: Int, high: Int) { self.min = min; self.low = low; self.high = high }

    /// `min_free_kbytes = sqrt(lowmem_kbytes * 16)`, clamped to [128 KiB, 256 MiB]
    /// (`calculate_min_free_kbytes()`), shared among zones by size; low and high add
    /// `max(min/4, managed * watermark_scale_factor / 10000)` once and twice (factor 10).
    public static func computed(zonePages: Int, totalPages: Int) -> Watermarks {
        let lowmemKB = totalPages * (PAGE_SIZE / 1024)
        let minFreeKB = Swift.min(Swift.max(Int(Double(lowmemKB * 16).squareRoot()), 128), 262_144)
        let minPagesAll = minFreeKB / (PAGE_SIZE / 1024)
        let minPages = totalPages == 0 ? 0 : minPagesAll * zonePages / totalPages
        let delta = Swift.max(minPages / 4, zonePages * 10 / 10_000)
        return Watermarks(min: minPages, low: minPages + delta, high: minPages + 2 * delta)
    }
}

/// What an allocation attempt may dip into, `ALLOC_*` of mm/internal.h.
public struct AllocFlags: OptionSet, Sendable {
    public let rawValue: UInt8
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// Check against the low watermark (fast path) instead of min (slow path).
    @inlinable public static var wmarkLow: AllocFlags { AllocFlags(rawValue: 1 << 0) }
    /// `ALLOC_MIN_RESERVE` from __GFP_HIGH: may use half of min.
    @inlinable public static var minReserve: AllocFlags { AllocFlags(rawValue: 1 << 1) }
    /// `ALLOC_NON_BLOCK`: the caller cannot reclaim, so with MIN_RESERVE a further quarter.
    @inlinable public static var nonBlock: AllocFlags { AllocFlags(rawValue: 1 << 2) }
    /// `ALLOC_NO_WATERMARKS` (__GFP_MEMALLOC): ignore watermarks.
    @inlinable public static var noWatermarks: AllocFlags { AllocFlags(rawValue: 1 << 3) }
    /// `ALLOC_HIGHATOMIC`: a non-blocking high-order allocation may take the high-atomic
    /// reserve, and reserves a pageblock for the next one when it succeeds.
    @inlinable public static var highAtomic: AllocFlags { AllocFlags(rawValue: 1 << 4) }
    /// `ALLOC_OOM`: an OOM victim on its way out may go a further half below min and use the
    /// high-atomic reserve. The model has no OOM killer: only callers that pass it get it.
    @inlinable public static var oom: AllocFlags { AllocFlags(rawValue: 1 << 5) }
    /// `ALLOC_RESERVES`: any of the rights to dip below min.
    @inlinable public static var reserves: AllocFlags { [.nonBlock, .minReserve, .highAtomic, .oom] }

    /// `gfp_to_alloc_flags()` for the slow path (Linux 6.12): __GFP_HIGH gives MIN_RESERVE; a
    /// caller that cannot reclaim gets NON_BLOCK unless it said __GFP_NOMEMALLOC ("not worth
    /// trying harder"). ALLOC_HIGHATOMIC and ALLOC_OOM are not modelled here; ALLOC_CPUSET
    /// and ALLOC_KSWAPD have no effect in a model without cpusets and with kswapd woken by the
    /// caller.
    @inlinable public static func slowPath(_ gfp: GFP) -> AllocFlags {
        var f: AllocFlags = []
        if gfp.contains(.high) { f.insert(.minReserve) }
        if !gfp.contains(.directReclaim) && !gfp.contains(.nomemalloc) { f.insert(.nonBlock) }
        if gfp.contains(.memalloc) && !gfp.contains(.nomemalloc) { f.insert(.noWatermarks) }
        return f
    }

    /// `gfp_to_alloc_flags()` for the slow path of an allocation of `order`: the above, and
    /// ALLOC_HIGHATOMIC for a non-blocking high-order request that did not refuse reserves
    /// with __GFP_NOMEMALLOC (6.12).
    @inlinable public static func slowPath(_ gfp: GFP, order: Int) -> AllocFlags {
        var f = slowPath(gfp)
        if !gfp.contains(.directReclaim) && !gfp.contains(.nomemalloc) && order > 0 { f.insert(.highAtomic) }
        return f
    }
}
