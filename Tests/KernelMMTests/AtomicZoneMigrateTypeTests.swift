import Testing
@testable import KernelMM

/// A zone under `locks: { zone: atomic }` keeps `AtomicBuddy`'s single pool without migrate
/// types (a stated departure from mm/page_alloc.c of Linux 6.12, which keeps
/// `free_area[order].free_list[migratetype]` under `zone->lock`): every pageblock stays
/// MIGRATE_MOVABLE, `reserve_highatomic_pageblock()` and `__rmqueue_fallback()` do not apply,
/// and `compact_zone()` skips the zone.
@Suite struct AtomicZoneMigrateTypeTests {
    @Test("Atomic zone: GFP_ATOMIC order-1 reserves no high-atomic pageblock; every pageblock stays Movable; pagetypeinfo's Movable rows are buddyinfo")
    func noReserveAllMovable() throws {
        // The set-up under which a locked zone reserves a pageblock (HighAtomicReserveTests).
        let k = try TestKernel.make(perNode: 8 << 20, dma: 0, dma32: 0, lock: .atomic,
                                    watermarks: Watermarks(min: 4, low: 2047, high: 2047), maxOrder: 4)
        let z = k.nodes[0].zone(.normal)
        #expect(z.policy == .atomic)
        let cpu = k.cpus[0]
        var held: [(PageRef, Int)] = []
        for _ in 0..<40 { if let p = k.allocPages(cpu, .atomic, order: 1) { held.append((p, 1)) } }
        for _ in 0..<20 { if let p = k.allocPages(cpu, .kernel, order: 4) { held.append((p, 4)) } }
        #expect(!held.isEmpty)
        #expect(z.reservedHighatomic == 0 && z.vmEvent(.highatomicReserve) == 0)
        #expect(z.vmEvent(.extfrag) == 0, "one pool: an unmovable request never falls back")
        let counts = z.pageblockCounts()
        #expect(counts[MigrateType.movable.rawValue] == counts.reduce(0, +))
        #expect(z.freeBlocks(migratetype: .movable) == z.freeBlocksPerOrder())
        for mt in MigrateType.allCases where mt != .movable { #expect(z.freeBlocks(migratetype: mt).allSatisfy { $0 == 0 }) }
        #expect(!k.unreserveHighatomicPageblock(cpu, zones: [z.index], migratetype: MigrateType.unmovable.rawValue, force: true))
        #expect(k.checkPages(expectAllFree: false).isEmpty)
        for (p, o) in held { k.freePages(cpu, p, order: o) }
        k.drainPCP(cpu)
        #expect(k.checkPages(expectAllFree: true).isEmpty)
    }

    @Test("Atomic zone: its pages are freed to the Movable PCP list (their pageblock's type), so an unmovable request takes from that list too: alloc/free pairs refill once and never drain")
    func onePCPList() throws {
        let k = try TestKernel.make(perNode: 8 << 20, dma: 0, dma32: 0, lock: .atomic)
        let z = k.nodes[0].zone(.normal)
        let cpu = k.cpus[0]
        for _ in 0..<2_000 {
            let p = try #require(k.allocPages(cpu, .kernel, order: 0))
            k.freePages(cpu, p, order: 0)
        }
        #expect(cpu.events[z.index].pcpRefills == 1 && cpu.events[z.index].pcpDrains == 0)
        #expect(cpu.pcpCount[z.index] == cpu.pcpPages(zone: z.index))
        k.drainPCP(cpu)
        #expect(k.checkPages(expectAllFree: true).isEmpty)
    }

    @Test("Atomic zone: compact_zone() skips it (no free lists for the free scanner), and a high-order request still succeeds from the pool")
    func compactionSkips() throws {
        let k = try TestKernel.make(perNode: 8 << 20, dma: 0, dma32: 0, lock: .atomic)
        let z = k.nodes[0].zone(.normal)
        let cpu = k.cpus[0]
        // Leave no free block of order 9 or more: the watermark check cannot report success.
        var held: [PageRef] = []
        while z.freeBlocksPerOrder()[9...].reduce(0, +) > 0, let p = k.allocPages(cpu, .kernel, order: 8) { held.append(p) }
        var cc = CompactControl(zone: z.index, order: 9, migratetype: MigrateType.movable.rawValue, priority: .syncFull,
                                direct: true, highest: .normal, allocFlags: [], wholeZone: true)
        #expect(k.compactZone(&cc, cpu: cpu) == .skipped)
        #expect(z.vmEvent(.compactMigrateScanned) == 0 && z.vmEvent(.compactFreeScanned) == 0)
        for p in held { k.freePages(cpu, p, order: 8) }
        let big = try #require(k.allocPages(cpu, .kernel, order: 9))
        #expect(z.vmEvent(.compactStall) == 0)
        k.freePages(cpu, big, order: 9)
        k.drainPCP(cpu)
        #expect(k.checkPages(expectAllFree: true).isEmpty)
    }
}
