/// A pageblock's and a free list's mobility class (`enum migratetype`, include/linux/mmzone.h),
/// as a 6.12 kernel built with CONFIG_MEMORY_ISOLATION and without CONFIG_CMA has them: the
/// three PCP types, the high-order atomic reserve and the isolation type. Free lists are kept
/// per order and per type, and every free block sits on the list of its pageblock's type
/// (the rule 6.10 made strict: a pageblock changing type moves its free pages with it).
public enum MigrateType: Int, CaseIterable, Sendable, Codable, CustomStringConvertible {
    case unmovable = 0
    case movable = 1
    case reclaimable = 2
    /// MIGRATE_HIGHATOMIC: pageblocks set aside for high-order atomic allocations.
    case highAtomic = 3
    /// MIGRATE_ISOLATE: used by memory offlining and `alloc_contig_range()`, which the model
    /// does not do (6.12 compaction isolates free pages off the lists without it), so its lists
    /// stay empty; they exist so that /proc/pagetypeinfo has the kernel's columns.
    case isolate = 4

    /// MIGRATE_PCPTYPES: the types that have per-CPU lists and that allocations ask for.
    public static let pcpTypes = 3
    /// MIGRATE_TYPES.
    public static let count = 5

    /// `gfp_migratetype()`: bits __GFP_MOVABLE (0x08) and __GFP_RECLAIMABLE (0x10) shifted
    /// down by GFP_MOVABLE_SHIFT give the type directly. Both at once is a kernel bug
    /// (VM_WARN_ON); the model reads it as movable, as the mask's low bit says.
    @inline(__always) public static func index(gfp: GFP) -> Int {
        let bits = Int((gfp.rawValue >> 3) & 3)
        return bits == 3 ? MigrateType.movable.rawValue : bits
    }

    public init(gfp: GFP) { self = MigrateType(rawValue: Self.index(gfp: gfp))! }

    /// `migratetype_names[]` (mm/page_alloc.c), the spelling /proc/pagetypeinfo uses.
    public var description: String { ["Unmovable", "Movable", "Reclaimable", "HighAtomic", "Isolate"][rawValue] }

    /// `migratetype_is_mergeable()`: buddies of different types merge across pageblocks only
    /// when both types are PCP types.
    @inline(__always) public static func isMergeable(_ mt: Int) -> Bool { mt < pcpTypes }

    /// `fallbacks[]` of 6.12: where an allocation of each PCP type looks when its own lists
    /// are empty, in order.
    public static let fallbacks: [[MigrateType]] = [
        [.reclaimable, .movable],    // unmovable
        [.reclaimable, .unmovable],  // movable
        [.unmovable, .movable],      // reclaimable
    ]
}
