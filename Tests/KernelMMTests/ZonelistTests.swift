import Testing
@testable import KernelMM

/// Zone and node choice: gfp_zone, build_zonelists from the distance matrix, __GFP_THISNODE.
@Suite struct ZonelistTests {
    @Test("GFP_DMA never leaves ZONE_DMA, even when Normal has room; only the low-memory node has one (x86-64)")
    func dmaOnly() throws {
        let k = try TestKernel.make("pack:2 [numa] core:1 pu:1", watermarks: Watermarks(min: 0, low: 0, high: 0))
        let cpu = k.cpus[0]
        var got: [PageRef] = []
        while let p = k.allocPages(cpu, [.kernel, .dma, .noretry, .nowarn], order: 0) {
            #expect(k.zones[Int(p.zone)].type == .dma)
            got.append(p)
        }
        #expect(got.count == 256, "node 0's 1 MiB ZONE_DMA, nothing else")
        #expect(k.nodes[1].zone(.dma).isEmpty && k.nodes[1].zone(.dma32).isEmpty, "node 1 is all ZONE_NORMAL")
        #expect(k.nodes[1].zone(.normal).pages == k.pagesPerNode)
        #expect(k.allocPages(cpu, .kernel, order: 0) != nil, "Normal still has room")
        #expect(k.events(zone: 0).failBlocking == 1)
        // A CPU of node 1 asking for GFP_DMA is served (or refused) by node 0's zone: remote.
        let cpu1 = k.cpus[1]
        #expect(cpu1.node == 1)
        k.freePages(cpu, got.removeLast(), order: 0)
        k.drainPCP(cpu)
        let remote = try #require(k.allocPages(cpu1, [.kernel, .dma, .noretry, .nowarn], order: 0))
        #expect(k.zones[Int(remote.zone)].node == 0 && k.zones[Int(remote.zone)].type == .dma)
        #expect(k.events(zone: Int(remote.zone)).numaOther >= 1, "served on another node than the CPU's")
        got.append(remote)
        for p in got { k.freePages(cpu, p, order: 0) }
    }

    @Test("Normal falls back to DMA32, then DMA, counted as zone fallbacks")
    func zoneFallback() throws {
        let k = try TestKernel.make(dma: 1 << 20, dma32: 2 << 20, watermarks: Watermarks(min: 0, low: 0, high: 0))
        let cpu = k.cpus[0]
        let normal = k.nodes[0].zone(.normal)
        let held = normal.drainBuddy(leaving: 0)
        let p = try #require(k.allocPages(cpu, .kernel, order: 0))
        #expect(k.zones[Int(p.zone)].type == .dma32)
        #expect(k.events(zone: Int(p.zone)).zoneFallbacks == 1)
        k.freePages(cpu, p, order: 0)
        normal.giveBack(held)
    }

    @Test("Fallback follows the Cluster-on-Die matrix: own node, die sibling (21), then the far socket (31)")
    func codFallback() throws {
        let k = try TestKernel.make(xml: TestKernel.fixture("28intel64-2p2g7c-CoDgroups.v1tov2"),
                                    perNode: 4 << 20, dma: 0, dma32: 0, watermarks: Watermarks(min: 0, low: 0, high: 0))
        #expect(k.zonelists[0][ZoneType.normal.rawValue].map { k.zones[$0].node }.filter { _ in true } == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3])
        #expect(k.zonelists[2][ZoneType.normal.rawValue].map { k.zones[$0].node } == [2, 2, 2, 3, 3, 3, 0, 0, 0, 1, 1, 1])
        let cpu = k.cpus[k.machine.cpus(ofNode: 2)[0]]
        #expect(cpu.node == 2)
        // Exhaust node by node with order-10 blocks (one per node) and watch where each comes from.
        var nodes: [Int] = []
        for _ in 0..<4 {
            let p = try #require(k.allocPages(cpu, .kernel, order: 10))
            nodes.append(k.zones[Int(p.zone)].node)
        }
        #expect(nodes == [2, 3, 0, 1])
        let fallbacks = k.zones.reduce(0) { $0 + k.events(zone: $1.index).nodeFallbacks }
        #expect(fallbacks == 3)
    }

    @Test("__GFP_THISNODE fails instead of falling back to another node")
    func thisNode() throws {
        let k = try TestKernel.make("pack:2 [numa] core:1 pu:1", perNode: 4 << 20, dma: 0, dma32: 0,
                                    watermarks: Watermarks(min: 0, low: 0, high: 0))
        let cpu = k.cpus[0]
        let p = try #require(k.allocPages(cpu, [.kernel, .thisnode], order: 10))
        #expect(k.zones[Int(p.zone)].node == 0)
        #expect(k.allocPages(cpu, [.kernel, .thisnode, .nowarn], order: 10) == nil)
        let q = try #require(k.allocPages(cpu, .kernel, order: 10), "without THISNODE node 1 serves")
        #expect(k.zones[Int(q.zone)].node == 1)
        #expect(k.allocPages(cpu, [.kernel, .thisnode, .nowarn], order: 10, node: 1) == nil)
    }
}
