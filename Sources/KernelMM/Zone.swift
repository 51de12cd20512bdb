import CArch
import Foundation

/// A memory zone of one node (`struct zone`, include/linux/mmzone.h): a contiguous PFN range
/// backed by a real arena, its `mem_map` of `Page` structs, buddy free areas per order, the
/// zone lock, watermarks and lowmem reserves. Under `locks: { zone: atomic }` the free areas are
/// an `AtomicBuddy` instead of lists under the lock; the lock then only serialises quiescent
/// readers (checks, buddyinfo) and is never taken by the allocator.
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
        guard let tree = core.atomic else { return lock.withLock(mayBlock: true, cpu: nil) { core.freeOneBlock(i, order: order) } }
        var t = CASTally()
        tree.free(i, order: order, &t)
        tree.stats.record(t, cpu: cpu)
    }

    // Buddy operations on the core, for tests and checks (lock held by the caller).
    func rmqueueSmallest(order: Int) -> Int32? { core.rmqueueSmallest(order: order) }
    func freeOneBlock(_ i: Int32, order: Int) { core.freeOneBlock(i, order: order) }
    func nrFreeBlocks(order: Int) -> Int { core.nrFreeBlocks(order: order) }
    func isFreeBuddy(_ i: Int, order: Int) -> Bool { core.isFreeBuddy(i, order: order) }
    var freeHead: UnsafeMutablePointer<Int32> { core.freeHead }
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
    public let base: UnsafeMutableRawPointer
    public let lock: LockCore
    public let watermarks: Watermarks
    public let pcpBatch: Int
    public let pcpHigh: Int
    /// This zone's slice of the machine's `mem_map`.
    @usableFromInline let meta: UnsafeMutablePointer<Page>
    @usableFromInline let freeHead: UnsafeMutablePointer<Int32>
    @usableFromInline let freeBlocks: UnsafeMutablePointer<UInt64>
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
        self.base = base
        self.lock = lock
        self.watermarks = watermarks
        self.pcpBatch = pcpBatch
        self.pcpHigh = pcpHigh
        self.meta = meta
        freeHead = .allocate(capacity: maxOrder + 1)
        freeHead.initialize(repeating: -1, count: maxOrder + 1)
        freeBlocks = .allocate(capacity: maxOrder + 1)
        freeBlocks.initialize(repeating: 0, count: maxOrder + 1)
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
    }

    /// `memblock_free_pages()` at boot: hand every page to the buddy allocator in the largest
    /// naturally aligned blocks that fit.
    func releaseBootMemory() {
        var i = 0
        while i < pages {
            var order = maxOrder
            while order > 0 && (i & ((1 << order) - 1) != 0 || i + (1 << order) > pages) { order -= 1 }
            addToFreeArea(Int32(i), order: order)
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

    @inline(__always) func isFreeBuddy(_ i: Int, order: Int) -> Bool { Int(meta[i].buddyOrder) == order }

    @inline(__always) func addToFreeArea(_ i: Int32, order: Int) {
        let h = freeHead[order]
        meta[Int(i)].buddyOrder = Int8(order)
        meta[Int(i)].next = h
        meta[Int(i)].prev = -1
        if h >= 0 { meta[Int(h)].prev = i }
        freeHead[order] = i
        addFreeBlocks(order: order, 1)
    }

    @inline(__always) func removeFromFreeArea(_ i: Int32, order: Int) {
        let n = meta[Int(i)].next, p = meta[Int(i)].prev
        if p >= 0 { meta[Int(p)].next = n } else { freeHead[order] = n }
        if n >= 0 { meta[Int(n)].prev = p }
        meta[Int(i)].buddyOrder = -1
        meta[Int(i)].next = -1
        meta[Int(i)].prev = -1
        addFreeBlocks(order: order, -1)
    }

    @inline(__always) func adjustFree(_ delta: Int) {
        arch_store_relaxed_u64(nrFree, UInt64(Int(arch_load_relaxed_u64(nrFree)) + delta))
    }
}
