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
    /// Failure to create the cache is fatal.
    @inlinable public static var panic: SlabFlags { SlabFlags(rawValue: 0x0004_0000) }

    /// Flags that take the cache off the lock-free fast path to check every object.
    @inlinable public static var debug: SlabFlags { [.consistencyChecks, .redZone, .poison] }

    public static let names: [(String, SlabFlags)] = [
        ("SLAB_CONSISTENCY_CHECKS", .consistencyChecks), ("SLAB_DEBUG_FREE", .consistencyChecks),
        ("SLAB_RED_ZONE", .redZone), ("SLAB_POISON", .poison), ("SLAB_NO_REAP", .noReap),
        ("SLAB_HWCACHE_ALIGN", .hwcacheAlign), ("SLAB_CACHE_DMA", .cacheDMA),
        ("SLAB_MUST_HWCACHE_ALIGN", .mustHwcacheAlign), ("SLAB_PANIC", .panic),
    ]

    public static func named(_ name: String) -> SlabFlags? { names.first { $0.0 == name }?.1 }

    public var description: String {
        var seen = SlabFlags()
        var parts: [String] = []
        for (n, f) in Self.names where contains(f) && !seen.contains(f) { parts.append(n); seen.insert(f) }
        return parts.isEmpty ? "0" : parts.joined(separator: "|")
    }
}

/// Values SLUB writes into objects and guard bytes (include/linux/poison.h).
public enum SlabPoison {
    public static let free: UInt8 = 0x6b       // POISON_FREE
    public static let end: UInt8 = 0xa5        // POISON_END
    public static let redInactive: UInt8 = 0xbb  // SLUB_RED_INACTIVE
    public static let redActive: UInt8 = 0xcc    // SLUB_RED_ACTIVE
}
