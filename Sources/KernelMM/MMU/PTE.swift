/// A page-table entry in the x86-64 format (arch/x86/include/asm/pgtable_types.h): the PFN in
/// bits 12–51 and the flag bits below and at 63.
public struct PTE: Equatable, Sendable {
    public var raw: UInt64
    @inlinable public init(raw: UInt64) { self.raw = raw }

    public static let present: UInt64 = 1 << 0     // _PAGE_PRESENT
    public static let writable: UInt64 = 1 << 1    // _PAGE_RW
    public static let user: UInt64 = 1 << 2        // _PAGE_USER
    public static let accessed: UInt64 = 1 << 5    // _PAGE_ACCESSED
    public static let dirty: UInt64 = 1 << 6       // _PAGE_DIRTY
    public static let huge: UInt64 = 1 << 7        // _PAGE_PSE: a 2 MiB mapping at the PMD
    public static let special: UInt64 = 1 << 9     // _PAGE_SPECIAL: no struct page to free (the zero page)
    public static let noExecute: UInt64 = 1 << 63  // _PAGE_NX
    /// A non-present entry that stands for a page under migration (the swap-entry encoding of
    /// a migration entry, here a software bit of its own, apart from _PAGE_SPECIAL's): the PFN
    /// stays, faults wait.
    public static let migration: UInt64 = 1 << 10
    static let pfnMask: UInt64 = 0x000F_FFFF_FFFF_F000

    @inlinable public init(pfn: Int, flags: UInt64) { raw = UInt64(pfn) << 12 & 0x000F_FFFF_FFFF_F000 | flags }

    public var isPresent: Bool { raw & Self.present != 0 }
    public var isWritable: Bool { raw & Self.writable != 0 }
    public var isHuge: Bool { raw & Self.huge != 0 }
    public var isSpecial: Bool { raw & Self.special != 0 }
    /// `is_migration_entry()`.
    public var isMigrationEntry: Bool { raw & (Self.present | Self.migration) == Self.migration }
    public var pfn: Int { Int((raw & Self.pfnMask) >> 12) }
}

/// Memory protection of a mapping (`PROT_READ`, `PROT_WRITE`).
public enum Protection: String, Sendable, Codable { case readWrite = "rw", readOnly = "ro" }

/// Where a mapping's pages come from (the `mbind()` modes, mm/mempolicy.c).
public enum MemPolicy: Sendable, Equatable, Codable {
    /// MPOL_LOCAL: the faulting CPU's node (first touch).
    case firstTouch
    /// MPOL_BIND: only this node.
    case bind(Int)
    /// MPOL_INTERLEAVE: page i of the mapping on nodes[i % count].
    case interleave([Int])
    /// MPOL_PREFERRED: this node first, then the zonelist.
    case preferred(Int)
}
