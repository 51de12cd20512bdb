/// A page frame number: index of a 4 KiB frame in the modelled physical address space.
/// Each zone owns a contiguous PFN range (`zone_start_pfn`).
public struct PFN: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var raw: Int
    @inlinable public init(_ raw: Int) { self.raw = raw }
    @inlinable public static func < (a: PFN, b: PFN) -> Bool { a.raw < b.raw }
    public var description: String { String(format: "pfn:%#x", raw) }
}

/// Page flags we model, a subset of include/linux/page-flags.h.
public struct PageFlags: OptionSet, Sendable {
    public let rawValue: UInt16
    @inlinable public init(rawValue: UInt16) { self.rawValue = rawValue }
    /// Sits on a per-CPU page list (not in the buddy free areas, not in use).
    @inlinable public static var pcp: PageFlags { PageFlags(rawValue: 1 << 1) }
    /// Head of an allocated block.
    @inlinable public static var head: PageFlags { PageFlags(rawValue: 1 << 2) }
    /// Used by the slab allocator (`PageSlab`).
    @inlinable public static var slab: PageFlags { PageFlags(rawValue: 1 << 3) }
    /// Mapped into a page table.
    @inlinable public static var mapped: PageFlags { PageFlags(rawValue: 1 << 4) }
    /// A tail page of a multi-page slab; `next` holds the head's PFN (`compound_head()`).
    @inlinable public static var slabTail: PageFlags { PageFlags(rawValue: 1 << 5) }
    /// An anonymous page of a user mapping, which compaction may migrate (`PageLRU` on an
    /// anonymous folio): `slabCache` holds its address space and `privateWord` its address,
    /// the model's reverse map (`folio->mapping` / `folio->index`).
    @inlinable public static var movable: PageFlags { PageFlags(rawValue: 1 << 6) }

}

/// `struct page`, reduced to what the allocators need, 40 bytes, kept in one flat unsafe buffer
/// per zone (the `mem_map` of FLATMEM), never an object per page. Links are zone-local indexes.
///
/// Ownership, as in the kernel: `buddyOrder` (PageBuddy + buddy_order) changes only under the
/// zone lock, and the zone lock holder reads it on any page while merging; every other field
/// belongs to whoever owns the page (the allocating CPU, a PCP list's CPU, the slab).
public struct Page {
    public var flags: PageFlags
    /// 1 while a slab sits on its node's partial list: changed and read under that list's lock
    /// only, so it lives apart from `flags`, which lock-free paths read.
    public var onPartial: UInt8
    /// Order of an allocation (valid on the head page).
    public var order: Int8
    /// Order of the free block this page heads in the buddy free areas, or -1 (`PageBuddy`).
    public var buddyOrder: Int8
    /// PCP list it sits on, or the per-CPU owner of a slab.
    public var owner: Int16
    public var refcount: Int32
    /// Next/prev in a free list or a slab partial list; -1 for none.
    public var next: Int32
    public var prev: Int32
    /// Slab cache id of a slab page (`slab->slab_cache`), -1 otherwise.
    public var cacheID: Int32
    /// The cache itself (`slab->slab_cache`), unretained, so that kfree needs no table lookup.
    public var slabCache: UnsafeRawPointer?
    /// Slab use: freelist head and counters in one word, changed by cmpxchg (SLUB's
    /// `freelist_counters`); free for other users.
    public var privateWord: UInt64

    public init(flags: PageFlags = [], order: Int8 = 0, owner: Int16 = -1, refcount: Int32 = 0,
                next: Int32 = -1, prev: Int32 = -1, privateWord: UInt64 = 0) {
        self.flags = flags; self.onPartial = 0; self.order = order; self.buddyOrder = -1; self.owner = owner; self.refcount = refcount
        self.next = next; self.prev = prev; self.cacheID = -1; self.slabCache = nil; self.privateWord = privateWord
    }

    public static var empty: Page { Page() }
}

/// Size of a base page, as on x86-64.
public let PAGE_SHIFT = 12
public let PAGE_SIZE = 1 << PAGE_SHIFT
