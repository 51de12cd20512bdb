import CArch

/// The binary buddy allocator of one zone (mm/page_alloc.c). All functions expect `lock` held.
extension ZoneCore {
    /// The pageblock type of zone page `i` (`get_pfnblock_migratetype()`). Read without the
    /// zone lock, as the kernel does when a page is freed, so it is a relaxed atomic load (its
    /// READ_ONCE); a stale type only sends a freed page to another list, which the kernel allows.
    @inline(__always) func pageblockType(of i: Int32) -> Int { pageblockType(block: Int(i) >> pageblockOrder) }

    /// The type of pageblock number `b`.
    @inline(__always) func pageblockType(block b: Int) -> Int { Int(arch_load_relaxed_u8(pageblockTypes + b)) }

    /// `set_pageblock_migratetype()` on the pageblock holding page `i` (under the zone lock;
    /// atomic because readers take no lock).
    @inline(__always) func setPageblockType(of i: Int32, _ mt: Int) { arch_store_relaxed_u8(pageblockTypes + (Int(i) >> pageblockOrder), UInt8(mt)) }

    /// `change_pageblock_range()`: every pageblock of a block of `order` (at least one).
    func changePageblockRange(_ i: Int32, order: Int, mt: Int) {
        let first = Int(i) >> pageblockOrder
        let n = Swift.max(1, 1 << Swift.max(0, order - pageblockOrder))
        for b in first..<Swift.min(first + n, pageblocks) { arch_store_relaxed_u8(pageblockTypes + b, UInt8(mt)) }
    }

    /// Models `__rmqueue_smallest()`: the smallest free block of at least `order` on the lists
    /// of type `mt`, the rest split back onto the same type's lists (`page_del_and_expand()`).
    @inline(__always)
    func rmqueueSmallest(order: Int, mt: Int) -> Int32? {
        var current = order
        while current <= maxOrder {
            let i = freeHead[current * MigrateType.count + mt]
            if i >= 0 {
                removeFromFreeArea(i, order: current, mt: mt)
                expand(i, low: order, high: current, mt: mt)
                adjustFree(-(1 << order))
                return i
            }
            current += 1
        }
        return nil
    }

    /// `__rmqueue_smallest()` on the movable lists: for tests of the buddy system alone.
    func rmqueueSmallest(order: Int) -> Int32? { rmqueueSmallest(order: order, mt: MigrateType.movable.rawValue) }

    /// Models `__rmqueue()` (without CMA): the type's own lists, then `__rmqueue_fallback()`.
    @inline(__always)
    func rmqueue(order: Int, mt: Int, flags: AllocFlags) -> Int32? {
        if let i = rmqueueSmallest(order: order, mt: mt) { return i }
        return rmqueueFallback(order: order, startMT: mt, flags: flags)
    }

    /// Models `expand()`: the upper halves of a split block go back, one per order, onto the
    /// lists of `mt`.
    @inline(__always)
    func expand(_ i: Int32, low: Int, high: Int, mt: Int) {
        var high = high
        while high > low {
            high -= 1
            addToFreeArea(i + Int32(1 << high), order: high, mt: mt)
        }
    }

    /// Models `__free_one_page()`: merge with the buddy (index xor 2^order) while it is free and
    /// of the same order, then put the result on the list of `mt` (the freed block's pageblock
    /// type). From `pageblock_order` up a buddy lies in another pageblock: blocks of a type
    /// that cannot merge (HighAtomic, Isolate) stay apart, and a merged buddy of another
    /// mergeable type takes the freed block's type, so that its pages land on the right lists.
    @inline(__always)
    func freeOneBlock(_ i: Int32, order: Int, mt: Int) {
        var i = Int(i), order = order
        adjustFree(1 << order)
        while order < maxOrder {
            let buddy = i ^ (1 << order)
            guard buddy + (1 << order) <= pages, isFreeBuddy(buddy, order: order) else { break }
            var buddyMT = mt
            if order >= pageblockOrder {
                buddyMT = pageblockType(of: Int32(buddy))
                if buddyMT != mt && !(MigrateType.isMergeable(mt) && MigrateType.isMergeable(buddyMT)) { break }
            }
            removeFromFreeArea(Int32(buddy), order: order, mt: buddyMT)
            if buddyMT != mt { changePageblockRange(Int32(buddy), order: order, mt: mt) }
            i &= buddy
            order += 1
        }
        addToFreeArea(Int32(i), order: order, mt: mt)
    }

    /// Models `rmqueue_bulk()`: move up to `count` blocks of `order` and type `mt` onto a PCP
    /// list, each through `__rmqueue()` (so a refill may fall back and steal).
    @inline(__always)
    func rmqueueBulk(order: Int, mt: Int, flags: AllocFlags, count: Int, into list: UnsafeMutablePointer<PCPList>, cpu: Int) -> Int {
        var taken = 0
        while taken < count, let i = rmqueue(order: order, mt: mt, flags: flags) {
            pushPCP(i, onto: list, cpu: cpu)
            taken += 1
        }
        return taken
    }

    /// Models `free_pcppages_bulk()`: return `count` blocks from a PCP list to the buddy areas,
    /// each onto the lists of its pageblock's type now.
    @inline(__always)
    func freePCPBulk(order: Int, count: Int, from list: UnsafeMutablePointer<PCPList>) {
        var n = 0
        while n < count, let i = popPCP(list) {
            freeOneBlock(i, order: order, mt: pageblockType(of: i))
            n += 1
        }
    }

    /// Models `__zone_watermark_ok()`: may an allocation of `order` leave the zone at or above
    /// `mark` (less the reserves `flags` allow), keeping `lowmem_reserve[highest]`, and is there
    /// a block of at least that order it may take? Callers without reserve rights
    /// (ALLOC_RESERVES) do not count the high-atomic reserve as free; a high-order block must
    /// sit on a PCP type's list, or on the HighAtomic list for ALLOC_HIGHATOMIC / ALLOC_OOM.
    /// Read without the lock, like `zone_watermark_fast()`.
    @inline(__always)
    func watermarkOK(order: Int, mark: Int, highest: ZoneType, flags: AllocFlags) -> Bool {
        if flags.contains(.noWatermarks) { return freePages >= 1 << order }
        var min = mark
        var free = freePages - ((1 << order) - 1)
        if flags.rawValue & AllocFlags.reserves.rawValue == 0 {
            free -= reservedHighatomic
        } else {
            if flags.contains(.minReserve) {
                min -= min / 2
                if flags.contains(.nonBlock) { min -= min / 4 }
            }
            // OOM victims may go a further half below.
            if flags.contains(.oom) { min -= min / 2 }
        }
        if free <= min + reserve[highest.rawValue] { return false }
        if order == 0 { return true }
        return highOrderBlockFree(order: order, flags: flags)
    }

    @inline(__always)
    func highOrderBlockFree(order: Int, flags: AllocFlags) -> Bool {
        let atomicRights = !flags.isDisjoint(with: [.highAtomic, .oom])
        for o in order...maxOrder where nrFreeBlocks(order: o) > 0 {
            for mt in 0..<MigrateType.pcpTypes where nrFreeBlocks(order: o, mt: mt) > 0 { return true }
            if atomicRights && nrFreeBlocks(order: o, mt: MigrateType.highAtomic.rawValue) > 0 { return true }
        }
        return false
    }
}
