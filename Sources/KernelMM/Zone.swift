import CArch
import Foundation

/// A memory zone of one node (`struct zone`, include/linux/mmzone.h): a contiguous PFN range
/// backed by a real arena, its `mem_map` of `Page` structs, buddy free areas per order, the
/// zone lock, watermarks and lowmem reserves.
///
/// Free-area lists and `nrFree` change only under `lock`; NR_FREE_PAGES is also readable
/// without it (relaxed), as `zone_page_state()` is.
public final class Zone: @unchecked Sendable {
    public let node: Int
    public let type: ZoneType
    /// Global zone index: `node * 3 + type`.
    public let index: Int
    public let startPFN: Int
    /// Spanned = present = managed pages here: there are no holes and no reserved pages.
    public let pages: Int
    public let maxOrder: Int
    public let base: UnsafeMutableRawPointer
    public let lock: KernelLock
    @usableFromInline let meta: UnsafeMutablePointer<Page>
    @usableFromInline let freeHead: UnsafeMutablePointer<Int32>
    @usableFromInline let freeBlocks: UnsafeMutablePointer<Int>
    @usableFromInline let nrFree: UnsafeMutablePointer<UInt64>
    public let watermarks: Watermarks
    /// `lowmem_reserve[classzone]`: pages kept back from allocations whose highest zone is higher.
    @usableFromInline let reserve: UnsafeMutablePointer<Int>
    public var lowmemReserve: [Int] { (0..<ZoneType.allCases.count).map { reserve[$0] } }
    public let pcpBatch: Int
    public let pcpHigh: Int
    /// Reclaim passes kswapd or direct reclaim ran for this zone (atomic: both may run at once).
    @usableFromInline let reclaimCounter: UnsafeMutablePointer<UInt64>
    public var reclaimPasses: UInt64 { arch_load_relaxed_u64(reclaimCounter) }
    func countReclaimPass() { _ = arch_fetch_add_u64(reclaimCounter, 1) }
    /// Free blocks per order right after boot, for the "back to its initial state" check.
    public private(set) var initialFreeBlocks: [Int] = []

    init(node: Int, type: ZoneType, startPFN: Int, pages: Int, maxOrder: Int, base: UnsafeMutableRawPointer,
         lockPolicy: LockPolicy, log: KernelLog, watermarks: Watermarks, lowmemReserve: [Int],
         pcpBatch: Int, pcpHigh: Int) {
        self.node = node
        self.type = type
        self.index = node * ZoneType.allCases.count + type.rawValue
        self.startPFN = startPFN
        self.pages = pages
        self.maxOrder = maxOrder
        self.base = base
        self.lock = KernelLock(name: "zone \(node) \(type)", policy: lockPolicy, log: log)
        meta = .allocate(capacity: Swift.max(pages, 1))
        meta.initialize(repeating: .empty, count: Swift.max(pages, 1))
        freeHead = .allocate(capacity: maxOrder + 1)
        freeHead.initialize(repeating: -1, count: maxOrder + 1)
        freeBlocks = .allocate(capacity: maxOrder + 1)
        freeBlocks.initialize(repeating: 0, count: maxOrder + 1)
        nrFree = .allocate(capacity: 1)
        nrFree.initialize(to: 0)
        reclaimCounter = .allocate(capacity: 1)
        reclaimCounter.initialize(to: 0)
        self.watermarks = watermarks
        reserve = .allocate(capacity: ZoneType.allCases.count)
        reserve.initialize(repeating: 0, count: ZoneType.allCases.count)
        for (i, r) in lowmemReserve.enumerated() { reserve[i] = r }
        self.pcpBatch = pcpBatch
        self.pcpHigh = pcpHigh
        releaseBootMemory()
    }

    deinit { meta.deallocate(); freeHead.deallocate(); freeBlocks.deallocate(); nrFree.deallocate(); reclaimCounter.deallocate(); reserve.deallocate() }

    /// `memblock_free_pages()` at boot: hand every page to the buddy allocator in the largest
    /// naturally aligned blocks that fit.
    private func releaseBootMemory() {
        var i = 0
        while i < pages {
            var order = maxOrder
            while order > 0 && (i & ((1 << order) - 1) != 0 || i + (1 << order) > pages) { order -= 1 }
            addToFreeArea(Int32(i), order: order)
            i += 1 << order
        }
        arch_store_relaxed_u64(nrFree, UInt64(pages))
        initialFreeBlocks = (0...maxOrder).map { freeBlocks[$0] }
    }

    public var isEmpty: Bool { pages == 0 }

    /// NR_FREE_PAGES, read without the lock.
    @inlinable public var freePages: Int { Int(arch_load_relaxed_u64(nrFree)) }

    @inlinable public func address(of index: Int32) -> UnsafeMutableRawPointer {
        base + Int(index) << PAGE_SHIFT
    }

    public func contains(_ p: UnsafeRawPointer) -> Bool {
        p >= UnsafeRawPointer(base) && p < UnsafeRawPointer(base + pages << PAGE_SHIFT)
    }

    // MARK: free areas (lock held)

    @inline(__always) func addToFreeArea(_ i: Int32, order: Int) {
        let h = freeHead[order]
        meta[Int(i)].flags = .buddy
        meta[Int(i)].order = Int8(order)
        meta[Int(i)].next = h
        meta[Int(i)].prev = -1
        if h >= 0 { meta[Int(h)].prev = i }
        freeHead[order] = i
        freeBlocks[order] += 1
    }

    @inline(__always) func removeFromFreeArea(_ i: Int32, order: Int) {
        let n = meta[Int(i)].next, p = meta[Int(i)].prev
        if p >= 0 { meta[Int(p)].next = n } else { freeHead[order] = n }
        if n >= 0 { meta[Int(n)].prev = p }
        meta[Int(i)].flags.remove(.buddy)
        meta[Int(i)].next = -1
        meta[Int(i)].prev = -1
        freeBlocks[order] -= 1
    }

    @inline(__always) func adjustFree(_ delta: Int) {
        arch_store_relaxed_u64(nrFree, UInt64(Int(arch_load_relaxed_u64(nrFree)) + delta))
    }

    /// Free blocks per order now (`/proc/buddyinfo` row). Takes the lock.
    public func freeBlocksPerOrder() -> [Int] {
        lock.withLock(mayBlock: true, cpu: nil) { (0...maxOrder).map { freeBlocks[$0] } }
    }
}
