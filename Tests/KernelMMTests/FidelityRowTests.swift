import Foundation
import Testing
@testable import KernelMM

/// The rows of issue 17's fidelity table, each against the Linux 6.12 function and rule it names.
@Suite struct FidelityRowTests {
    @Test("gfp_to_alloc_flags(): ALLOC_NON_BLOCK only for a caller that cannot reclaim and did not say __GFP_NOMEMALLOC")
    func nonBlockRespectsNomemalloc() {
        #expect(AllocFlags.slowPath(.atomic).contains([.minReserve, .nonBlock]))
        #expect(AllocFlags.slowPath(.nowait).contains(.nonBlock))
        #expect(!AllocFlags.slowPath(GFP.nowait.union(.nomemalloc)).contains(.nonBlock), "not worth trying harder")
        #expect(!AllocFlags.slowPath(GFP.atomic.union(.nomemalloc)).contains(.nonBlock))
        #expect(AllocFlags.slowPath(GFP.atomic.union(.nomemalloc)).contains(.minReserve), "__GFP_HIGH still counts")
        #expect(AllocFlags.slowPath(.kernel).isEmpty)
    }

    @Test("%pGg prints single flags in mmflags.h order: __GFP_HARDWALL before __GFP_THISNODE")
    func gfpNameOrder() {
        let g = GFP.nowait.union([.thisnode, .hardwall])
        #expect(g.flagNames == "GFP_NOWAIT|__GFP_HARDWALL|__GFP_THISNODE")
        #expect(GFP.kernel.union([.thisnode, .hardwall]).flagNames == "GFP_USER|__GFP_THISNODE", "the composite covers HARDWALL first")
    }

    @Test("__alloc_pages(): order > MAX_PAGE_ORDER is WARN_ON_ONCE_GFP and NULL, not a trap; __GFP_NOWARN keeps it quiet")
    func orderAboveMax() throws {
        let k = try TestKernel.make(maxOrder: 10)
        let cpu = k.cpus[0]
        #expect(k.allocPages(cpu, GFP.kernel.union(.nowarn), order: 11) == nil)
        #expect(k.log.count(.warning) == 0)
        #expect(k.allocPages(cpu, .kernel, order: 11) == nil)
        #expect(k.allocPages(cpu, .kernel, order: 12) == nil)
        #expect(k.log.count(.warning) == 1, "once")
        #expect(k.log.text.contains("order 11 > MAX_PAGE_ORDER 10"))
        #expect(k.getFreePages(cpu, .kernel, order: 30) == nil)
        let ok = try #require(k.allocPages(cpu, .kernel, order: 10), "MAX_PAGE_ORDER itself is fine")
        k.freePages(cpu, ok, order: 10)
    }

    @Test("pgdat_balanced(): one zone up to highest_zoneidx at its high watermark balances the node, not every zone")
    func pgdatBalanced() throws {
        let k = try TestKernel.make(perNode: 16 << 20, dma: 1 << 20, dma32: 4 << 20)
        let dma = k.nodes[0].zones[0], dma32 = k.nodes[0].zones[1], normal = k.nodes[0].zones[2]
        let taken = normal.drainBuddy(leaving: normal.watermarks.high / 2)
        #expect(normal.freePages < normal.watermarks.high)
        #expect(dma32.freePages > dma32.watermarks.high + dma32.lowmemReserve[ZoneType.normal.rawValue])
        #expect(k.pgdatBalanced(0, highest: .normal), "DMA32 at high is enough for a Normal waker")
        #expect(!k.balanceNode(0, cpu: nil, highest: .normal), "kswapd finds nothing to do")
        let taken32 = dma32.drainBuddy(leaving: dma32.watermarks.high / 2)
        let takenDMA = dma.drainBuddy(leaving: dma.watermarks.high / 2)
        #expect(!k.pgdatBalanced(0, highest: .normal))
        #expect(!k.pgdatBalanced(0, highest: .dma))
        normal.giveBack(taken)
        #expect(k.pgdatBalanced(0, highest: .normal))
        #expect(!k.pgdatBalanced(0, highest: .dma32), "a DMA32 waker cannot use Normal")
        dma32.giveBack(taken32); dma.giveBack(takenDMA)
    }

    @Test("___slab_alloc(): kmem_cache_alloc_node() tries the node with GFP_NOWAIT|__GFP_THISNODE, then falls back to other nodes; __GFP_THISNODE fails")
    func allocNodeFallback() throws {
        let k = try TestKernel.make("pack:2 [numa] core:1 pu:1", perNode: 16 << 20, dma: 0, dma32: 0)
        let s = try SlabAllocator(kernel: k)
        let cache = try s.createCache(name: "nodebound", size: 512)
        let cpu = k.cpus[0]
        let node1 = k.nodes[1].zones.filter { !$0.isEmpty }
        let held = node1.map { $0.drainBuddy(leaving: 0) }
        #expect(cache.allocNode(cpu, GFP.kernel.union(.thisnode), node: 1) == nil, "the caller insisted on node 1")
        let p = try #require(cache.allocNode(cpu, .kernel, node: 1))
        #expect(k.nodeOf(pfn: k.virtToPFN(p)!) == 0, "served from node 0 after node 1 had nothing")
        let q = try #require(cache.allocNode(cpu, .kernel, node: 1), "the rest of that slab serves the next call")
        cache.free(cpu, p); cache.free(cpu, q)
        for (z, pages) in zip(node1, held) { z.giveBack(pages) }
    }
}

/// do_anonymous_page() / do_wp_page() of Linux 6.12 for private anonymous memory.
@Suite(.serialized) struct ZeroPageTests {
    static let PG = KernelMM.PAGE_SIZE

    @Test("do_anonymous_page(): a read fault maps the shared zero page read-only and allocates nothing")
    func readFaultMapsZeroPage() throws {
        let k = try TestKernel.make("pack:2 [numa] core:1 pu:1", perNode: 16 << 20)
        let mmu = try MMU(kernel: k)
        mmu.debugChecks = true
        let cpu = k.cpus[0]
        let space = try mmu.createAddressSpace(name: "t", cpu: cpu)
        let va = try #require(mmu.mmap(cpu, space, length: 4 * Self.PG))
        #expect(try mmu.access(cpu, space, va, bytes: 64, write: false) == 0, "reads zeroes")
        let free = k.zones.reduce(0) { $0 + $1.freePages } + k.pcpPages(zone: 2) + k.pcpPages(zone: 5)
        for i in 1..<4 { _ = try mmu.access(cpu, space, va + UInt64(i * Self.PG), bytes: 8, write: false) }
        #expect(k.zones.reduce(0) { $0 + $1.freePages } + k.pcpPages(zone: 2) + k.pcpPages(zone: 5) == free,
                "three more read faults, not one page")
        let ptes = (0..<4).map { space.pageTable.walk(va + UInt64($0 * Self.PG)).pte! }
        #expect(Set(ptes.map(\.pfn)).count == 1, "one zero page behind all of them")
        #expect(ptes.allSatisfy { !$0.isWritable && $0.isSpecial })
        mmu.destroy(space, cpu: cpu)
        mmu.teardown(cpu: cpu)
        k.drainPCP(cpu)
        #expect(k.checkPages(expectAllFree: true).isEmpty, "munmap left the zero page alone; teardown gave it back")
    }

    @Test("wp_page_copy(): the first write to a zero-page mapping allocates a zeroed page where the writer's policy puts it, and shoots the zero page's translation down")
    func writeAfterReadPlacesAtWrite() throws {
        let k = try TestKernel.make("pack:2 [numa] core:1 pu:1", perNode: 16 << 20)
        let mmu = try MMU(kernel: k)
        mmu.debugChecks = true
        mmu.synchronousIPIs = true
        let reader = k.cpus[1], writer = k.cpus[0]   // node 1 reads first, node 0 writes
        mmu.enter(reader); mmu.enter(writer)
        let space = try mmu.createAddressSpace(name: "t", cpu: writer)
        let va = try #require(mmu.mmap(writer, space, length: Self.PG))
        _ = try mmu.access(reader, space, va, bytes: 8, write: false)
        #expect(mmu.tlbs[1].holds(asid: space.asid, va: va))
        try mmu.access(writer, space, va + 16, bytes: 8, write: true, pattern: 0x42)
        let e = try #require(space.pageTable.walk(va).pte)
        #expect(e.isWritable && !e.isSpecial)
        #expect(k.nodeOf(pfn: e.pfn) == 0, "placed by the first write (first touch), not the first read")
        #expect(k.pfnToVirt(e.pfn).load(as: UInt8.self) == 0 && (k.pfnToVirt(e.pfn) + 16).load(as: UInt8.self) == 0x42)
        #expect(!mmu.tlbs[1].holds(asid: space.asid, va: va), "the reader's zero-page translation was shot down")
        #expect(try mmu.access(reader, space, va + 16, bytes: 1, write: false) == 0x42, "the reader sees the write")
        #expect(mmu.totals.staleUses == 0)
        #expect(space.mappedPages == 1)
        mmu.destroy(space, cpu: writer)
        mmu.teardown(cpu: writer)
        k.drainPCP(writer); k.drainPCP(reader)
        #expect(k.checkPages(expectAllFree: true).isEmpty)
    }

    @Test("A write to a read-only mapping over the zero page is still SEGV_ACCERR")
    func readOnlyStaysReadOnly() throws {
        let k = try TestKernel.make(perNode: 16 << 20)
        let mmu = try MMU(kernel: k)
        let cpu = k.cpus[0]
        let space = try mmu.createAddressSpace(name: "t", cpu: cpu)
        let ro = try #require(mmu.mmap(cpu, space, length: Self.PG, prot: .readOnly))
        _ = try mmu.access(cpu, space, ro, bytes: 8, write: false)
        #expect(throws: MMU.AccessError.readOnly(ro)) { try mmu.access(cpu, space, ro, bytes: 8, write: true) }
        mmu.destroy(space, cpu: cpu)
    }
}

/// The per-CPU page lists' high mark (mm/page_alloc.c, Linux 6.12).
@Suite struct PCPHighTests {
    static func kernel(batch: Int, high: Int?) throws -> Kernel {
        try TestKernel.make(perNode: 16 << 20, dma: 0, dma32: 0) { c in c.pcpBatch = batch; c.pcpHigh = high }
    }

    @Test("free_unref_page_commit(): pcp->count counts pages over every order's list, not blocks of one order")
    func countsPages() throws {
        let k = try Self.kernel(batch: 2, high: 16)
        let cpu = k.cpus[0]
        let z = k.nodes[0].zone(.normal)
        let blocks = (0..<3).map { _ in k.allocPages(cpu, .kernel, order: 3)! }
        // The lists are per order and migrate type (the pageblock's): count pages over all of them.
        k.freePages(cpu, blocks[0], order: 3)
        #expect(cpu.pcpCount[z.index] == 8)
        k.freePages(cpu, blocks[1], order: 3)   // 16 pages: at high
        #expect(cpu.pcpCount[z.index] == 8, "two blocks are 16 pages, which reached high")
        k.freePages(cpu, blocks[2], order: 3)
        #expect(cpu.pcpCount[z.index] < 16)
    }

    @Test("zone_highsize() at boot: the low watermark over the node's CPUs, at least 4 x batch")
    func bootHigh() throws {
        let k = try TestKernel.make("pack:1 [numa] core:2 pu:1", perNode: 64 << 20, dma: 0, dma32: 0,
                                    watermarks: Watermarks(min: 512, low: 1024, high: 1536))
        let z = k.nodes[0].zone(.normal)
        #expect(z.pcpHigh == max(1024 / 2, z.pcpBatch * 4))
    }

    @Test("nr_pcp_high(): while reclaim is under way the lists keep up to min(4 x batch, high) pages, not none")
    func pressureLowersHigh() throws {
        let k = try TestKernel.make(perNode: 16 << 20, dma: 0, dma32: 0, watermarks: Watermarks(min: 64, low: 128, high: 256)) { c in
            c.pcpBatch = 4; c.pcpHigh = 200
        }
        let cpu = k.cpus[0]
        let z = k.nodes[0].zone(.normal)
        let pages = (0..<10).map { _ in k.allocPages(cpu, .kernel, order: 0)! }
        _ = k.drainPCP(cpu)
        let held = z.drainBuddy(leaving: 100)   // below the high watermark: kswapd would be at work
        for p in pages.prefix(10) { k.freePages(cpu, p, order: 0) }
        let count = cpu.pcpCount[z.index]
        #expect(count > 0, "pressure lowers high; it does not empty the lists on every free")
        #expect(count < 16, "held below min(4 x batch, high) = 16")
        _ = k.drainPCP(cpu)
        z.giveBack(held)
    }
}
