/// Cache creation flags, with the values of include/linux/slab.h of Linux 2.6, the kernel
/// generation that still had every flag the seed names (SLAB_NO_REAP and SLAB_MUST_HWCACHE_ALIGN
/// were retired later; 0x1000 and 0x8000 mean other things in current kernels).
public struct SlabFlags: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Extra checks on every free (SLAB_DEBUG_FREE / today's SLAB_CONSISTENCY_CHECKS).
    @inlinable public static var consistencyChecks: SlabFlags { SlabFlags(rawValue: 0x0000_0100) }
    /// Guard bytes around each object: 0xbb while free, 0xcc while allocated.
    @inlinable public static var redZone: SlabFlags { SlabFlags(rawValue: 0x0000_0400) }
    /// Fill free objects with 0x6b (last byte 0xa5) and check it on allocation.
    @inlinable public static var poison: SlabFlags { SlabFlags(rawValue: 0x0000_0800) }
    /// Leave this cache alone when memory is reclaimed.
    @inlinable public static var noReap: SlabFlags { SlabFlags(rawValue: 0x0000_1000) }
    /// Align objects on cache lines (halved while two objects still fit one line).
    @inlinable public static var hwcacheAlign: SlabFlags { SlabFlags(rawValue: 0x0000_2000) }
    /// Slabs come from ZONE_DMA.
    @inlinable public static var cacheDMA: SlabFlags { SlabFlags(rawValue: 0x0000_4000) }
    /// Align objects on whole cache lines, whatever their size.
    @inlinable public static var mustHwcacheAlign: SlabFlags { SlabFlags(rawValue: 0x0000_8000) }
    /// Record where each object was last allocated and freed (`struct track` after the object).
    @inlinable public static var storeUser: SlabFlags { SlabFlags(rawValue: 0x0001_0000) }
    /// Failure to create the cache is fatal.
    @inlinable public static var panic: SlabFlags { SlabFlags(rawValue: 0x0004_0000) }
    /// Print every allocation and free of the cache (`slub_debug=T`).
    @inlinable public static var trace: SlabFlags { SlabFlags(rawValue: 0x0020_0000) }
    /// A kmalloc cache (Linux 6.12 `SLAB_KMALLOC`, set by `create_kmalloc_cache`): with
    /// SLAB_STORE_USER it keeps each object's requested size (`orig_size`). An internal bit here,
    /// never accepted from a config.
    @inlinable public static var kmalloc: SlabFlags { SlabFlags(rawValue: 0x8000_0000) }

    /// `SLAB_DEBUG_FLAGS` of Linux 6.12: any of them takes the cache off the per-CPU fast paths
    /// (no CPU slab, no per-CPU partials; every operation under the node's list lock).
    @inlinable public static var debug: SlabFlags { [.consistencyChecks, .redZone, .poison, .storeUser, .trace] }
    /// `DEBUG_DEFAULT_FLAGS`: what a bare `slub_debug` turns on (F, Z, P, U).
    @inlinable public static var debugDefault: SlabFlags { [.consistencyChecks, .redZone, .poison, .storeUser] }
    /// `DEBUG_METADATA_FLAGS`: the flags that add bytes to each slot (dropped by `slub_debug=O`).
    @inlinable public static var debugMetadata: SlabFlags { [.redZone, .poison, .storeUser] }

    public static let names: [(String, SlabFlags)] = [
        ("SLAB_CONSISTENCY_CHECKS", .consistencyChecks), ("SLAB_DEBUG_FREE", .consistencyChecks),
        ("SLAB_RED_ZONE", .redZone), ("SLAB_POISON", .poison), ("SLAB_NO_REAP", .noReap),
        ("SLAB_HWCACHE_ALIGN", .hwcacheAlign), ("SLAB_CACHE_DMA", .cacheDMA),
        ("SLAB_MUST_HWCACHE_ALIGN", .mustHwcacheAlign), ("SLAB_PANIC", .panic),
        ("SLAB_STORE_USER", .storeUser), ("SLAB_TRACE", .trace),
    ]

    public static func named(_ name: String) -> SlabFlags? { names.first { $0.0 == name }?.1 }

    public var description: String {
        var seen = SlabFlags()
        var parts: [String] = []
        for (n, f) in Self.names where contains(f) && !seen.contains(f) { parts.append(n); seen.insert(f) }
        if contains(.kmalloc) { parts.append("SLAB_KMALLOC") }
        return parts.isEmpty ? "0" : parts.joined(separator: "|")
    }
}

/// Values SLUB writes into objects and guard bytes (include/linux/poison.h).
public enum SlabPoison {
    public static let free: UInt8 = 0x6b       // POISON_FREE
    public static let end: UInt8 = 0xa5        // POISON_END
    public static let redInactive: UInt8 = 0xbb  // SLUB_RED_INACTIVE
    public static let redActive: UInt8 = 0xcc    // SLUB_RED_ACTIVE
    public static let inUse: UInt8 = 0x5a        // POISON_INUSE: padding and slab tail
}
