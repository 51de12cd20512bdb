import Testing
@testable import KernelMM

/// Migrate types, pageblocks and fallback stealing (mm/page_alloc.c, Linux 6.12).
@Suite struct MigrateTypeTests {
    let unmovable = MigrateType.unmovable.rawValue, movable = MigrateType.movable.rawValue

    /// A zone of 2048 pages (two order-10 blocks, four pageblocks), nothing else.
    func normalOnly(maxOrder: Int = 10) throws -> (Kernel, Zone) {
        let k = try TestKernel.make(perNode: 8 << 20, dma: 0, dma32: 0, maxOrder: maxOrder)
        return (k, k.nodes[0].zone(.normal))
    }

    @Test("gfp_migratetype(): __GFP_MOVABLE and __GFP_RECLAIMABLE pick the free lists")
    func gfpMigratetype() {
        #expect(MigrateType(gfp: .kernel) == .unmovable)
        #expect(MigrateType(gfp: .atomic) == .unmovable)
        #expect(MigrateType(gfp: .highuserMovable) == .movable)
        #expect(MigrateType(gfp: .transhuge) == .movable)
        #expect(MigrateType(gfp: [.kernel, .reclaimable]) == .reclaimable)
    }

    @Test("fallbacks[] of 6.12: unmovable→reclaimable,movable; movable→reclaimable,unmovable; reclaimable→unmovable,movable")
    func fallbackTable() {
        #expect(MigrateType.fallbacks[MigrateType.unmovable.rawValue] == [.reclaimable, .movable])
        #expect(MigrateType.fallbacks[MigrateType.movable.rawValue] == [.reclaimable, .unmovable])
        #expect(MigrateType.fallbacks[MigrateType.reclaimable.rawValue] == [.unmovable, .movable])
    }

    @Test("can_steal_fallback(): whole pageblock, half a pageblock, or any unmovable/reclaimable request; never a small movable one")
    func canSteal() {
        let pb = 9
        #expect(ZoneCore.canStealFallback(order: 9, startMT: movable, pageblockOrder: pb))
        #expect(ZoneCore.canStealFallback(order: 4, startMT: movable, pageblockOrder: pb))
        #expect(!ZoneCore.canStealFallback(order: 3, startMT: movable, pageblockOrder: pb))
        #expect(ZoneCore.canStealFallback(order: 0, startMT: unmovable, pageblockOrder: pb))
        #expect(ZoneCore.canStealFallback(order: 0, startMT: MigrateType.reclaimable.rawValue, pageblockOrder: pb))
    }

    @Test("Boot: every pageblock MIGRATE_MOVABLE (memmap_init), every free block on the movable lists")
    func boot() throws {
        let (k, z) = try normalOnly()
        #expect(z.pageblockCounts() == [0, 4, 0, 0, 0])
        #expect(z.freeBlocks(migratetype: .movable)[10] == 2)
        #expect(k.checkPages(expectAllFree: true).isEmpty)
    }

    @Test("__rmqueue_fallback: an unmovable request takes the largest movable block; from a pageblock up it claims every pageblock of it (extfrag, not fragmenting)")
    func stealLargestWhole() throws {
        let (k, z) = try normalOnly()
        z.lock.lock(mayBlock: true, cpu: nil)
        let i = try #require(z.rmqueue(order: 0, migratetype: .unmovable))
        z.meta[Int(i)].flags = .head
        z.lock.unlock(cpu: nil)
        #expect(z.pageblockCounts() == [2, 2, 0, 0, 0], "an order-10 block is two pageblocks")
        #expect(z.pageblockType(ofPage: Int(i)) == .unmovable)
        #expect(z.freeBlocks(migratetype: .unmovable)[0..<10].allSatisfy { $0 == 1 }, "the split rest stays with the new owner")
        #expect(z.vmEvent(.extfrag) == 1 && z.vmEvent(.extfragFragmenting) == 0 && z.vmEvent(.pageblockSteals) == 1)
        #expect(k.checkPages(expectAllFree: false).isEmpty)
        z.lock.lock(mayBlock: true, cpu: nil); z.meta[Int(i)].flags = []; z.freeOneBlock(i, order: 0); z.lock.unlock(cpu: nil)
        #expect(k.checkPages(expectAllFree: true).isEmpty, "merging at pageblock order retypes the buddy: back to boot")
    }

    @Test("__rmqueue_fallback find_smallest: a small movable request that may not steal takes the smallest foreign block; the pageblock keeps its type")
    func movableTakesSmallest() throws {
        let (k, z) = try normalOnly()
        z.lock.lock(mayBlock: true, cpu: nil)
        var held: [(Int32, Int)] = []
        func take(_ order: Int, _ mt: MigrateType) throws -> Int32 {
            let i = try #require(z.rmqueue(order: order, migratetype: mt))
            z.meta[Int(i)].flags = .head
            z.meta[Int(i)].order = Int8(order)
            held.append((i, order))
            return i
        }
        let first = try take(0, .unmovable)            // claims the upper order-10 block
        for o in [9, 8, 7, 6, 5, 4] { _ = try take(o, .unmovable) }   // unmovable keeps orders 0…3 free
        _ = try take(10, .movable)                     // no movable block left
        let steals = z.vmEvent(.pageblockSteals)
        let got = try take(0, .movable)
        z.lock.unlock(cpu: nil)
        #expect(got == first ^ 1, "the order-0 unmovable buddy: the smallest block on the fallback list")
        #expect(z.pageblockType(ofPage: Int(got)) == .unmovable, "not claimed")
        #expect(z.vmEvent(.pageblockSteals) == steals && z.vmEvent(.extfragFragmenting) == 1)
        #expect(k.checkPages(expectAllFree: false).isEmpty)
        z.lock.lock(mayBlock: true, cpu: nil)
        for (i, o) in held { z.meta[Int(i)].flags = []; z.freeOneBlock(i, order: o) }
        z.lock.unlock(cpu: nil)
        #expect(k.checkPages(expectAllFree: true).isEmpty)
    }

    /// Fills the zone with movable order-0 pages, then frees `free` pages at the start of
    /// pageblock 0; `flagged` says whether the rest carry the movable flag (LRU pages).
    func halfRuleZone(free: Int, flagged: Bool) throws -> (Kernel, Zone, [Int32]) {
        let (k, z) = try normalOnly()
        z.lock.lock(mayBlock: true, cpu: nil)
        var pages: [Int32] = []
        while let i = z.rmqueue(order: 0, migratetype: .movable) {
            z.meta[Int(i)].flags = flagged ? [.head, .movable] : .head
            pages.append(i)
        }
        pages.sort()
        for i in pages[0..<free] { z.meta[Int(i)].flags = []; z.freeOneBlock(i, order: 0) }
        z.lock.unlock(cpu: nil)
        return (k, z, Array(pages[free...]))
    }

    @Test("steal_suitable_fallback: at least half a pageblock free → the unmovable request claims the movable pageblock")
    func claimWhenHalfFree() throws {
        let (k, z, held) = try halfRuleZone(free: 300, flagged: true)
        z.lock.lock(mayBlock: true, cpu: nil)
        let i = try #require(z.rmqueue(order: 0, migratetype: .unmovable))
        z.meta[Int(i)].flags = .head
        z.lock.unlock(cpu: nil)
        #expect(z.pageblockType(ofPage: 0) == .unmovable)
        #expect(z.pageblockCounts() == [1, 3, 0, 0, 0])
        #expect(z.freeBlocks(migratetype: .movable).allSatisfy { $0 == 0 }, "every free page of the block moved with it")
        #expect(z.vmEvent(.pageblockSteals) == 1 && z.vmEvent(.extfragFragmenting) == 1)
        #expect(Int(i) < 512)
        #expect(k.checkPages(expectAllFree: false).isEmpty)
        _ = held
    }

    @Test("steal_suitable_fallback: under half free and the rest movable → only the page is taken, the pageblock stays movable")
    func singlePageWhenMostlyMovable() throws {
        let (k, z, _) = try halfRuleZone(free: 200, flagged: true)
        z.lock.lock(mayBlock: true, cpu: nil)
        let i = try #require(z.rmqueue(order: 0, migratetype: .unmovable))
        z.meta[Int(i)].flags = .head
        z.lock.unlock(cpu: nil)
        #expect(z.pageblockType(ofPage: 0) == .movable)
        #expect(z.vmEvent(.extfrag) == 1 && z.vmEvent(.pageblockSteals) == 0)
        #expect(z.freeBlocks(migratetype: .unmovable).allSatisfy { $0 == 0 }, "the split rest stays on the block's own lists")
        #expect(k.checkPages(expectAllFree: false).isEmpty)
    }

    @Test("steal_suitable_fallback: for an unmovable request, allocated pages that are not movable count as alike")
    func nonMovablePagesAreAlike() throws {
        // The kernel owns mem_map and the arenas: it must outlive the zone's use here.
        let (k, z, _) = try halfRuleZone(free: 200, flagged: false)
        z.lock.lock(mayBlock: true, cpu: nil)
        _ = try #require(z.rmqueue(order: 0, migratetype: .unmovable))
        z.lock.unlock(cpu: nil)
        #expect(z.pageblockType(ofPage: 0) == .unmovable, "200 free + 312 unmovable-looking ≥ 256")
        withExtendedLifetime(k) {}
    }

    @Test("__free_one_page: HighAtomic blocks do not merge across pageblocks; mergeable types do and the buddy takes the freed type")
    func mergeRule() throws {
        let (k, z) = try normalOnly()
        z.lock.lock(mayBlock: true, cpu: nil)
        let a = try #require(z.rmqueue(order: 9, migratetype: .movable))
        z.core.changePageblockRange(a, order: 9, mt: MigrateType.highAtomic.rawValue)
        z.freeOneBlock(a, order: 9)
        #expect(z.nrFreeBlocks(order: 9) == 2, "a HighAtomic pageblock stays apart from its movable buddy")
        #expect(z.core.nrFreeBlocks(order: 9, mt: MigrateType.highAtomic.rawValue) == 1)
        z.core.removeFromFreeArea(a, order: 9, mt: MigrateType.highAtomic.rawValue)
        z.core.adjustFree(-512)
        z.core.changePageblockRange(a, order: 9, mt: unmovable)
        z.freeOneBlock(a, order: 9)
        z.lock.unlock(cpu: nil)
        #expect(z.nrFreeBlocks(order: 10) == 2)
        #expect(z.freeBlocks(migratetype: .unmovable)[10] == 1, "the merged block follows the freed block's type")
        #expect(z.pageblockType(ofPage: Int(a) ^ 512) == .unmovable)
        #expect(k.checkPages(expectAllFree: false).isEmpty)
    }

    @Test("PCP lists are per migrate type: a movable page never serves an unmovable request from the CPU's list")
    func pcpPerType() throws {
        let k = try TestKernel.make(perNode: 8 << 20, dma: 0, dma32: 0)
        let cpu = k.cpus[0]
        let m = try #require(k.allocPages(cpu, .highuserMovable, order: 0))
        k.freePages(cpu, m, order: 0)
        let u = try #require(k.allocPages(cpu, .kernel, order: 0))
        #expect(k.zones[Int(u.zone)].pageblockType(ofPage: Int(u.index)) == .unmovable)
        #expect(u != m)
        k.freePages(cpu, u, order: 0)
        k.drainPCP(cpu)
        #expect(k.checkPages(expectAllFree: true).isEmpty)
    }
}
