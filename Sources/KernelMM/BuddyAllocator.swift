/// The binary buddy allocator of one zone (mm/page_alloc.c). All functions expect `lock` held.
extension ZoneCore {
    /// Models `__rmqueue_smallest()`: take the smallest free block of at least `order`, and
    /// split what is left over back into the free areas (`expand()`).
    @inline(__always)
    func rmqueueSmallest(order: Int) -> Int32? {
        var current = order
        while current <= maxOrder {
            let i = freeHead[current]
            if i >= 0 {
                removeFromFreeArea(i, order: current)
                expand(i, low: order, high: current)
                adjustFree(-(1 << order))
                return i
            }
            current += 1
        }
        return nil
    }

    /// Models `expand()`: the upper halves of a split block go back, one per order.
    @inline(__always)
    func expand(_ i: Int32, low: Int, high: Int) {
        var high = high
        while high > low {
            high -= 1
            addToFreeArea(i + Int32(1 << high), order: high)
        }
    }

    /// Models `__free_one_page()`: merge with the buddy (index xor 2^order) while it is free and
    /// of the same order, then put the result on the free list.
    @inline(__always)
    func freeOneBlock(_ i: Int32, order: Int) {
        var i = Int(i), order = order
        adjustFree(1 << order)
        while order < maxOrder {
            let buddy = i ^ (1 << order)
            guard buddy + (1 << order) <= pages, isFreeBuddy(buddy, order: order) else { break }
            removeFromFreeArea(Int32(buddy), order: order)
            i &= buddy
            order += 1
        }
        addToFreeArea(Int32(i), order: order)
    }

    /// Models `rmqueue_bulk()`: move up to `count` blocks of `order` onto a PCP list.
    @inline(__always)
    func rmqueueBulk(order: Int, count: Int, into list: UnsafeMutablePointer<PCPList>, cpu: Int) -> Int {
        var taken = 0
        while taken < count, let i = rmqueueSmallest(order: order) {
            meta[Int(i)].flags = .pcp
            meta[Int(i)].owner = Int16(truncatingIfNeeded: cpu)
            meta[Int(i)].next = list.pointee.head
            list.pointee.head = i
            taken += 1
        }
        list.pointee.count += Int32(taken)
        return taken
    }

    /// Models `free_pcppages_bulk()`: return `count` blocks from a PCP list to the buddy areas.
    @inline(__always)
    func freePCPBulk(order: Int, count: Int, from list: UnsafeMutablePointer<PCPList>) {
        var n = 0
        while n < count && list.pointee.head >= 0 {
            let i = list.pointee.head
            list.pointee.head = meta[Int(i)].next
            meta[Int(i)].flags = []
            meta[Int(i)].owner = -1
            freeOneBlock(i, order: order)
            n += 1
        }
        list.pointee.count -= Int32(n)
    }

    /// Models `__zone_watermark_ok()`: may an allocation of `order` leave the zone at or above
    /// `mark` (less the reserves `flags` allow), keeping `lowmem_reserve[highest]`, and is there
    /// a block of at least that order? Read without the lock, like `zone_watermark_fast()`.
    @inline(__always)
    func watermarkOK(order: Int, mark: Int, highest: ZoneType, flags: AllocFlags) -> Bool {
        if flags.contains(.noWatermarks) { return freePages >= 1 << order }
        var min = mark
        let free = freePages - ((1 << order) - 1)
        if flags.contains(.minReserve) {
            min -= min / 2
            if flags.contains(.nonBlock) { min -= min / 4 }
        }
        if free <= min + reserve[highest.rawValue] { return false }
        if order == 0 { return true }
        for o in order...maxOrder where nrFreeBlocks(order: o) > 0 { return true }
        return false
    }
}
