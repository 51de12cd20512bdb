import CArch

/// A zone's free areas without a lock (`locks: { zone: atomic }`), after the non-blocking buddy
/// system of Marotta, Ianni, Pellegrini and Quaglia (NBBS, IEEE CLUSTER 2018, arXiv 1804.03436).
/// Linux has no such policy: its buddy free areas live under `zone->lock` (mm/page_alloc.c); this
/// type is the third point of comparison beside `spin` and `mutex`.
///
/// The buddy tree is explicit: level `l` has one 32-bit word per naturally aligned block of 2^l
/// pages, level `maxOrder` holds the roots. A word says whether the block is handed out whole
/// (`taken`), whether something inside its left or right half is handed out (`usedLeft`,
/// `usedRight`), and whether a release below a half is climbing to merge (`mergingLeft`,
/// `mergingRight`). Every change is one compare-and-swap on one word; nothing waits for another
/// thread:
///
/// - allocation (`claim`) CASes a free block's word to taken, then climbs to the root setting the
///   used bit of the half it came from (and clearing that half's merging bit, which tells a
///   release climbing there that the half is in use again). Finding a taken ancestor means the
///   block lay inside an allocated one: it undoes its marks and the search skips that subtree.
/// - release (`release`) first marks merging on the ancestors while the buddy half is free (or
///   itself merging), then clears its own word, then climbs clearing used+merging bits for as
///   long as the merging bit it set is still there and the buddy half is free: that is the
///   coalescing, `__free_one_page()`'s merge loop without the lock.
///
/// Buddyinfo stays exact at quiescent points without walking anything: a free block of order
/// `l-1` is exactly a child of a level-`l` word whose used bits are "one half only", and a free
/// block of `maxOrder` is a root word with no used bits. Each successful CAS adds the change of
/// that predicate to `nr_free[order]`, so the counters equal the tree once no operation is in
/// flight (between two updates they may lag by the operations in flight, and even read -1, which
/// `nrFreeBlocks` clamps).
///
/// Departures from the paper: the search at one level starts at a roving per-order hint (next
/// fit) instead of the level's first node, and wraps around; before claiming a block it reads
/// the ancestors and skips the subtree of a taken one (the paper claims first and undoes); a climb step that would leave a
/// word unchanged is a load, not a CAS that writes the same value (semantically the same, but the
/// root's cache line is not written by every allocation); a block is claimed from any word with
/// no used bits (stale merging bits are overwritten) rather than only from an all-zero word; a
/// scan that found nothing starts again only if a release completed meanwhile (as the paper),
/// at most `maxRestarts` times. Departures from the kernel: no free lists, so no LIFO reuse of
/// the most recently freed (cache-hot) block and no smallest-block-first preference; a single
/// pool without migrate types: every pageblock stays MIGRATE_MOVABLE, so `/proc/pagetypeinfo`
/// shows all the zone's free blocks and pageblocks under Movable, a request of any type takes
/// from the one pool (no `__rmqueue_fallback()`, no extfrag events), there is no high-atomic
/// reserve, and compaction skips the zone (`compactionSuitableWatermark`: no free lists for
/// its free scanner). The per-CPU page lists keep their per-type split; pages freed there go
/// to the Movable list, their pageblock's type. Pages beyond the zone's end in the last root
/// are marked taken at boot and never freed, as the kernel never merges past `zone_end_pfn`.
public struct AtomicBuddy: @unchecked Sendable {
    @usableFromInline static let taken: UInt32 = 0x10
    @usableFromInline static let mergingLeft: UInt32 = 0x8
    @usableFromInline static let usedLeft: UInt32 = 0x2
    @usableFromInline static let used: UInt32 = 0x3
    @usableFromInline static let busy: UInt32 = 0x13
    /// Rescans after a release, before an allocation gives up (to the slow path).
    static let maxRestarts = 16

    public let pages: Int
    public let maxOrder: Int
    /// Root blocks of 2^maxOrder pages; the last one may reach past the zone's end.
    let roots: Int
    @usableFromInline let words: UnsafeMutablePointer<UInt32>
    /// First word of each level in `words`.
    @usableFromInline let levelBase: UnsafeMutablePointer<Int>
    /// Roving start of the search per order (next fit).
    @usableFromInline let hint: UnsafeMutablePointer<UInt64>
    /// Completed releases, so that a fruitless scan knows whether to look again.
    @usableFromInline let releases: UnsafeMutablePointer<UInt64>
    /// The zone's nr_free per order and NR_FREE_PAGES (the same memory as `ZoneCore`'s).
    @usableFromInline let freeBlocks: UnsafeMutablePointer<UInt64>
    @usableFromInline let nrFree: UnsafeMutablePointer<UInt64>
    @usableFromInline let stats: AtomicBuddyStats

    init(pages: Int, maxOrder: Int, freeBlocks: UnsafeMutablePointer<UInt64>, nrFree: UnsafeMutablePointer<UInt64>,
         statSlots: Int) {
        self.pages = pages
        self.maxOrder = maxOrder
        self.freeBlocks = freeBlocks
        self.nrFree = nrFree
        roots = Swift.max(1, (pages + (1 << maxOrder) - 1) >> maxOrder)
        levelBase = .allocate(capacity: maxOrder + 1)
        var total = 0
        for l in 0...maxOrder { levelBase[l] = total; total += roots << (maxOrder - l) }
        words = .allocate(capacity: total)
        words.initialize(repeating: 0, count: total)
        hint = .allocate(capacity: maxOrder + 1)
        hint.initialize(repeating: 0, count: maxOrder + 1)
        releases = .allocate(capacity: 1)
        releases.initialize(to: 0)
        stats = AtomicBuddyStats(slots: statSlots)
    }

    func deallocate() {
        words.deallocate(); levelBase.deallocate(); hint.deallocate(); releases.deallocate(); stats.deallocate()
    }

    /// Boot: every root free, then the part of the last root past the zone's end taken for good.
    func boot() {
        for o in 0...maxOrder { arch_store_relaxed_u64(freeBlocks + o, 0) }
        arch_store_relaxed_u64(freeBlocks + maxOrder, UInt64(roots))
        var tally = CASTally()
        var i = pages
        while i < roots << maxOrder {
            var o = maxOrder
            while o > 0 && i & ((1 << o) - 1) != 0 { o -= 1 }
            _ = claim(level: o, index: i >> o, &tally)
            i += 1 << o
        }
        arch_store_relaxed_u64(nrFree, UInt64(pages))
    }

    @inline(__always) func word(_ level: Int, _ k: Int) -> UnsafeMutablePointer<UInt32> { words + levelBase[level] + k }
    @inline(__always) func load(_ p: UnsafeMutablePointer<UInt32>) -> UInt32 { arch_load_acquire_u32(p) }
    @inline(__always) static func usedBit(_ side: Int) -> UInt32 { usedLeft >> UInt32(side) }
    @inline(__always) static func mergingBit(_ side: Int) -> UInt32 { mergingLeft >> UInt32(side) }

    /// One CAS, counted; on failure `expected` holds the word's value now.
    @inline(__always)
    func cas(_ p: UnsafeMutablePointer<UInt32>, _ expected: inout UInt32, _ new: UInt32, _ t: inout CASTally) -> Bool {
        arch_shake(20)
        t.attempts &+= 1
        if arch_cmpxchg_u32(p, &expected, new) { t.chain = 0; return true }
        t.failed()
        return false
    }

    // MARK: free-block accounting

    /// Does this word make one of its children a free block (exactly one half in use)?
    @inline(__always) static func halfUsed(_ w: UInt32) -> Bool {
        let b = w & busy
        return b == usedLeft || b == usedLeft >> 1
    }

    /// Adds to nr_free what a change of the word at `level` from `old` to `new` means.
    @inline(__always)
    func account(_ level: Int, _ old: UInt32, _ new: UInt32) {
        if level > 0, Self.halfUsed(old) != Self.halfUsed(new) {
            addBlocks(level - 1, Self.halfUsed(new) ? 1 : -1)
        }
        if level == maxOrder, (old & Self.busy == 0) != (new & Self.busy == 0) {
            addBlocks(maxOrder, new & Self.busy == 0 ? 1 : -1)
        }
    }

    @inline(__always) func addBlocks(_ order: Int, _ delta: Int) {
        _ = arch_fetch_add_u64(freeBlocks + order, UInt64(bitPattern: Int64(delta)))
    }

    // MARK: allocation

    /// `__rmqueue_smallest()` without the lock: a free block of `order` (its first page's index
    /// in the zone), or nil when none exists. `t` collects the CAS figures of the operation.
    @inline(__always)
    func alloc(order: Int, _ t: inout CASTally) -> Int32? {
        let limit = pages >> order          // whole blocks inside the zone only
        guard limit > 0 else { return nil }
        var restarts = 0
        while true {
            let seen = arch_load_acquire_u64(releases)
            let start = Int(arch_load_relaxed_u64(hint + order) % UInt64(limit))
            if let k = scan(order: order, from: start, to: limit, &t) ?? scan(order: order, from: 0, to: start, &t) {
                if k + 1 != start { arch_store_relaxed_u64(hint + order, UInt64(k + 1)) }
                _ = arch_fetch_add_u64(nrFree, UInt64(bitPattern: Int64(-(1 << order))))
                return Int32(k << order)
            }
            // Nothing found: honest only if no release completed during the scan.
            if arch_load_acquire_u64(releases) == seen || restarts == Self.maxRestarts { return nil }
            restarts += 1
            t.restarts &+= 1
        }
    }

    /// Tries the level's blocks `lo..<hi` in turn; skips the subtree of a taken ancestor.
    @inline(__always)
    func scan(order: Int, from lo: Int, to hi: Int, _ t: inout CASTally) -> Int? {
        var k = lo
        while k < hi {
            if load(word(order, k)) & Self.busy == 0 {
                // Look before claiming: a block inside a taken one is skipped with its whole
                // subtree on loads alone, without a claim to undo.
                if let (l, i) = takenAncestor(order, k) { k = (i + 1) << (l - order); continue }
                let failedAt = claim(level: order, index: k, &t)
                if failedAt.level < 0 { return k }
                if failedAt.level > order {
                    t.aborted &+= 1
                    k = (failedAt.index + 1) << (failedAt.level - order)
                    continue
                }
            }
            k += 1
        }
        return nil
    }

    /// The lowest taken ancestor of block `k` of `level` as read now, if any (a hint only: the
    /// claim decides).
    @inline(__always)
    func takenAncestor(_ level: Int, _ k: Int) -> (Int, Int)? {
        var l = level, i = k
        while l < maxOrder {
            l += 1; i >>= 1
            let w = load(word(l, i))
            if w & Self.taken != 0 { return (l, i) }
        }
        return nil
    }

    /// NBBS `TryAlloc`: takes block `index` of `level` and marks its ancestors; on a taken
    /// ancestor undoes the marks and returns where it failed. Returns level -1 on success.
    @inline(__always)
    func claim(level: Int, index: Int, _ t: inout CASTally) -> (level: Int, index: Int) {
        let node = word(level, index)
        var w = load(node)
        guard w & Self.busy == 0, cas(node, &w, Self.busy, &t) else { return (level, index) }
        account(level, w, Self.busy)
        var l = level, k = index
        while l < maxOrder {
            let side = k & 1
            l += 1; k >>= 1
            let a = word(l, k)
            var old = load(a)
            while true {
                if old & Self.taken != 0 {
                    release(level: level, index: index, upTo: l - 1, &t)
                    // An undone claim is a release too: a scan that missed the block while it
                    // was marked must look again rather than report no memory.
                    _ = arch_fetch_add_u64(releases, 1)
                    return (l, k)
                }
                let new = (old & ~Self.mergingBit(side)) | Self.usedBit(side)
                if new == old { break }          // already marked: a load suffices
                if cas(a, &old, new, &t) { account(l, old, new); break }
            }
        }
        return (-1, 0)
    }

    // MARK: release

    /// `__free_one_page()` without the lock: gives back block `index` of `order` (a page index
    /// aligned to the order) and merges it with free buddies.
    @inline(__always)
    func free(_ i: Int32, order: Int, _ t: inout CASTally) {
        // Counted free before the block is visible as free, so that NR_FREE_PAGES never reads
        // below the pages really free.
        _ = arch_fetch_add_u64(nrFree, UInt64(1 << order))
        release(level: order, index: Int(i) >> order, upTo: maxOrder, &t)
        _ = arch_fetch_add_u64(releases, 1)
    }

    /// NBBS `FreeNode`: announce the merge on the ancestors up to level `top`, clear the block's
    /// word, then coalesce upwards.
    @inline(__always)
    func release(level: Int, index: Int, upTo top: Int, _ t: inout CASTally) {
        var l = level, k = index
        while l < top {
            let side = k & 1
            l += 1; k >>= 1
            let a = word(l, k)
            var old = load(a)
            while !cas(a, &old, old | Self.mergingBit(side), &t) {}
            // The buddy half in use and not itself merging: the merge ends at this level.
            if old & Self.usedBit(side ^ 1) != 0 && old & Self.mergingBit(side ^ 1) == 0 { break }
        }
        let node = word(level, index)
        let before = load(node)
        arch_shake(21)
        arch_store_release_u32(node, 0)
        account(level, before, 0)
        if level < top { coalesce(level: level, index: index, upTo: top, &t) }
    }

    /// NBBS `Unmark`: clear the used+merging bits of the half we came from while our merging
    /// bit is still there (an allocation through that half clears it: the half is in use again)
    /// and stop where the buddy half is in use.
    @inline(__always)
    func coalesce(level: Int, index: Int, upTo top: Int, _ t: inout CASTally) {
        var l = level, k = index
        repeat {
            let side = k & 1
            l += 1; k >>= 1
            let a = word(l, k)
            var old = load(a), new: UInt32
            repeat {
                if old & Self.mergingBit(side) == 0 { return }
                new = old & ~(Self.mergingBit(side) | Self.usedBit(side))
            } while !cas(a, &old, new, &t)
            account(l, old, new)
            if new & Self.usedBit(side ^ 1) != 0 { return }
        } while l < top
    }
}

/// The CAS figures of one operation, kept in registers until the operation ends.
public struct CASTally {
    public var attempts: UInt64 = 0
    public var failures: UInt64 = 0
    /// Consecutive failures on one word now, and the longest such run.
    var chain: UInt64 = 0
    public var longestChain: UInt64 = 0
    public var restarts: UInt64 = 0
    public var aborted: UInt64 = 0
    public init() {}

    @inline(__always) mutating func failed() {
        failures &+= 1
        chain &+= 1
        if chain > longestChain { longestChain = chain }
    }
}
