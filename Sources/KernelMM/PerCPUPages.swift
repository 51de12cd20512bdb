/// One per-CPU page list (`struct per_cpu_pages` list for one order and migrate type): a LIFO stack of free
/// blocks linked through `Page.next`, owned by one CPU. Pages here are neither in the buddy
/// free areas nor in use, and do not count in NR_FREE_PAGES, as in Linux.
public struct PCPList: Sendable {
    public var head: Int32 = -1
    public var count: Int32 = 0
    public init() {}
}

extension ZoneCore {
    /// A block taken from the buddy areas onto the head of a CPU's list (`list_add()` in
    /// `rmqueue_bulk()`): marked as on a PCP list and owned by that CPU.
    @inline(__always)
    func pushPCP(_ i: Int32, onto list: UnsafeMutablePointer<PCPList>, cpu: Int) {
        (meta + Int(i)).flagsOnce = .pcp
        meta[Int(i)].owner = Int16(truncatingIfNeeded: cpu)
        meta[Int(i)].next = list.pointee.head
        list.pointee.head = i
        list.pointee.count += 1
    }

    /// The block at the head of a CPU's list, unlinked and unmarked for the buddy areas
    /// (`free_pcppages_bulk()`'s `list_del()`); nil when the list is empty.
    @inline(__always)
    func popPCP(_ list: UnsafeMutablePointer<PCPList>) -> Int32? {
        let i = list.pointee.head
        guard i >= 0 else { return nil }
        list.pointee.head = meta[Int(i)].next
        list.pointee.count -= 1
        (meta + Int(i)).flagsOnce = []
        meta[Int(i)].owner = -1
        return i
    }
}

/// Sizing of the per-CPU page lists (mm/page_alloc.c `zone_batchsize()`, `zone_highsize()`).
///
/// `pcp->count` is pages over all orders of a zone's lists, compared with `pcp->high` on every
/// free (`free_unref_page_commit()` → `nr_pcp_high()`). Linux 6.12 auto-tunes `pcp->high`
/// between `high_min` (the low watermark split over the node's CPUs) and `high_max` (an eighth
/// of the zone, split likewise), raising it while a CPU frees in bursts and lowering it back
/// toward `high_min` when the zone falls below its high watermark. Deliberate simplification:
/// the model keeps `high` at `high_min`, the tuner's starting point and its floor under
/// pressure; while reclaim is active the threshold is `min(4 × batch, high)`, as
/// ZONE_RECLAIM_ACTIVE makes it — lowered, never 0.
public enum PerCPUPages {
    /// Orders kept on PCP lists: 0 … PAGE_ALLOC_COSTLY_ORDER. (6.12 also keeps a list for
    /// pageblock-order THP pages; the model takes those from the buddy areas.)
    public static let orders = 4
    /// Lists per zone: one per order and PCP migrate type (`NR_PCP_LISTS` without THP).
    public static let listsPerZone = orders * MigrateType.pcpTypes

    /// `order_to_pindex()`: the list of (zone, order, migratetype).
    @inline(__always) public static func index(zone: Int, order: Int, mt: Int) -> Int {
        (zone * orders + order) * MigrateType.pcpTypes + mt
    }

    /// `zone_batchsize()`: about a quarter of a 1/1024 of the zone, at most 1 MiB worth of
    /// pages, rounded to 2^n - 1 (to avoid cache-colour aliasing), at least 1.
    public static func batch(zonePages: Int) -> Int {
        var batch = Swift.min(zonePages >> 10, (1 << 20) / PAGE_SIZE) / 4
        if batch < 1 { return 1 }
        batch = batch + batch / 2
        let pow2 = 1 << (Int.bitWidth - 1 - batch.leadingZeroBitCount)
        return Swift.max(pow2 - 1, 1)
    }

    /// `zone_highsize()` with no `percpu_pagelist_high_fraction`: the zone's low watermark
    /// split over the CPUs of its node (all CPUs for a CPU-less node), at least 4 × batch.
    public static func high(lowWatermark: Int, batch: Int, cpusOnNode: Int) -> Int {
        Swift.max(lowWatermark / Swift.max(cpusOnNode, 1), batch << 2)
    }

    /// `nr_pcp_free()` without the free-burst count: a batch, leaving at least a batch behind
    /// when high allows (1 when high is below a batch).
    public static func toFree(batch: Int, high: Int) -> Int { high < batch ? 1 : Swift.min(batch, Swift.max(high - batch, batch)) }
}
