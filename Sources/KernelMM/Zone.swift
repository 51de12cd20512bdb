import CArch
import Foundation

/// A memory zone of one node (`struct zone`, include/linux/mmzone.h): a contiguous PFN range
/// backed by a real arena, its `mem_map` of `Page` structs, buddy free areas per order and
/// migrate type, the pageblocks' types, the zone lock, watermarks and lowmem reserves. Under
/// `locks: { zone: atomic }` the free areas are an `AtomicBuddy` instead of lists under the
/// lock, one pool without migrate types (every pageblock stays MIGRATE_MOVABLE); the lock then
/// only serialises quiescent readers (checks, buddyinfo) and is never taken by the allocator.
///
/// The class owns the memory; the allocator's hot paths work on `core`, a struct of plain
/// values and pointers, so that they pay no reference counting.
public final class Zone: @unchecked Sendable {
    public let core: ZoneCore
    public let lock: KernelLock
    /// Free blocks per order right after boot, for the "back to its initial state" check.
    public private(set) var initialFreeBlocks: [Int] = []

    init(node: Int, type: ZoneType, startPFN: Int, pages: Int, maxOrder: Int, base: UnsafeMutableRawPointer,
         meta: UnsafeMutablePointer<Page>, lockPolicy: LockPolicy, log: KernelLog, watermarks: Watermarks,
         lowmemReserve: [Int], pcpBatch: Int, pcpHigh: Int, cpuSlots: Int = 1) {
        lock = KernelLock(name: "zone \(node) \(type)", policy: lockPolicy == .atomic ? .spin : lockPolicy, log: log)
        core = ZoneCore(node: node, type: type, startPFN: startPFN, pages: pages, maxOrder: maxOrder, base: base, meta: meta,
                        lock: lock.core, watermarks: watermarks, lowmemReserve: lowmemReserve,
                        pcpBatch: pcpBatch, pcpHigh: pcpHigh, atomic: lockPolicy == .atomic, cpuSlots: cpuSlots)
        if let tree = core.atomic { tree.boot() } else { core.releaseBootMemory() }
        initialFreeBlocks = (0...maxOrder).map { core.nrFreeBlocks(order: $0) }
    }

    deinit { core.deallocate() }

    public var node: Int { core.node }
    public var type: ZoneType { core.type }
    /// Global zone index: `node * 3 + type`.
    public var index: Int { core.index }
    public var startPFN: Int { core.startPFN }
    /// Spanned = present = managed pages here: there are no holes and no reserved pages.
    public var pages: Int { core.pages }
    public var maxOrder: Int { core.maxOrder }
    public var pageblockOrder: Int { core.pageblockOrder }
    public var base: UnsafeMutableRawPointer { core.base }
    public var watermarks: Watermarks { core.watermarks }
    public var pcpBatch: Int { core.pcpBatch }
    public var pcpHigh: Int { core.pcpHigh }
    public var isEmpty: Bool { core.pages == 0 }
    /// The zone's synchronisation: its lock's policy, or `atomic`.
    public var policy: LockPolicy { core.atomic == nil ? lock.policy : .atomic }
    /// NR_FREE_PAGES, read without the lock.
    public var freePages: Int { core.freePages }
    /// `lowmem_reserve[classzone]`: pages kept back from allocations whose highest zone is higher.
    public var lowmemReserve: [Int] { (0..<ZoneType.allCases.count).map { core.reserve[$0] } }
    /// Reclaim passes kswapd or direct reclaim ran for this zone.
    public var reclaimPasses: UInt64 { arch_load_relaxed_u64(core.reclaimCounter) }
    func countReclaimPass() { _ = arch_fetch_add_u64(core.reclaimCounter, 1) }
    var meta: UnsafeMutablePointer<Page> { core.meta }

    /// The zone's contention figures: its lock's, or for the atomic policy the CAS figures in the
    /// same terms (operations as acquisitions, operations that retried as contended, failed
    /// CASes as spins; never a wait, a sleep or a hold).
    public func lockSnapshot() -> LockSnapshot {
        guard let tree = core.atomic else { return lock.snapshot() }
        let f = tree.stats.snapshot()
        let zeros = [UInt64](repeating: 0, count: LockStats.buckets)
        return LockSnapshot(name: lock.name, policy: .atomic, acquisitions: f.operations, contended: f.contended,
                            spins: f.casFailures, sleeps: 0, waitNS: 0, holdNS: 0, maxWaitNS: 0, maxHoldNS: 0,
                            waitHistogram: zeros, holdHistogram: zeros, atomic: f)
    }

    /// Clears the contention figures (between warm-up and the measured phase).
    public func resetLockStats() {
        if let tree = core.atomic { tree.stats.reset() } else { lock.resetStats() }
    }

    /// Free blocks per order now (`/proc/buddyinfo` row). Takes the lock.
    public func freeBlocksPerOrder() -> [Int] {
        lock.withLock(mayBlock: true, cpu: nil) { (0...maxOrder).map { core.nrFreeBlocks(order: $0) } }
    }

    /// Free blocks per order read without the lock, as vmstat readers do: each counter is whole,
    /// the set is not one instant. For sampling over time without touching lock statistics.
    public func freeBlocksPerOrderUnlocked() -> [Int] { (0...maxOrder).map { core.nrFreeBlocks(order: $0) } }

    /// Free pages on each migrate type's lists (`MigrateType` order), without the lock: the
    /// per-type counters pagetypeinfo sums, for sampling while CPUs allocate.
    public func freePagesPerMigrateTypeUnlocked() -> [Int] {
        MigrateType.allCases.map { mt in (0...maxOrder).reduce(0) { $0 + core.nrFreeBlocks(order: $1, mt: mt.rawValue) << $1 } }
    }

    /// One allocation from the free areas by the zone's policy, as `__rmqueue_smallest()` under
    /// the lock or lock-free (tests and checks; `cpu` picks the figures' slot).
    func takeBlock(order: Int, cpu: Int? = nil) -> Int32? {
        guard let tree = core.atomic else { return lock.withLock(mayBlock: true, cpu: nil) { core.rmqueueSmallest(order: order) } }
        var t = CASTally()
        defer { tree.stats.record(t, cpu: cpu) }
        return tree.alloc(order: order, &t)
    }

    /// One release into the free areas by the zone's policy, as `__free_one_page()`.
    func giveBlock(_ i: Int32, order: Int, cpu: Int? = nil) {
        guard let tree = core.atomic else {
            return lock.withLock(mayBlock: true, cpu: nil) { core.freeOneBlock(i, order: order, mt: core.pageblockType(of: i)) }
        }
        var t = CASTally()
        tree.free(i, order: order, &t)
        tree.stats.record(t, cpu: cpu)
    }

    // Buddy operations on the core, for tests and checks (lock held by the caller).
    func rmqueueSmallest(order: Int) -> Int32? { core.rmqueueSmallest(order: order) }
    func rmqueueSmallest(order: Int, migratetype: MigrateType) -> Int32? {
        core.rmqueueSmallest(order: order, mt: migratetype.rawValue)
    }
    /// `__rmqueue()`: own type first, then the fallback types.
    func rmqueue(order: Int, migratetype: MigrateType, flags: AllocFlags = []) -> Int32? {
        core.rmqueue(order: order, mt: migratetype.rawValue, flags: flags)
    }
    /// Frees to the list of the block's pageblock type, as `free_one_page()` does.
    func freeOneBlock(_ i: Int32, order: Int) { core.freeOneBlock(i, order: order, mt: core.pageblockType(of: i)) }
    func nrFreeBlocks(order: Int) -> Int { core.nrFreeBlocks(order: order) }
    func isFreeBuddy(_ i: Int, order: Int) -> Bool { core.isFreeBuddy(i, order: order) }
    func freeHead(order: Int, migratetype mt: Int) -> Int32 { core.freeHead[order * MigrateType.count + mt] }

    /// Free blocks per order of one migrate type (a /proc/pagetypeinfo row). Takes the lock.
    public func freeBlocks(migratetype: MigrateType) -> [Int] {
        lock.withLock(mayBlock: true, cpu: nil) { (0...maxOrder).map { core.nrFreeBlocks(order: $0, mt: migratetype.rawValue) } }
    }

    /// Free blocks per order and migrate type read without the lock, for sampling over time.
    public func freeBlocksByTypeUnlocked() -> [[Int]] {
        MigrateType.allCases.map { mt in (0...maxOrder).map { core.nrFreeBlocks(order: $0, mt: mt.rawValue) } }
    }

    /// Pageblocks per migrate type now (the "Number of blocks type" table). Takes the lock.
    public func pageblockCounts() -> [Int] {
        lock.withLock(mayBlock: true, cpu: nil) {
            var n = [Int](repeating: 0, count: MigrateType.count)
            for b in 0..<core.pageblocks { n[core.pageblockType(block: b)] += 1 }
            return n
        }
    }

    /// The type of the pageblock holding page `index` of this zone.
    public func pageblockType(ofPage index: Int) -> MigrateType {
        MigrateType(rawValue: core.pageblockType(of: Int32(index)))!
    }

    /// This zone's fragmentation and compaction event counters.
    public func vmEvent(_ e: ZoneVMEvent) -> UInt64 { core.vmEvent(e) }
    /// `zone->nr_reserved_highatomic`.
    public var reservedHighatomic: Int { core.reservedHighatomic }
}

/// The zone's state as plain values and pointers (see `Zone`). Free-area lists and `nrFree`
/// change only under the zone lock; NR_FREE_PAGES and nr_free per order are also readable
/// without it (relaxed), as `zone_page_state()` and the watermark check read them.
public struct ZoneCore: @unchecked Sendable {
    public let node: Int
    public let type: ZoneType
    public let index: Int
    public let startPFN: Int
    public let pages: Int
    public let maxOrder: Int
    /// `pageblock_order`: min(HPAGE_PMD_ORDER = 9, MAX_PAGE_ORDER), as on x86-64.
    public let pageblockOrder: Int
    /// Pageblocks of the zone, counted from its first page (the last one may be partial).
    public let pageblocks: Int
    public let base: UnsafeMutableRawPointer
    public let lock: LockCore
    public let watermarks: Watermarks
    public let pcpBatch: Int
    public let pcpHigh: Int
    /// This zone's slice of the machine's `mem_map`.
    @usableFromInline let meta: UnsafeMutablePointer<Page>
    /// Free-list heads, `[order * MigrateType.count + migratetype]` (`free_area[order].free_list[mt]`).
    @usableFromInline let freeHead: UnsafeMutablePointer<Int32>
    /// nr_free per order, all types together (what buddyinfo and the watermark check read).
    @usableFromInline let freeBlocks: UnsafeMutablePointer<UInt64>
    /// Blocks per list, same index as `freeHead`.
    @usableFromInline let freeByType: UnsafeMutablePointer<UInt64>
    /// One byte per pageblock: its `MigrateType` (the pageblock flags' migratetype bits).
    @usableFromInline let pageblockTypes: UnsafeMutablePointer<UInt8>
    /// `ZoneVMEvent` counters, and `[reservedSlot]`: `nr_reserved_highatomic`.
    @usableFromInline let vmEvents: UnsafeMutablePointer<UInt64>
    /// Compaction state (`CompactSlot`), racy like the kernel's fields of `struct zone`.
    let compactState: UnsafeMutablePointer<Int>
    @usableFromInline let nrFree: UnsafeMutablePointer<UInt64>
    @usableFromInline let reserve: UnsafeMutablePointer<Int>
    @usableFromInline let reclaimCounter: UnsafeMutablePointer<UInt64>
    /// The lock-free free areas under `locks: { zone: atomic }`; nil for a locked zone.
    public let atomic: AtomicBuddy?

    init(node: Int, type: ZoneType, startPFN: Int, pages: Int, maxOrder: Int, base: UnsafeMutableRawPointer,
         meta: UnsafeMutablePointer<Page>, lock: LockCore, watermarks: Watermarks, lowmemReserve: [Int], pcpBatch: Int, pcpHigh: Int,
         atomic: Bool = false, cpuSlots: Int = 1) {
        self.node = node
        self.type = type
        self.index = node * ZoneType.allCases.count + type.rawValue
        self.startPFN = startPFN
        self.pages = pages
        self.maxOrder = maxOrder
        pageblockOrder = Swift.min(9, maxOrder)
        pageblocks = (pages + (1 << pageblockOrder) - 1) >> pageblockOrder
        self.base = base
        self.lock = lock
        self.watermarks = watermarks
        self.pcpBatch = pcpBatch
        self.pcpHigh = pcpHigh
        self.meta = meta
        let lists = (maxOrder + 1) * MigrateType.count
        freeHead = .allocate(capacity: lists)
        freeHead.initialize(repeating: -1, count: lists)
        freeBlocks = .allocate(capacity: maxOrder + 1)
        freeBlocks.initialize(repeating: 0, count: maxOrder + 1)
        freeByType = .allocate(capacity: lists)
        freeByType.initialize(repeating: 0, count: lists)
        // memmap_init_range(): every pageblock starts MIGRATE_MOVABLE.
        pageblockTypes = .allocate(capacity: Swift.max(pageblocks, 1))
        pageblockTypes.initialize(repeating: UInt8(MigrateType.movable.rawValue), count: Swift.max(pageblocks, 1))
        compactState = .allocate(capacity: CompactSlot.count)
        compactState.initialize(repeating: 0, count: CompactSlot.count)
        vmEvents = .allocate(capacity: ZoneVMEvent.slots)
        vmEvents.initialize(repeating: 0, count: ZoneVMEvent.slots)
        nrFree = .allocate(capacity: 1)
        nrFree.initialize(to: 0)
        reclaimCounter = .allocate(capacity: 1)
        reclaimCounter.initialize(to: 0)
        reserve = .allocate(capacity: ZoneType.allCases.count)
        reserve.initialize(repeating: 0, count: ZoneType.allCases.count)
        for (i, r) in lowmemReserve.enumerated() { reserve[i] = r }
        self.atomic = atomic && pages > 0
            ? AtomicBuddy(pages: pages, maxOrder: maxOrder, freeBlocks: freeBlocks, nrFree: nrFree, statSlots: cpuSlots) : nil
    }

    func deallocate() {
        atomic?.deallocate()
        freeHead.deallocate(); freeBlocks.deallocate(); nrFree.deallocate()
        reclaimCounter.deallocate(); reserve.deallocate()
        freeByType.deallocate(); pageblockTypes.deallocate(); vmEvents.deallocate(); compactState.deallocate()
    }

    /// `memblock_free_pages()` at boot: hand every page to the buddy allocator in the largest
    /// naturally aligned blocks that fit.
    func releaseBootMemory() {
        var i = 0
        while i < pages {
            var order = maxOrder
            while order > 0 && (i & ((1 << order) - 1) != 0 || i + (1 << order) > pages) { order -= 1 }
            addToFreeArea(Int32(i), order: order, mt: MigrateType.movable.rawValue)
            i += 1 << order
        }
        arch_store_relaxed_u64(nrFree, UInt64(pages))
    }

    /// NR_FREE_PAGES, read without the lock.
    @inline(__always) public var freePages: Int { Int(truncatingIfNeeded: arch_load_relaxed_u64(nrFree)) }

    @inline(__always) public func address(of index: Int32) -> UnsafeMutableRawPointer {
        base + Int(index) << PAGE_SHIFT
    }

    /// nr_free of an order, readable without the lock. The atomic policy's counter can lag by
    /// the operations in flight and read -1 for a moment: never less than 0 here.
    @inline(__always) func nrFreeBlocks(order: Int) -> Int {
        Swift.max(0, Int(truncatingIfNeeded: arch_load_relaxed_u64(freeBlocks + order)))
    }

    @inline(__always) func addFreeBlocks(order: Int, _ delta: Int) {
        arch_store_relaxed_u64(freeBlocks + order, UInt64(nrFreeBlocks(order: order) + delta))
    }

    /// nr_free of one order's list of one migrate type, readable without the lock. An atomic
    /// zone's single pool has no types: all its free blocks count as MIGRATE_MOVABLE.
    @inline(__always) func nrFreeBlocks(order: Int, mt: Int) -> Int {
        if atomic != nil { return mt == MigrateType.movable.rawValue ? nrFreeBlocks(order: order) : 0 }
        return Int(arch_load_relaxed_u64(freeByType + order * MigrateType.count + mt))
    }

    @inline(__always) func isFreeBuddy(_ i: Int, order: Int) -> Bool { Int(meta[i].buddyOrder) == order }

    /// `__add_to_free_list()`: at the head of `free_area[order].free_list[mt]`.
    @inline(__always) func addToFreeArea(_ i: Int32, order: Int, mt: Int) {
        let slot = order * MigrateType.count + mt
        let h = freeHead[slot]
        meta[Int(i)].buddyOrder = Int8(order)
        meta[Int(i)].next = h
        meta[Int(i)].prev = -1
        if h >= 0 { meta[Int(h)].prev = i }
        freeHead[slot] = i
        addFreeBlocks(order: order, 1)
        arch_store_relaxed_u64(freeByType + slot, arch_load_relaxed_u64(freeByType + slot) &+ 1)
    }

    /// `__del_page_from_free_list()`: `mt` is the list the block is on.
    @inline(__always) func removeFromFreeArea(_ i: Int32, order: Int, mt: Int) {
        let slot = order * MigrateType.count + mt
        let n = meta[Int(i)].next, p = meta[Int(i)].prev
        if p >= 0 { meta[Int(p)].next = n } else { freeHead[slot] = n }
        if n >= 0 { meta[Int(n)].prev = p }
        meta[Int(i)].buddyOrder = -1
        meta[Int(i)].next = -1
        meta[Int(i)].prev = -1
        addFreeBlocks(order: order, -1)
        arch_store_relaxed_u64(freeByType + slot, arch_load_relaxed_u64(freeByType + slot) &- 1)
    }

    /// `move_to_free_list()`: the block changes list, not place.
    @inline(__always) func moveToFreeList(_ i: Int32, order: Int, from: Int, to: Int) {
        removeFromFreeArea(i, order: order, mt: from)
        addToFreeArea(i, order: order, mt: to)
    }

    /// A zone event counter, read without the lock.
    @inline(__always) func vmEvent(_ e: ZoneVMEvent) -> UInt64 { arch_load_relaxed_u64(vmEvents + e.rawValue) }

    /// Counts an event; safe without the lock (compaction counts outside it).
    @inline(__always) func count(_ e: ZoneVMEvent, _ n: UInt64 = 1) { _ = arch_fetch_add_u64(vmEvents + e.rawValue, n) }

    /// `zone->nr_reserved_highatomic` (changed under the lock, read without it).
    @inline(__always) var reservedHighatomic: Int { Int(arch_load_relaxed_u64(vmEvents + ZoneVMEvent.reservedSlot)) }
    @inline(__always) func setReservedHighatomic(_ v: Int) {
        arch_store_relaxed_u64(vmEvents + ZoneVMEvent.reservedSlot, UInt64(v))
        if v > 0 { arch_store_relaxed_u64(vmEvents + ZoneVMEvent.everReservedSlot, 1) }
    }

    /// True once a high-atomic block was reserved in this zone.
    var everReservedHighatomic: Bool { arch_load_relaxed_u64(vmEvents + ZoneVMEvent.everReservedSlot) != 0 }

    func resetVMEvents() { for e in ZoneVMEvent.allCases { arch_store_relaxed_u64(vmEvents + e.rawValue, 0) } }

    @inline(__always) func adjustFree(_ delta: Int) {
        arch_store_relaxed_u64(nrFree, UInt64(Int(arch_load_relaxed_u64(nrFree)) + delta))
    }
}
