import Testing
@testable import KernelMM

/// The high-order atomic reserve and the reserve rights of the watermark check
/// (mm/page_alloc.c reserve_highatomic_pageblock, unreserve_highatomic_pageblock,
/// __zone_watermark_ok with ALLOC_HIGHATOMIC / ALLOC_OOM, Linux 6.12).
@Suite struct HighAtomicReserveTests {
    @Test("gfp_to_alloc_flags: ALLOC_HIGHATOMIC for non-blocking order > 0 unless __GFP_NOMEMALLOC")
    func allocFlags() {
        #expect(AllocFlags.slowPath(.atomic, order: 1).contains(.highAtomic))
        #expect(!AllocFlags.slowPath(.atomic, order: 0).contains(.highAtomic))
        #expect(!AllocFlags.slowPath(.kernel, order: 3).contains(.highAtomic))
        #expect(!AllocFlags.slowPath([.atomic, .nomemalloc], order: 2).contains(.highAtomic))
    }

    @Test("__zone_watermark_ok: callers without reserve rights do not count the high-atomic reserve; ALLOC_OOM halves min again")
    func watermarkRights() throws {
        let k = try TestKernel.make(perNode: 8 << 20, dma: 0, dma32: 0)
        let z = k.nodes[0].zone(.normal).core
        #expect(z.watermarkOK(order: 0, mark: 2000, highest: .normal, flags: []))
        z.setReservedHighatomic(64)
        #expect(!z.watermarkOK(order: 0, mark: 2000, highest: .normal, flags: []), "2048 - 64 reserved ≤ 2000")
        #expect(z.watermarkOK(order: 0, mark: 2000, highest: .normal, flags: .nonBlock), "ALLOC_NON_BLOCK is a reserve right")
        #expect(z.watermarkOK(order: 0, mark: 2000, highest: .normal, flags: .highAtomic))
        #expect(!z.watermarkOK(order: 0, mark: 2400, highest: .normal, flags: .nonBlock))
        #expect(z.watermarkOK(order: 0, mark: 2400, highest: .normal, flags: .oom), "OOM victims: min / 2")
        z.setReservedHighatomic(0)
    }

    @Test("reserve_highatomic_pageblock: a successful GFP_ATOMIC order-1 allocation in the slow path reserves its pageblock, up to 1 % of the zone; unreserve gives it back")
    func reserveAndUnreserve() throws {
        // max_order 4: pageblocks of 16 pages, so 1 % of 2048 pages (20) allows a reserve of 32.
        let k = try TestKernel.make(perNode: 8 << 20, dma: 0, dma32: 0, watermarks: Watermarks(min: 4, low: 2047, high: 2047), maxOrder: 4)
        let z = k.nodes[0].zone(.normal)
        let cpu = k.cpus[0]
        let a = try #require(k.allocPages(cpu, .atomic, order: 1))
        #expect(z.reservedHighatomic == 16)
        #expect(z.pageblockCounts()[MigrateType.highAtomic.rawValue] == 1)
        #expect(z.pageblockType(ofPage: Int(a.index)) == .highAtomic)
        #expect(z.vmEvent(.highatomicReserve) == 1)
        var more: [PageRef] = []
        for _ in 0..<40 { if let p = k.allocPages(cpu, .atomic, order: 1) { more.append(p) } }
        #expect(z.reservedHighatomic <= 32, "never more than 1 % rounded up to pageblocks")
        #expect(k.checkPages(expectAllFree: false).isEmpty)
        for p in [a] + more { k.freePages(cpu, p, order: 1) }
        k.drainPCP(cpu)
        let before = z.reservedHighatomic
        #expect(k.unreserveHighatomicPageblock(cpu, zones: [z.index], migratetype: MigrateType.unmovable.rawValue, force: true))
        #expect(z.reservedHighatomic == before - 16)
        #expect(z.vmEvent(.highatomicUnreserve) == 1)
        while k.unreserveHighatomicPageblock(cpu, zones: [z.index], migratetype: MigrateType.unmovable.rawValue, force: true) {}
        #expect(z.reservedHighatomic == 0 && z.pageblockCounts()[MigrateType.highAtomic.rawValue] == 0)
        #expect(k.checkPages(expectAllFree: true).isEmpty)
    }

    @Test("unreserve_highatomic_pageblock without force keeps the last reserved pageblock")
    func unreserveKeepsOne() throws {
        let k = try TestKernel.make(perNode: 8 << 20, dma: 0, dma32: 0, watermarks: Watermarks(min: 4, low: 2047, high: 2047), maxOrder: 4)
        let z = k.nodes[0].zone(.normal)
        let a = try #require(k.allocPages(k.cpus[0], .atomic, order: 1))
        #expect(z.reservedHighatomic == 16)
        #expect(!k.unreserveHighatomicPageblock(k.cpus[0], zones: [z.index], migratetype: 0, force: false))
        k.freePages(k.cpus[0], a, order: 1)
        k.drainPCP(k.cpus[0])
        #expect(k.checkPages(expectAllFree: true).isEmpty)
    }
}

/// The zone counter array's layout constants match the event list.
@Suite struct ZoneVMEventTests {
    @Test("ZoneVMEvent slots: every event, then nr_reserved_highatomic, then the ever-reserved flag")
    func slots() {
        #expect(ZoneVMEvent.reservedSlot == ZoneVMEvent.allCases.count)
        #expect(ZoneVMEvent.everReservedSlot == ZoneVMEvent.allCases.count + 1)
        #expect(ZoneVMEvent.slots == ZoneVMEvent.allCases.count + 2)
    }
}
