import CArch

/// The one place where a zone's policy is chosen: how the page allocator reaches a zone's free
/// areas. Locked zones take `zone->lock` around the list operations of `BuddyAllocator.swift`
/// and `MigrateFallback.swift`, as `rmqueue_buddy()`, `rmqueue_bulk()`, `free_one_page()` and
/// `free_pcppages_bulk()` do, with the free lists per order and migrate type; an atomic zone
/// calls `AtomicBuddy` directly, one counted operation per block, from its single pool without
/// migrate types (the request's type, the high-atomic reserve and `__rmqueue_fallback()` do not
/// apply there). The injected remote cost is paid inside the lock, or once per operation
/// without one.
extension Kernel {
    /// `rmqueue_buddy()`: a block of `order` from the buddy areas (orders the PCP lists do not
    /// keep, and small ones whose refill found nothing). Under the zone lock: the high-atomic
    /// reserve first for ALLOC_HIGHATOMIC, then `__rmqueue()` on the lists of `mt` with its
    /// fallback, and when that fails the reserve again for OOM victims and non-blocking
    /// callers, since failing now is worse than failing a high-order atomic allocation later.
    /// Outlined: the PCP lists serve orders 0–3, so this is not the common path.
    @inline(never)
    func takeBlock(_ cpu: CPUContext, _ z: UnsafeMutablePointer<ZoneCore>, order: Int, mt: Int, flags: AllocFlags,
                   mayBlock: Bool) -> Int32? {
        if let tree = z.pointee.atomic {
            injectRemoteCost(cpu, node: z.pointee.node)
            var t = CASTally()
            let i = tree.alloc(order: order, &t)
            tree.stats.record(t, cpu: cpu.id)
            return i
        }
        let reserveMT = MigrateType.highAtomic.rawValue
        z.pointee.lock.lock(mayBlock: mayBlock, cpu: cpu)
        injectRemoteCost(cpu, node: z.pointee.node)
        var i: Int32? = nil
        if flags.contains(.highAtomic) { i = z.pointee.rmqueueSmallest(order: order, mt: reserveMT) }
        if i == nil {
            i = z.pointee.rmqueue(order: order, mt: mt, flags: flags)
            if i == nil && !flags.isDisjoint(with: [.oom, .nonBlock]) { i = z.pointee.rmqueueSmallest(order: order, mt: reserveMT) }
        }
        z.pointee.lock.unlock(cpu: cpu)
        return i
    }

    /// `rmqueue_bulk()`: up to `count` blocks of type `mt` onto a PCP list; how many it got.
    @inline(__always)
    func takeBulk(_ cpu: CPUContext, _ z: UnsafeMutablePointer<ZoneCore>, order: Int, mt: Int, flags: AllocFlags, count: Int,
                  into list: UnsafeMutablePointer<PCPList>, mayBlock: Bool) -> Int {
        if let tree = z.pointee.atomic {
            injectRemoteCost(cpu, node: z.pointee.node)
            return z.pointee.atomicBulk(tree, order: order, count: count, into: list, cpu: cpu.id)
        }
        z.pointee.lock.lock(mayBlock: mayBlock, cpu: cpu)
        injectRemoteCost(cpu, node: z.pointee.node)
        let got = z.pointee.rmqueueBulk(order: order, mt: mt, flags: flags, count: count, into: list, cpu: cpu.id)
        z.pointee.lock.unlock(cpu: cpu)
        return got
    }

    /// `free_one_page()`: a block back to the buddy areas (onto the lists of `mt`, its
    /// pageblock's type), merged with its free buddies.
    @inline(__always)
    func giveBlock(_ cpu: CPUContext, _ z: UnsafeMutablePointer<ZoneCore>, _ i: Int32, order: Int, mt: Int) {
        if let tree = z.pointee.atomic {
            injectRemoteCost(cpu, node: z.pointee.node)
            var t = CASTally()
            tree.free(i, order: order, &t)
            tree.stats.record(t, cpu: cpu.id)
            return
        }
        z.pointee.lock.lock(mayBlock: !cpu.inAtomic, cpu: cpu)
        injectRemoteCost(cpu, node: z.pointee.node)
        z.pointee.freeOneBlock(i, order: order, mt: mt)
        z.pointee.lock.unlock(cpu: cpu)
    }

    /// `free_pcppages_bulk()`: `count` blocks from a PCP list back to the buddy areas, each
    /// onto the lists of its pageblock's type.
    @inline(__always)
    func giveBulk(_ cpu: CPUContext, _ z: UnsafeMutablePointer<ZoneCore>, order: Int, count: Int,
                  from list: UnsafeMutablePointer<PCPList>, remoteCost: Bool) {
        if let tree = z.pointee.atomic {
            if remoteCost { injectRemoteCost(cpu, node: z.pointee.node) }
            z.pointee.atomicFreeBulk(tree, order: order, count: count, from: list, cpu: cpu.id)
            return
        }
        z.pointee.lock.lock(mayBlock: !cpu.inAtomic, cpu: cpu)
        if remoteCost { injectRemoteCost(cpu, node: z.pointee.node) }
        z.pointee.freePCPBulk(order: order, count: count, from: list)
        z.pointee.lock.unlock(cpu: cpu)
    }
}

extension ZoneCore {
    /// `rmqueue_bulk()` on an atomic zone: each block its own lock-free allocation.
    @inline(never)
    func atomicBulk(_ tree: AtomicBuddy, order: Int, count: Int, into list: UnsafeMutablePointer<PCPList>, cpu: Int) -> Int {
        var taken = 0
        while taken < count {
            var t = CASTally()
            let got = tree.alloc(order: order, &t)
            tree.stats.record(t, cpu: cpu)
            guard let i = got else { break }
            pushPCP(i, onto: list, cpu: cpu)
            taken += 1
        }
        return taken
    }

    /// `free_pcppages_bulk()` on an atomic zone: each block its own lock-free release.
    @inline(never)
    func atomicFreeBulk(_ tree: AtomicBuddy, order: Int, count: Int, from list: UnsafeMutablePointer<PCPList>, cpu: Int) {
        var n = 0
        while n < count, let i = popPCP(list) {
            var t = CASTally()
            tree.free(i, order: order, &t)
            tree.stats.record(t, cpu: cpu)
            n += 1
        }
    }
}
