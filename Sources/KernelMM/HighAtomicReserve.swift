/// The high-order atomic reserve (mm/page_alloc.c, Linux 6.12): a successful ALLOC_HIGHATOMIC
/// allocation sets its pageblock aside as MIGRATE_HIGHATOMIC, up to about 1 % of the zone,
/// so that the next burst of non-blocking high-order allocations (network receive buffers)
/// finds blocks; allocators about to fail give the blocks back.
extension Kernel {
    /// Models `reserve_highatomic_pageblock()`: at least one pageblock and at most 1 % of the
    /// zone rounded up to pageblocks (nothing when 1 % is under a pageblock); only a block of
    /// a mergeable type is taken. `i` is the block just allocated.
    @inline(never)
    func reserveHighatomicPageblock(_ cpu: CPUContext, _ z: UnsafeMutablePointer<ZoneCore>, _ i: Int32, order: Int) {
        // An atomic zone's single pool has no migrate types, hence no reserve (see `AtomicBuddy`).
        if z.pointee.atomic != nil { return }
        let pageblock = 1 << z.pointee.pageblockOrder
        let onePercent = z.pointee.pages / 100
        if onePercent < pageblock { return }
        let maxManaged = (onePercent + pageblock - 1) / pageblock * pageblock
        if z.pointee.reservedHighatomic >= maxManaged { return }
        z.pointee.lock.lock(mayBlock: false, cpu: cpu)
        defer { z.pointee.lock.unlock(cpu: cpu) }
        if z.pointee.reservedHighatomic >= maxManaged { return }
        let mt = z.pointee.pageblockType(of: i)
        guard MigrateType.isMergeable(mt) else { return }
        if order < z.pointee.pageblockOrder {
            if z.pointee.moveFreepagesBlock(i, from: mt, to: MigrateType.highAtomic.rawValue) < 0 { return }
            z.pointee.setReservedHighatomic(z.pointee.reservedHighatomic + pageblock)
        } else {
            z.pointee.changePageblockRange(i, order: order, mt: MigrateType.highAtomic.rawValue)
            z.pointee.setReservedHighatomic(z.pointee.reservedHighatomic + (1 << order))
        }
        z.pointee.count(.highatomicReserve)
    }

    /// Models `unreserve_highatomic_pageblock()`: for each zone of the zonelist holding more
    /// than one reserved pageblock (any, with `force`), the first HighAtomic free block of the
    /// lowest order goes back to the caller's type, with its pageblock, bypassing the stealing
    /// heuristics. True when a block changed type.
    @discardableResult
    public func unreserveHighatomicPageblock(_ cpu: CPUContext?, zones zoneIDs: [Int], migratetype: Int, force: Bool) -> Bool {
        let reserveMT = MigrateType.highAtomic.rawValue
        for zi in zoneIDs {
            let z = cores + zi
            let pageblock = 1 << z.pointee.pageblockOrder
            if z.pointee.atomic != nil || (!force && z.pointee.reservedHighatomic <= pageblock) { continue }
            z.pointee.lock.lock(mayBlock: false, cpu: cpu)
            for order in 0...z.pointee.maxOrder {
                let i = z.pointee.freeHead[order * MigrateType.count + reserveMT]
                guard i >= 0 else { continue }
                let mt = z.pointee.pageblockType(of: i)
                if mt == reserveMT {
                    let size = Swift.min(Swift.max(pageblock, 1 << order), z.pointee.reservedHighatomic)
                    z.pointee.setReservedHighatomic(z.pointee.reservedHighatomic - size)
                }
                var moved = 0
                if order < z.pointee.pageblockOrder {
                    moved = z.pointee.moveFreepagesBlock(i, from: mt, to: migratetype)
                } else {
                    z.pointee.moveToFreeList(i, order: order, from: mt, to: migratetype)
                    z.pointee.changePageblockRange(i, order: order, mt: migratetype)
                    moved = 1
                }
                if moved > 0 {
                    z.pointee.count(.highatomicUnreserve)
                    z.pointee.lock.unlock(cpu: cpu)
                    return true
                }
            }
            z.pointee.lock.unlock(cpu: cpu)
        }
        return false
    }
}
