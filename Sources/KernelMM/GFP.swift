/// Allocation-context flags with the bit values of include/linux/gfp_types.h (Linux 6.x, where
/// bit 0x200 — the old __GFP_ATOMIC — is unused), the composites of the same header, parsing of
/// `"GFP_KERNEL | __GFP_ZERO"` and printing like the kernel's `%pGg`.
public struct GFP: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }

    // Zone modifiers.
    @inlinable public static var dma: GFP { GFP(rawValue: 0x01) }            // __GFP_DMA
    @inlinable public static var highmem: GFP { GFP(rawValue: 0x02) }        // __GFP_HIGHMEM
    @inlinable public static var dma32: GFP { GFP(rawValue: 0x04) }          // __GFP_DMA32
    @inlinable public static var movable: GFP { GFP(rawValue: 0x08) }        // __GFP_MOVABLE
    // Action and reclaim modifiers.
    @inlinable public static var reclaimable: GFP { GFP(rawValue: 0x10) }    // __GFP_RECLAIMABLE
    @inlinable public static var high: GFP { GFP(rawValue: 0x20) }           // __GFP_HIGH
    @inlinable public static var io: GFP { GFP(rawValue: 0x40) }             // __GFP_IO
    @inlinable public static var fs: GFP { GFP(rawValue: 0x80) }             // __GFP_FS
    @inlinable public static var zero: GFP { GFP(rawValue: 0x100) }          // __GFP_ZERO
    @inlinable public static var directReclaim: GFP { GFP(rawValue: 0x400) } // __GFP_DIRECT_RECLAIM
    @inlinable public static var kswapdReclaim: GFP { GFP(rawValue: 0x800) } // __GFP_KSWAPD_RECLAIM
    @inlinable public static var write: GFP { GFP(rawValue: 0x1000) }        // __GFP_WRITE
    @inlinable public static var nowarn: GFP { GFP(rawValue: 0x2000) }       // __GFP_NOWARN
    @inlinable public static var retryMayfail: GFP { GFP(rawValue: 0x4000) } // __GFP_RETRY_MAYFAIL
    @inlinable public static var nofail: GFP { GFP(rawValue: 0x8000) }       // __GFP_NOFAIL
    @inlinable public static var noretry: GFP { GFP(rawValue: 0x10000) }     // __GFP_NORETRY
    @inlinable public static var memalloc: GFP { GFP(rawValue: 0x20000) }    // __GFP_MEMALLOC
    @inlinable public static var comp: GFP { GFP(rawValue: 0x40000) }        // __GFP_COMP
    @inlinable public static var nomemalloc: GFP { GFP(rawValue: 0x80000) }  // __GFP_NOMEMALLOC
    @inlinable public static var hardwall: GFP { GFP(rawValue: 0x100000) }   // __GFP_HARDWALL
    @inlinable public static var thisnode: GFP { GFP(rawValue: 0x200000) }   // __GFP_THISNODE
    @inlinable public static var account: GFP { GFP(rawValue: 0x400000) }    // __GFP_ACCOUNT
    @inlinable public static var zerotags: GFP { GFP(rawValue: 0x800000) }   // __GFP_ZEROTAGS

    @inlinable public static var reclaim: GFP { [.directReclaim, .kswapdReclaim] }          // __GFP_RECLAIM
    @inlinable public static var zoneMask: GFP { [.dma, .highmem, .dma32, .movable] }        // GFP_ZONEMASK

    // Composites, include/linux/gfp_types.h.
    @inlinable public static var atomic: GFP { [.high, .kswapdReclaim] }                    // GFP_ATOMIC 0x820
    @inlinable public static var kernel: GFP { [.reclaim, .io, .fs] }                       // GFP_KERNEL 0xcc0
    @inlinable public static var kernelAccount: GFP { [.kernel, .account] }                 // GFP_KERNEL_ACCOUNT
    @inlinable public static var nowait: GFP { [.kswapdReclaim] }                           // GFP_NOWAIT 0x800
    @inlinable public static var noio: GFP { [.reclaim] }                                   // GFP_NOIO 0xc00
    @inlinable public static var nofs: GFP { [.reclaim, .io] }                              // GFP_NOFS 0xc40
    @inlinable public static var user: GFP { [.reclaim, .io, .fs, .hardwall] }              // GFP_USER
    @inlinable public static var dmaZone: GFP { [.dma] }                                    // GFP_DMA
    @inlinable public static var dma32Zone: GFP { [.dma32] }                                // GFP_DMA32
    @inlinable public static var highuser: GFP { [.user, .highmem] }                        // GFP_HIGHUSER
    @inlinable public static var highuserMovable: GFP { [.highuser, .movable] }             // GFP_HIGHUSER_MOVABLE
    @inlinable public static var transhugeLight: GFP {
        GFP([.highuserMovable, .comp, .nomemalloc, .nowarn]).subtracting(.reclaim)
    }  // GFP_TRANSHUGE_LIGHT
    @inlinable public static var transhuge: GFP { [.transhugeLight, .directReclaim] }       // GFP_TRANSHUGE

    /// The caller may sleep: it may block on a sleeping lock, reclaim and wait for free pages.
    @inlinable public var allowsBlocking: Bool { contains(.directReclaim) }
}

/// A GFP mask the kernel would refuse or warn about.
public struct GFPError: Error, Sendable, CustomStringConvertible, Equatable {
    public let message: String
    public var description: String { message }
}

extension GFP {
    /// Names in the order of `__def_gfpflag_names` (include/trace/events/mmflags.h, Linux 6.12,
    /// without the CONFIG_KASAN_HW_TAGS names): composites first, so that `%pGg` prints the
    /// largest name that covers a set of bits, then single bits in the header's order
    /// (`…|__GFP_HARDWALL|__GFP_THISNODE|…`).
    public static let names: [(String, GFP)] = [
        ("GFP_TRANSHUGE", .transhuge), ("GFP_TRANSHUGE_LIGHT", .transhugeLight),
        ("GFP_HIGHUSER_MOVABLE", .highuserMovable), ("GFP_HIGHUSER", .highuser), ("GFP_USER", .user),
        ("GFP_KERNEL_ACCOUNT", .kernelAccount), ("GFP_KERNEL", .kernel), ("GFP_NOFS", .nofs),
        ("GFP_ATOMIC", .atomic), ("GFP_NOIO", .noio), ("GFP_NOWAIT", .nowait), ("GFP_DMA", .dmaZone),
        ("__GFP_HIGHMEM", .highmem), ("GFP_DMA32", .dma32Zone), ("__GFP_HIGH", .high), ("__GFP_IO", .io),
        ("__GFP_FS", .fs), ("__GFP_NOWARN", .nowarn), ("__GFP_RETRY_MAYFAIL", .retryMayfail),
        ("__GFP_NOFAIL", .nofail), ("__GFP_NORETRY", .noretry), ("__GFP_COMP", .comp), ("__GFP_ZERO", .zero),
        ("__GFP_NOMEMALLOC", .nomemalloc), ("__GFP_MEMALLOC", .memalloc), ("__GFP_HARDWALL", .hardwall),
        ("__GFP_THISNODE", .thisnode),
        ("__GFP_RECLAIMABLE", .reclaimable), ("__GFP_MOVABLE", .movable), ("__GFP_ACCOUNT", .account),
        ("__GFP_WRITE", .write), ("__GFP_RECLAIM", .reclaim), ("__GFP_DIRECT_RECLAIM", .directReclaim),
        ("__GFP_KSWAPD_RECLAIM", .kswapdReclaim), ("__GFP_ZEROTAGS", .zerotags),
        // Accepted when parsing; covered by the composites above when printing.
        ("__GFP_DMA", .dma), ("__GFP_DMA32", .dma32),
    ]

    /// The flag names as `%pGg` prints them: "GFP_KERNEL|__GFP_ZERO", "none" for 0.
    public var flagNames: String {
        var rest = rawValue
        var parts: [String] = []
        for (name, mask) in Self.names where mask.rawValue != 0 && rest & mask.rawValue == mask.rawValue {
            parts.append(name)
            rest &= ~mask.rawValue
        }
        if rest != 0 { parts.append(String(format: "%#x", rest)) }
        return parts.isEmpty ? "none" : parts.joined(separator: "|")
    }

    /// `mode:0xcc0(GFP_KERNEL)`, as warn_alloc() and the OOM report print a mask.
    public var modeString: String { String(format: "mode:%#x(%@)", rawValue, flagNames) }

    /// Parses `"GFP_KERNEL | __GFP_ZERO"`, a hex number, or a mix, then validates.
    public static func parse(_ text: String) throws -> GFP {
        let byName = Dictionary(names.map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a })
        var gfp = GFP()
        let parts = text.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard !parts.isEmpty, !parts.contains(where: \.isEmpty) else {
            throw GFPError(message: "empty GFP mask \"\(text)\" (expected e.g. GFP_KERNEL | __GFP_ZERO)")
        }
        for p in parts {
            if let f = byName[p] { gfp.formUnion(f); continue }
            if p.hasPrefix("0x"), let v = UInt32(p.dropFirst(2), radix: 16) { gfp.formUnion(GFP(rawValue: v)); continue }
            let close = byName.keys.filter { $0.hasSuffix(p.replacingOccurrences(of: "__GFP_", with: "").replacingOccurrences(of: "GFP_", with: "")) }.sorted()
            throw GFPError(message: "unknown GFP flag \(p)" + (close.isEmpty ? " (expected GFP_KERNEL, GFP_ATOMIC, __GFP_ZERO…)" : " (did you mean \(close[0])?)"))
        }
        try gfp.validate()
        return gfp
    }

    /// Refuses masks the kernel treats as bugs: two zone modifiers at once (GFP_ZONE_BAD in
    /// include/linux/gfp.h), __GFP_NOFAIL with __GFP_NORETRY, __GFP_NOFAIL that cannot reclaim
    /// (both WARN_ON_ONCE in __alloc_pages_slowpath), and bits no flag uses.
    public func validate() throws {
        let zones = intersection([.dma, .dma32, .highmem])
        if zones.rawValue.nonzeroBitCount > 1 {
            throw GFPError(message: "invalid GFP mask \(modeString): more than one zone modifier (GFP_ZONE_BAD)")
        }
        if contains(.nofail) && contains(.noretry) {
            throw GFPError(message: "invalid GFP mask \(modeString): __GFP_NOFAIL contradicts __GFP_NORETRY")
        }
        if contains(.nofail) && !contains(.directReclaim) {
            throw GFPError(message: "invalid GFP mask \(modeString): __GFP_NOFAIL needs __GFP_DIRECT_RECLAIM")
        }
        let known = Self.names.reduce(GFP()) { $0.union($1.1) }
        if !subtracting(known).isEmpty {
            throw GFPError(message: String(format: "invalid GFP mask %@: unknown bits %#x", modeString, subtracting(known).rawValue))
        }
    }
}

/// How the run groups allocations for counters and latency: the three behaviours GFP selects.
public enum GFPClass: Int, CaseIterable, Sendable, Codable, CustomStringConvertible {
    /// No direct reclaim, may use reserves (__GFP_HIGH): GFP_ATOMIC.
    case atomic
    /// No direct reclaim, no reserves: GFP_NOWAIT.
    case nowait
    /// May sleep and reclaim: GFP_KERNEL, GFP_NOFS, GFP_NOIO, GFP_USER…
    case blocking

    @inlinable public init(_ gfp: GFP) {
        if gfp.contains(.directReclaim) { self = .blocking } else { self = gfp.contains(.high) ? .atomic : .nowait }
    }

    public var description: String { ["atomic", "nowait", "blocking"][rawValue] }
}

import Foundation
