import CArch

/// `enum compact_priority` (include/linux/compaction.h): lower is more thorough.
public enum CompactPriority: Int, Sendable, Comparable {
    /// COMPACT_PRIO_SYNC_FULL: sync migration, every pageblock (MIN_COMPACT_PRIORITY).
    case syncFull = 0
    /// COMPACT_PRIO_SYNC_LIGHT: sync migration that does not wait on writeback
    /// (MIN_COMPACT_COSTLY_PRIORITY, the floor for costly orders).
    case syncLight = 1
    /// COMPACT_PRIO_ASYNC: never waits; only pageblocks of the request's type
    /// (INIT_COMPACT_PRIORITY, the first try).
    case async = 2
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// `enum compact_result`, in the kernel's order (callers keep the largest).
public enum CompactResult: Int, Sendable, Comparable {
    case notSuitableZone, skipped, deferred, noSuitablePage, `continue`, complete, partialSkipped, contended, success
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// `struct compact_control` for one zone: the two scanners' positions (zone page indexes),
/// the pages each isolated, and the request.
struct CompactControl {
    let zone: Int
    let order: Int
    let migratetype: Int
    let priority: CompactPriority
    let direct: Bool
    let highest: ZoneType
    let allocFlags: AllocFlags
    var wholeZone: Bool
    var migratePFN = 0
    var freePFN = 0
    var migrateScanned = 0
    var freeScanned = 0
    var migratePages: [Int32] = []
    var freePages: [Int32] = []
    var sync: Bool { priority != .async }
}

/// Memory compaction (mm/compaction.c, Linux 6.12): a migrate scanner walks a zone up from
/// its start isolating movable pages, a free scanner walks down from its end isolating free
/// pages, the movable pages move into the free ones, and the run ends when the scanners meet
/// or a free block of the wanted order appears. Direct compaction runs in the allocation slow
/// path with priorities and per-zone deferral; counters follow /proc/vmstat.
///
/// Not modelled: the pageblock skip bits and fast free/migrate searches (`fast_isolate_freepages`,
/// `fast_find_migrateblock`), capture of the freed block by the compactor, and proactive
/// compaction. The daemon's side is in Kcompactd.swift.
extension Kernel {
    /// COMPACT_CLUSTER_MAX: pages isolated per round.
    static let compactClusterMax = 32
    /// COMPACT_MAX_DEFER_SHIFT.
    static let compactMaxDeferShift = 6

    // MARK: deferral (compaction_deferred / defer_compaction / compaction_defer_reset)

    /// The deferral words of a zone, read and written by every CPU that compacts it without a
    /// lock, as the kernel does (its heuristics tolerate the races): relaxed atomics, so a lost
    /// update is possible but no torn or undefined access.
    @inline(__always) private func slot(_ z: UnsafeMutablePointer<ZoneCore>, _ i: Int) -> UnsafeMutablePointer<UInt64> {
        UnsafeMutableRawPointer(z.pointee.compactState + i).assumingMemoryBound(to: UInt64.self)
    }
    @inline(__always) private func get(_ z: UnsafeMutablePointer<ZoneCore>, _ i: Int) -> Int { Int(truncatingIfNeeded: arch_load_relaxed_u64(slot(z, i))) }
    @inline(__always) private func set(_ z: UnsafeMutablePointer<ZoneCore>, _ i: Int, _ v: Int) { arch_store_relaxed_u64(slot(z, i), UInt64(truncatingIfNeeded: v)) }

    /// Models `compaction_deferred()`: after failures, skip the next 2^defer_shift attempts at
    /// this order or above.
    func compactionDeferred(_ z: UnsafeMutablePointer<ZoneCore>, order: Int) -> Bool {
        let limit = 1 << get(z, CompactSlot.deferShift)
        if order < get(z, CompactSlot.orderFailed) { return false }
        let considered = get(z, CompactSlot.considered) + 1
        set(z, CompactSlot.considered, Swift.min(considered, limit))
        return considered < limit
    }

    /// Models `defer_compaction()`.
    func deferCompaction(_ z: UnsafeMutablePointer<ZoneCore>, order: Int) {
        set(z, CompactSlot.considered, 0)
        set(z, CompactSlot.deferShift, Swift.min(get(z, CompactSlot.deferShift) + 1, Self.compactMaxDeferShift))
        if order < get(z, CompactSlot.orderFailed) { set(z, CompactSlot.orderFailed, order) }
    }

    /// Models `compaction_defer_reset()`.
    func compactionDeferReset(_ z: UnsafeMutablePointer<ZoneCore>, order: Int, allocSuccess: Bool) {
        if allocSuccess { set(z, CompactSlot.considered, 0); set(z, CompactSlot.deferShift, 0) }
        if order >= get(z, CompactSlot.orderFailed) { set(z, CompactSlot.orderFailed, order + 1) }
    }

    // MARK: suitability

    /// Models `__compaction_suitable()`: order-0 watermark (low for costly orders, min
    /// otherwise) plus `compact_gap()` = 2 << order, so that there are free pages to migrate into.
    /// Never for a zone under `locks: { zone: atomic }`: its lock-free pool has no free lists for
    /// the free scanner to isolate from under the lock, so compaction skips it (and the slow
    /// path never retries compaction for it).
    func compactionSuitableWatermark(_ z: UnsafeMutablePointer<ZoneCore>, order: Int, highest: ZoneType, free: Int? = nil) -> Bool {
        if z.pointee.atomic != nil { return false }
        let w = z.pointee.watermarks
        let mark = (order > 3 ? w.low : w.min) + (2 << order)
        let available = free ?? z.pointee.freePages
        return available - mark > z.pointee.reserve[highest.rawValue]
    }

    /// Models `compaction_suitable()`: the watermark above, and for costly orders a
    /// fragmentation index above `extfrag_threshold` (500): a failure from lack of memory is
    /// reclaim's job, not compaction's.
    func compactionSuitable(_ z: UnsafeMutablePointer<ZoneCore>, order: Int, highest: ZoneType) -> Bool {
        guard compactionSuitableWatermark(z, order: order, highest: highest) else { return false }
        if order > 3 {
            let blocks = (0...z.pointee.maxOrder).map { z.pointee.nrFreeBlocks(order: $0) }
            let index = Self.fragmentationIndex(order: order, freeBlocks: blocks)
            if index >= 0 && index <= 500 { return false }
        }
        return true
    }

    // MARK: one zone

    /// Models `compact_zone()`.
    func compactZone(_ cc: inout CompactControl, cpu: CPUContext) -> CompactResult {
        let z = cores + cc.zone
        let mark = cc.allocFlags.contains(.wmarkLow) ? z.pointee.watermarks.low : z.pointee.watermarks.min
        // compaction_suit_allocation_order()
        if z.pointee.watermarkOK(order: cc.order, mark: mark, highest: cc.highest, flags: cc.allocFlags) { return .success }
        if !compactionSuitable(z, order: cc.order, highest: cc.highest) { return .skipped }
        let pbOrder = z.pointee.pageblockOrder
        let lastBlock = ((z.pointee.pages - 1) >> pbOrder) << pbOrder
        if cc.wholeZone {
            cc.migratePFN = 0
            cc.freePFN = lastBlock
        } else {
            cc.migratePFN = get(z, cc.sync ? CompactSlot.cachedMigrateSync : CompactSlot.cachedMigrateAsync)
            cc.freePFN = get(z, CompactSlot.cachedFree)
            if cc.freePFN <= 0 || cc.freePFN > lastBlock { cc.freePFN = lastBlock; set(z, CompactSlot.cachedFree, lastBlock) }
            if cc.migratePFN < 0 || cc.migratePFN >= z.pointee.pages { cc.migratePFN = 0 }
            if cc.migratePFN == 0 { cc.wholeZone = true }
        }
        var result = CompactResult.continue
        while true {
            result = compactFinished(&cc)
            if result != .continue { break }
            isolateMigratePages(&cc)
            if cc.migratePages.isEmpty { continue }
            if !migrateIsolated(&cc, cpu: cpu) && !scannersMet(cc) {
                result = .contended
                break
            }
        }
        // Free pages left isolated go back; the free scanner restarts no further up than they were.
        if let top = cc.freePages.max() {
            let block = (Int(top) >> pbOrder) << pbOrder
            if block > get(z, CompactSlot.cachedFree) { set(z, CompactSlot.cachedFree, block) }
        }
        for i in cc.freePages { freePages(cpu, PageRef(zone: Int32(cc.zone), index: i), order: 0) }
        cc.freePages.removeAll()
        if !scannersMet(cc) {
            set(z, cc.sync ? CompactSlot.cachedMigrateSync : CompactSlot.cachedMigrateAsync, cc.migratePFN)
        }
        // count_compact_events(): the daemon's scans also count under its own names.
        z.pointee.count(.compactMigrateScanned, UInt64(cc.migrateScanned))
        z.pointee.count(.compactFreeScanned, UInt64(cc.freeScanned))
        if !cc.direct {
            z.pointee.count(.compactDaemonMigrateScanned, UInt64(cc.migrateScanned))
            z.pointee.count(.compactDaemonFreeScanned, UInt64(cc.freeScanned))
        }
        return result
    }

    /// `compact_scanners_met()`: the free scanner's pageblock is at or below the migrate scanner's.
    func scannersMet(_ cc: CompactControl) -> Bool {
        let pb = cores[cc.zone].pageblockOrder
        return cc.freePFN >> pb <= cc.migratePFN >> pb
    }

    /// Models `__compact_finished()` / `compact_finished()`: complete when the scanners meet
    /// (the cached positions start over), else, at a pageblock boundary, success once a block
    /// of the order is free on the request's own list or on a list it may steal from whole.
    func compactFinished(_ cc: inout CompactControl) -> CompactResult {
        let z = cores + cc.zone
        if scannersMet(cc) {
            set(z, CompactSlot.cachedMigrateSync, 0)
            set(z, CompactSlot.cachedMigrateAsync, 0)
            set(z, CompactSlot.cachedFree, ((z.pointee.pages - 1) >> z.pointee.pageblockOrder) << z.pointee.pageblockOrder)
            return cc.wholeZone ? .complete : .partialSkipped
        }
        if cc.migratePFN & ((1 << z.pointee.pageblockOrder) - 1) != 0 { return .continue }
        z.pointee.lock.lock(mayBlock: false, cpu: nil)
        defer { z.pointee.lock.unlock(cpu: nil) }
        for order in cc.order...z.pointee.maxOrder {
            if z.pointee.nrFreeBlocks(order: order, mt: cc.migratetype) > 0 { return .success }
            if cc.migratetype < MigrateType.pcpTypes,
               z.pointee.findSuitableFallback(order: order, startMT: cc.migratetype, onlyStealable: true) != nil { return .success }
        }
        return .continue
    }
}

/// Indexes of a zone's compaction state (`compact_considered`, `compact_defer_shift`,
/// `compact_order_failed`, `compact_cached_migrate_pfn[2]`, `compact_cached_free_pfn`).
enum CompactSlot {
    static let considered = 0, deferShift = 1, orderFailed = 2, cachedMigrateAsync = 3, cachedMigrateSync = 4, cachedFree = 5
    static let count = 6
}
