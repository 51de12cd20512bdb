/// The two scanners of compaction and the migration step between them (mm/compaction.c
/// `isolate_migratepages()`, `isolate_freepages()`, `compaction_alloc()`, and
/// `migrate_pages()` in mm/migrate.c).
extension Kernel {
    /// Models `isolate_migratepages()` + `isolate_migratepages_block()`: from the migrate
    /// scanner on, the first pageblock that suits (async direct compaction only takes blocks
    /// of the request's type: movable requests any movable block), up to COMPACT_CLUSTER_MAX
    /// movable pages. Free blocks and compound pages are stepped over whole, as the kernel
    /// steps over them, and every page looked at counts as scanned.
    func isolateMigratePages(_ cc: inout CompactControl) {
        let z = cores + cc.zone
        let pb = 1 << z.pointee.pageblockOrder
        var low = cc.migratePFN
        while true {
            let blockStart = low & ~(pb - 1)
            let blockEnd = Swift.min(blockStart + pb, z.pointee.pages)
            // The migrate scanner stops at the free scanner's pageblock.
            if blockStart + pb > cc.freePFN { cc.migratePFN = blockEnd; return }
            // The zone lock keeps PageBuddy still while the block is walked (the kernel reads
            // it locklessly and rechecks); owned pages' flags and order are read once.
            z.pointee.lock.lock(mayBlock: false, cpu: nil)
            let bt = z.pointee.pageblockType(of: Int32(blockStart))
            if cc.priority == .async && cc.direct && bt != cc.migratetype {
                z.pointee.lock.unlock(cpu: nil)
                low = blockEnd
                cc.migratePFN = low
                continue
            }
            defer { z.pointee.lock.unlock(cpu: nil) }
            while low < blockEnd && cc.migratePages.count < Self.compactClusterMax {
                // Only PageBuddy (stable under the zone lock) and the owner-written flags and
                // order, read once each: the rest of the page belongs to its owner.
                let m = z.pointee.meta + low
                cc.migrateScanned += 1
                let o = Int(m.pointee.buddyOrder)
                if o > 0 { cc.migrateScanned += (1 << o) - 1; low += 1 << o; continue }
                let flags = m.flagsOnce, order = Int(m.orderOnce)
                if flags.contains(.head) && order > 0 && order <= z.pointee.maxOrder {
                    cc.migrateScanned += (1 << order) - 1
                    low += 1 << order
                    continue
                }
                if flags.contains(.movable) { cc.migratePages.append(Int32(low)) }
                low += 1
            }
            cc.migratePFN = Swift.min(low, blockEnd)
            z.pointee.count(.compactIsolated, UInt64(cc.migratePages.count))
            return
        }
    }

    /// Models `isolate_freepages()`: from the free scanner down, pageblocks that are fit
    /// targets (`suitable_migration_target()`: movable, and not already a free block of the
    /// requested order), their free blocks taken off the lists and split into order-0 pages,
    /// until there are as many as pages to migrate. Isolation keeps the zone above min plus
    /// the block (`__isolate_free_page()`).
    func isolateFreePages(_ cc: inout CompactControl) {
        let z = cores + cc.zone
        let pbOrder = z.pointee.pageblockOrder
        let pb = 1 << pbOrder
        let lowLimit = (cc.migratePFN + pb - 1) & ~(pb - 1)   // pageblock_end_pfn(migrate_pfn)
        var block = cc.freePFN
        z.pointee.lock.lock(mayBlock: false, cpu: nil)
        defer { z.pointee.lock.unlock(cpu: nil) }
        while block >= lowLimit && cc.freePages.count < cc.migratePages.count {
            let head = z.pointee.meta[block]
            let stopOrder = cc.order > 0 ? cc.order : pbOrder
            let fit = z.pointee.pageblockType(of: Int32(block)) == MigrateType.movable.rawValue
                && !(head.buddyOrder >= 0 && Int(head.buddyOrder) >= stopOrder)
            if fit {
                var p = block
                let end = Swift.min(block + pb, z.pointee.pages)
                while p < end && cc.freePages.count < cc.migratePages.count {
                    cc.freeScanned += 1
                    let o = Int(z.pointee.meta[p].buddyOrder)
                    guard o >= 0 else { p += 1; continue }
                    guard z.pointee.freePages - (1 << o) > z.pointee.watermarks.min else { break }
                    z.pointee.removeFromFreeArea(Int32(p), order: o, mt: z.pointee.pageblockType(of: Int32(p)))
                    z.pointee.adjustFree(-(1 << o))
                    for q in p..<(p + (1 << o)) {
                        (z.pointee.meta + q).flagsOnce = .head
                        (z.pointee.meta + q).orderOnce = 0
                        z.pointee.meta[q].refcount = 1
                        cc.freePages.append(Int32(q))
                    }
                    z.pointee.count(.compactIsolated, UInt64(1 << o))
                    p += 1 << o
                }
                if cc.freePages.count >= cc.migratePages.count { break }
            }
            block -= pb
        }
        cc.freePFN = Swift.max(block, 0)
    }

    /// Models `migrate_pages()` with `compaction_alloc()` as the target source: each isolated
    /// page moves to a free page (isolated on demand). False when targets ran out.
    func migrateIsolated(_ cc: inout CompactControl, cpu: CPUContext) -> Bool {
        defer { cc.migratePages.removeAll() }
        guard let migrator else { return true }
        let z = cores + cc.zone
        for src in cc.migratePages {
            if cc.freePages.isEmpty { isolateFreePages(&cc) }
            guard let dst = cc.freePages.popLast() else { return false }
            let from = z.pointee.startPFN + Int(src), to = z.pointee.startPFN + Int(dst)
            switch migrator.migrateAnonPage(cpu, from: from, to: to, sync: cc.sync) {
            case .migrated:
                z.pointee.count(.pgmigrateSuccess)
                freePages(cpu, PageRef(zone: Int32(cc.zone), index: src), order: 0)
            case .skipped:
                z.pointee.count(.pgmigrateFail)
                cc.freePages.append(dst)
            case .ownerGone:
                freePages(cpu, PageRef(zone: Int32(cc.zone), index: src), order: 0)
                cc.freePages.append(dst)
            }
        }
        // Freed sources sit on this CPU's lists: put them back where compaction can see them.
        drainPCP(cpu)
        return true
    }
}
