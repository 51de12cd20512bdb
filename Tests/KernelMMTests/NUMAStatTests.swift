import Testing
import Foundation
@testable import KernelMM

private let PG = KernelMM.PAGE_SIZE

/// numastat on a two-node kernel: hit/miss/foreign against the preferred node, local/other
/// against the allocating CPU's node, interleave_hit from the interleave policy, as
/// mm/page_alloc.c `zone_statistics()` and mm/mempolicy.c count them.
@Suite(.serialized) struct NUMAStatTests {
    static func kernel() throws -> Kernel {
        try TestKernel.make("pack:2 [numa] core:1 pu:1", perNode: 8 << 20, watermarks: Watermarks(min: 0, low: 0, high: 0))
    }

    @Test("Local, remote-preferred and fallen-back allocations land in the counters the kernel uses")
    func counters() throws {
        let k = try Self.kernel()
        let cpu0 = k.cpus[0]
        #expect(cpu0.node == 0)
        // Order 4 skips the per-CPU lists, so each call is one trip to a zone.
        let local = try #require(k.allocPages(cpu0, .kernel, order: 4))
        #expect(k.numastat(node: 0) == NUMAStat(hit: 1, local: 1))
        // Asked for node 1 and served there: a hit on node 1, allocated by a CPU elsewhere.
        let there = try #require(k.allocPages(cpu0, .kernel, order: 4, node: 1))
        #expect(k.numastat(node: 1) == NUMAStat(hit: 1, other: 1))
        // Node 0 empty: its allocation falls back to node 1, a miss there and foreign here.
        let held = k.nodes[0].zones.filter { !$0.isEmpty }.map { ($0, $0.drainBuddy(leaving: 0)) }
        let fallen = try #require(k.allocPages(cpu0, .kernel, order: 4))
        #expect(k.zones[Int(fallen.zone)].node == 1)
        #expect(k.numastat(node: 0) == NUMAStat(hit: 1, foreign: 1, local: 1))
        #expect(k.numastat(node: 1) == NUMAStat(hit: 1, miss: 1, other: 2))
        // __GFP_THISNODE may not fall back: no page, no count.
        #expect(k.allocPages(cpu0, [.kernel, .thisnode, .nowarn, .noretry], order: 4) == nil)
        #expect(k.numastat(node: 0).numaForeign == 1)
        for (z, pages) in held { z.giveBack(pages) }
        for p in [local, there, fallen] { k.freePages(cpu0, p, order: 4) }
        #expect(k.numastat(node: 0).text == "numa_hit 1\nnuma_miss 0\nnuma_foreign 1\ninterleave_hit 0\nlocal_node 1\nother_node 0\n")
        #expect(k.zoneinfo().contains("      numa_foreign 1\n"))
    }

    @Test("Interleaved pages placed where the policy chose count interleave_hit on that node")
    func interleave() throws {
        let k = try Self.kernel()
        let mmu = try MMU(kernel: k)
        let cpu = k.cpus[0]
        let space = try mmu.createAddressSpace(name: "t", cpu: cpu)
        let before = (0..<2).map { k.numastat(node: $0) }
        let va = try #require(mmu.mmap(cpu, space, length: 4 * PG, policy: .interleave([0, 1])))
        try mmu.access(cpu, space, va, bytes: 4 * PG, write: true)
        #expect(k.numastat(node: 0).interleaveHit == 2 && k.numastat(node: 1).interleaveHit == 2)
        // Page-table pages come from the CPU's node; the interleaved ones alternate nodes.
        #expect(k.numastat(node: 1).otherNode - before[1].otherNode == 2)
        mmu.destroy(space, cpu: cpu)
    }
}

extension NUMAStat {
    init(hit: UInt64 = 0, miss: UInt64 = 0, foreign: UInt64 = 0, interleave: UInt64 = 0, local: UInt64 = 0, other: UInt64 = 0) {
        self.init()
        numaHit = hit; numaMiss = miss; numaForeign = foreign; interleaveHit = interleave; localNode = local; otherNode = other
    }
}
