/// Anti-fragmentation when a type's own lists are empty (mm/page_alloc.c, Linux 6.12):
/// `__rmqueue_fallback()` takes a block from another type's lists, following `fallbacks[]`,
/// and `steal_suitable_fallback()` decides whether the whole pageblock changes hands.
/// All functions expect the zone lock held.
///
/// Not modelled: watermark boosting (`boost_watermark()`, which only adds kswapd pressure
/// after a fragmenting fallback) and ALLOC_NOFRAGMENT (which prefers a lower zone over
/// fragmenting ZONE_NORMAL); `page_group_by_mobility_disabled` is always false.
extension ZoneCore {
    /// Models `can_steal_fallback()`: is the fallback block worth claiming whole? Always from a
    /// pageblock-sized block; from half a pageblock up; and always for unmovable and
    /// reclaimable requests, whose pages would otherwise pollute one movable block after
    /// another. A small movable request only takes what it needs.
    @inline(__always)
    public static func canStealFallback(order: Int, startMT: Int, pageblockOrder: Int) -> Bool {
        if order >= pageblockOrder { return true }
        return order >= pageblockOrder / 2 || startMT == MigrateType.reclaimable.rawValue
            || startMT == MigrateType.unmovable.rawValue
    }

    /// Models `find_suitable_fallback()`: the first type in `fallbacks[startMT]` with a free
    /// block of exactly `order`, and whether stealing applies. With `onlyStealable` only a
    /// type that may be stolen counts (compaction's "is this good enough" question).
    func findSuitableFallback(order: Int, startMT: Int, onlyStealable: Bool) -> (mt: Int, canSteal: Bool)? {
        if nrFreeBlocks(order: order) == 0 { return nil }
        var canSteal = false
        for f in MigrateType.fallbacks[startMT] {
            if nrFreeBlocks(order: order, mt: f.rawValue) == 0 { continue }
            if Self.canStealFallback(order: order, startMT: startMT, pageblockOrder: pageblockOrder) { canSteal = true }
            if !onlyStealable || canSteal { return (f.rawValue, canSteal) }
        }
        return nil
    }

    /// Models `__rmqueue_fallback()`: the largest free block on a fallback list (a rough guess
    /// at the pageblock with the most free pages), unless the request is movable and may not
    /// claim the block: then the smallest, since a movable page in a foreign block does not
    /// fragment for good. Counts `mm_page_alloc_extfrag` with its `fragmenting` and
    /// `change_ownership` fields.
    @inline(never)
    func rmqueueFallback(order: Int, startMT: Int, flags: AllocFlags) -> Int32? {
        guard startMT < MigrateType.pcpTypes else { return nil }
        var current = maxOrder
        var found: (mt: Int, canSteal: Bool)?
        while current >= order {
            if let f = findSuitableFallback(order: current, startMT: startMT, onlyStealable: false) {
                found = f
                break
            }
            current -= 1
        }
        guard var (fallbackMT, canSteal) = found else { return nil }
        if !canSteal && startMT == MigrateType.movable.rawValue && current > order {
            // find_smallest: one exists, at the latest at the order found above.
            current = order
            while current <= maxOrder {
                if let f = findSuitableFallback(order: current, startMT: startMT, onlyStealable: false) {
                    (fallbackMT, canSteal) = f
                    break
                }
                current += 1
            }
        }
        let head = freeHead[current * MigrateType.count + fallbackMT]
        let i = stealSuitableFallback(head, currentOrder: current, order: order, startMT: startMT, wholeBlock: canSteal)
        count(.extfrag)
        if current < pageblockOrder { count(.extfragFragmenting) }
        if pageblockType(of: i) == startMT { count(.pageblockSteals) }
        return i
    }

    /// Models `steal_suitable_fallback()`: a block of a pageblock or more changes type whole;
    /// a smaller one claims its pageblock when at least half of the block's pages are free
    /// or of a compatible kind (for a movable request: movable pages; for an unmovable or
    /// reclaimable one in a movable block: every page that is neither free nor movable);
    /// otherwise only the pages needed are taken and the pageblock keeps its type.
    func stealSuitableFallback(_ i: Int32, currentOrder: Int, order: Int, startMT: Int, wholeBlock: Bool) -> Int32 {
        let blockType = pageblockType(of: i)
        if blockType != MigrateType.highAtomic.rawValue {
            if currentOrder >= pageblockOrder {
                removeFromFreeArea(i, order: currentOrder, mt: blockType)
                changePageblockRange(i, order: currentOrder, mt: startMT)
                expand(i, low: order, high: currentOrder, mt: startMT)
                adjustFree(-(1 << order))
                return i
            }
            if wholeBlock, let (start, free, movable) = prepMoveFreepagesBlock(i) {
                let alike: Int
                if startMT == MigrateType.movable.rawValue {
                    alike = movable
                } else {
                    alike = blockType == MigrateType.movable.rawValue ? (1 << pageblockOrder) - (free + movable) : 0
                }
                if free + alike >= 1 << (pageblockOrder - 1) {
                    moveFreepages(blockStart: start, from: blockType, to: startMT)
                    if let got = rmqueueSmallest(order: order, mt: startMT) { return got }
                }
            }
        }
        // single_page: `page_del_and_expand()` on the block's own lists.
        removeFromFreeArea(i, order: currentOrder, mt: blockType)
        expand(i, low: order, high: currentOrder, mt: blockType)
        adjustFree(-(1 << order))
        return i
    }

    /// Models `prep_move_freepages_block()`: the pageblock of page `i`, its free pages and its
    /// movable pages (allocated pages the model can migrate, as PageLRU / __PageMovable count).
    /// nil for a pageblock the zone does not span whole.
    func prepMoveFreepagesBlock(_ i: Int32) -> (start: Int, free: Int, movable: Int)? {
        let start = (Int(i) >> pageblockOrder) << pageblockOrder
        let end = start + (1 << pageblockOrder)
        guard end <= pages else { return nil }
        var free = 0, movable = 0
        var p = start
        while p < end {
            let o = Int(meta[p].buddyOrder)
            if o >= 0 { free += 1 << o; p += 1 << o; continue }
            if (meta + p).flagsOnce.contains(.movable) { movable += 1 }
            p += 1
        }
        return (start, free, movable)
    }

    /// Models `__move_freepages_block()`: every free block of the pageblock at `blockStart`
    /// moves from the lists of `from` to those of `to`, and the pageblock takes type `to`.
    /// Returns the pages moved.
    @discardableResult
    func moveFreepages(blockStart: Int, from: Int, to: Int) -> Int {
        var moved = 0
        var p = blockStart
        let end = Swift.min(blockStart + (1 << pageblockOrder), pages)
        while p < end {
            let o = Int(meta[p].buddyOrder)
            if o < 0 { p += 1; continue }
            moveToFreeList(Int32(p), order: o, from: from, to: to)
            p += 1 << o
            moved += 1 << o
        }
        setPageblockType(of: Int32(blockStart), to)
        return moved
    }

    /// Models `move_freepages_block()`: -1 when the zone does not span the whole pageblock.
    func moveFreepagesBlock(_ i: Int32, from: Int, to: Int) -> Int {
        let start = (Int(i) >> pageblockOrder) << pageblockOrder
        guard start + (1 << pageblockOrder) <= pages else { return -1 }
        return moveFreepages(blockStart: start, from: from, to: to)
    }
}
