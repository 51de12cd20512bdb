import Testing
import Foundation
@testable import KernelMM

private let PG = KernelMM.PAGE_SIZE

/// Compaction and page migration (mm/compaction.c, mm/migrate.c, mm/page_alloc.c, Linux 6.12).
@Suite(.serialized) struct CompactionTests {
    /// One node, ZONE_NORMAL only (2048 pages, four pageblocks), two CPUs, a mapping of
    /// `pages` pages written with a per-page pattern, then every other page unmapped: movable
    /// pages scattered over the zone with order-0 holes between them.
    static func fragmented(pages: Int = 1900, compaction: Bool = true, kswapd: Bool = false) throws -> (Kernel, MMU, AddressSpace, [UInt64]) {
        let k = try TestKernel.make("pack:1 [numa] core:2 pu:1", perNode: 8 << 20, dma: 0, dma32: 0,
                                    watermarks: Watermarks(min: 8, low: 10, high: 12), kswapd: kswapd) { $0.compaction = compaction }
        let mmu = try MMU(kernel: k)
        mmu.debugChecks = true
        mmu.synchronousIPIs = true   // one thread drives both CPUs: the sender runs their IPI handlers
        let cpu = k.cpus[0]
        let space = try mmu.createAddressSpace(name: "frag", cpu: cpu)
        let va = try #require(mmu.mmap(cpu, space, length: pages * PG))
        var kept: [UInt64] = []
        for i in 0..<pages {
            let a = va + UInt64(i * PG)
            try mmu.access(cpu, space, a, bytes: PG, write: true, pattern: UInt8(truncatingIfNeeded: i | 1))
        }
        // The second CPU caches translations of every page that stays.
        for i in stride(from: 0, to: pages, by: 2) {
            let a = va + UInt64(i * PG)
            try mmu.access(k.cpus[1], space, a, bytes: 64, write: false)
            kept.append(a)
        }
        for i in stride(from: 1, to: pages, by: 2) { mmu.munmap(cpu, space, va + UInt64(i * PG), length: PG) }
        k.drainPCP(cpu)
        k.drainPCP(k.cpus[1])
        return (k, mmu, space, kept)
    }

    /// Every kept page still reads its pattern, from both CPUs, and is owned once.
    static func checkMapping(_ k: Kernel, _ mmu: MMU, _ space: AddressSpace, _ kept: [UInt64], base: UInt64) throws {
        var owners = Set<Int>()
        for a in kept {
            let i = Int((a - base) / UInt64(PG))
            let pattern = UInt64(UInt8(truncatingIfNeeded: i | 1))
            for cpu in k.cpus {
                #expect(try mmu.access(cpu, space, a, bytes: PG, write: false) == pattern * UInt64(PG / 64))
            }
            let e = try #require(space.pageTable.walk(a).pte)
            #expect(owners.insert(e.pfn).inserted, "a page mapped twice")
            let m = k.pfnToPage(e.pfn).pointee
            #expect(m.flags.contains(.movable) && m.privateWord == a && Int(m.cacheID) == space.asid)
        }
        #expect(mmu.totals.staleUses == 0)
        #expect(k.log.count(.mmFault) == 0)
    }

    @Test("compact_zone: the migrate and free scanners meet; pages move, contents and TLBs stay coherent, the buddy state holds")
    func scannersMeet() throws {
        let (k, mmu, space, kept) = try Self.fragmented()
        let z = k.nodes[0].zone(.normal)
        #expect(z.freeBlocksPerOrder()[9...].allSatisfy { $0 == 0 }, "fragmented: no free pageblock")
        var cc = CompactControl(zone: z.index, order: 9, migratetype: MigrateType.movable.rawValue, priority: .syncFull,
                                direct: true, highest: .normal, allocFlags: [], wholeZone: true)
        let result = k.compactZone(&cc, cpu: k.cpus[0])
        #expect(result == .success || result == .complete)
        #expect(z.vmEvent(.pgmigrateSuccess) > 0)
        #expect(z.vmEvent(.compactMigrateScanned) > 0 && z.vmEvent(.compactFreeScanned) > 0)
        #expect(z.freeBlocksPerOrder()[9...].reduce(0, +) > 0, "a pageblock-sized block is free again")
        #expect(k.checkPages(expectAllFree: false).isEmpty)
        try Self.checkMapping(k, mmu, space, kept, base: kept[0])
        #expect(space.mappedPages == kept.count)
        mmu.teardown(cpu: k.cpus[0])
        k.drainPCP(k.cpus[0]); k.drainPCP(k.cpus[1])
        #expect(k.checkPages(expectAllFree: true).isEmpty, "every moved page freed exactly once")
    }

    @Test("A full sync compaction that meets its scanners without success defers the zone: compaction_deferred skips the next 2^shift - 1 tries")
    func deferral() throws {
        let k = try TestKernel.make(perNode: 8 << 20, dma: 0, dma32: 0)
        let z = k.cores + k.nodes[0].zone(.normal).index
        #expect(!k.compactionDeferred(z, order: 9), "never failed: not deferred")
        k.deferCompaction(z, order: 9)
        k.deferCompaction(z, order: 9)   // shift 2: skip 3, try the 4th
        #expect((0..<3).map { _ in k.compactionDeferred(z, order: 9) } == [true, true, true])
        #expect(!k.compactionDeferred(z, order: 9))
        #expect(!k.compactionDeferred(z, order: 8), "orders below the failed one are never deferred")
        k.compactionDeferReset(z, order: 9, allocSuccess: true)
        #expect(!k.compactionDeferred(z, order: 9))
    }

    @Test("should_compact_retry: failure raises the priority, down to SYNC_LIGHT for costly orders and SYNC_FULL otherwise; success retries 16 (costly 4) times")
    func compactRetry() throws {
        let k = try TestKernel.make(perNode: 8 << 20, dma: 0, dma32: 0)
        let zones = [k.nodes[0].zone(.normal).index]
        var prio = CompactPriority.async, retries = 0
        #expect(k.shouldCompactRetry(order: 9, result: .complete, priority: &prio, retries: &retries, zoneIDs: zones, highest: .normal))
        #expect(prio == .syncLight)
        #expect(!k.shouldCompactRetry(order: 9, result: .complete, priority: &prio, retries: &retries, zoneIDs: zones, highest: .normal))
        prio = .syncLight
        #expect(k.shouldCompactRetry(order: 2, result: .complete, priority: &prio, retries: &retries, zoneIDs: zones, highest: .normal))
        #expect(prio == .syncFull)
        prio = .syncFull; retries = 0
        let costly = (0..<6).map { _ in k.shouldCompactRetry(order: 9, result: .success, priority: &prio, retries: &retries, zoneIDs: zones, highest: .normal) }
        #expect(costly == [true, true, true, true, false, false])
        retries = 0
        #expect((0..<17).filter { _ in k.shouldCompactRetry(order: 2, result: .success, priority: &prio, retries: &retries, zoneIDs: zones, highest: .normal) }.count == 16)
        #expect(!k.shouldCompactRetry(order: 0, result: .complete, priority: &prio, retries: &retries, zoneIDs: zones, highest: .normal))
    }

    @Test("Direct compaction in the slow path: a costly movable allocation on a fragmented zone stalls, compacts (async, movable blocks) and succeeds; without compaction it fails")
    func directCompactionStall() throws {
        for on in [true, false] {
            let (k, mmu, space, kept) = try Self.fragmented(compaction: on)
            let z = k.nodes[0].zone(.normal)
            let p = k.allocPages(k.cpus[0], [.highuserMovable, .nowarn], order: 9)
            if on {
                let page = try #require(p)
                #expect(z.vmEvent(.compactStall) == 1 && z.vmEvent(.compactSuccess) == 1 && z.vmEvent(.compactFail) == 0)
                try Self.checkMapping(k, mmu, space, kept, base: kept[0])
                k.freePages(k.cpus[0], page, order: 9)
            } else {
                #expect(p == nil)
                #expect(z.vmEvent(.compactStall) == 0)
            }
            mmu.teardown(cpu: k.cpus[0])
            k.drainPCP(k.cpus[0]); k.drainPCP(k.cpus[1])
            #expect(k.checkPages(expectAllFree: true).isEmpty)
        }
    }

    @Test("An unmovable costly request: async compaction only scans unmovable blocks and fails; __GFP_RETRY_MAYFAIL retries at SYNC_LIGHT and succeeds, while plain GFP_KERNEL gives up")
    func unmovableNeedsSync() throws {
        let (k, mmu, _, _) = try Self.fragmented()
        let z = k.nodes[0].zone(.normal)
        #expect(k.allocPages(k.cpus[0], [.kernel, .nowarn], order: 9) == nil)
        #expect(z.vmEvent(.compactFail) >= 1 && z.vmEvent(.pgmigrateSuccess) == 0)
        let page = try #require(k.allocPages(k.cpus[0], [.kernel, .nowarn, .retryMayfail], order: 9))
        #expect(z.vmEvent(.compactSuccess) == 1 && z.vmEvent(.pgmigrateSuccess) > 0)
        k.freePages(k.cpus[0], page, order: 9)
        mmu.teardown(cpu: k.cpus[0])
        k.drainPCP(k.cpus[0]); k.drainPCP(k.cpus[1])
        #expect(k.checkPages(expectAllFree: true).isEmpty)
    }

    @Test("THP fault: order 9 with GFP_TRANSHUGE counts thp_fault_alloc; on a fragmented zone without compaction it falls back to 4 KiB pages (thp_fault_fallback)")
    func thpFault() throws {
        let (k, mmu, space, kept) = try Self.fragmented(compaction: false)
        let z = k.nodes[0].zone(.normal)
        let cpu = k.cpus[0]
        let huge = try #require(mmu.mmap(cpu, space, length: 2 << 20, huge: true))
        try mmu.access(cpu, space, huge + 5 * UInt64(PG), bytes: 8, write: true, pattern: 0x33)
        try mmu.access(cpu, space, huge + 9 * UInt64(PG), bytes: 8, write: true, pattern: 0x44)
        #expect(z.vmEvent(.thpFaultFallback) == 1 && z.vmEvent(.thpFaultAlloc) == 0,
                "once the range has a page table, later faults there are 4 KiB faults")
        let e = try #require(space.pageTable.walk(huge + 5 * UInt64(PG)).pte)
        #expect(!e.isHuge)
        mmu.munmap(cpu, space, huge, length: 2 << 20)
        _ = kept
        mmu.teardown(cpu: cpu)
        k.drainPCP(k.cpus[0]); k.drainPCP(k.cpus[1])
        #expect(k.checkPages(expectAllFree: true).isEmpty)
        // On an empty zone the THP is there.
        let k2 = try TestKernel.make(perNode: 8 << 20, dma: 0, dma32: 0)
        let mmu2 = try MMU(kernel: k2)
        let s2 = try mmu2.createAddressSpace(name: "thp", cpu: k2.cpus[0])
        let h2 = try #require(mmu2.mmap(k2.cpus[0], s2, length: 2 << 20, huge: true))
        try mmu2.access(k2.cpus[0], s2, h2, bytes: 8, write: true)
        #expect(k2.nodes[0].zone(.normal).vmEvent(.thpFaultAlloc) == 1)
        #expect(try #require(s2.pageTable.walk(h2).pte).isHuge)
        mmu2.teardown(cpu: k2.cpus[0])
        k2.drainPCP(k2.cpus[0])
        #expect(k2.checkPages(expectAllFree: true).isEmpty)
    }
}
