import Testing
@testable import KernelMM

/// `/proc/zoneinfo` as a current kernel writes it (checked against a 6.18 kernel's file).
@Suite struct ProcViewTests {
    @Test("zoneinfo: kernel layout and counters only; an empty zone stops at its protection line")
    func zoneinfo() throws {
        let k = try TestKernel.make(perNode: 8 << 20, dma: 0, dma32: 2 << 20, watermarks: Watermarks(min: 8, low: 10, high: 12))
        let text = k.zoneinfo()
        let zones = text.components(separatedBy: "Node 0, zone ").dropFirst()
        #expect(zones.count == 3)
        // ZONE_DMA has no pages: header, watermarks, protection, nothing more.
        let dma = try #require(zones.first)
        #expect(dma.hasPrefix("     DMA\n  pages free     0\n        boost    0\n        min      8\n"))
        #expect(dma.hasSuffix("        cma      0\n        protection: (0, 0, 0)\n"))
        let normal = try #require(zones.last)
        for line in ["  Normal\n  pages free     ", "\n        promo    14\n", "\n        cma      0\n",
                     "\n      nr_free_pages ", "\n      nr_free_pages_blocks ", "\n      numa_hit     0\n",
                     "\n      numa_interleave 0\n", "\n  pagesets\n    cpu: 0\n              count:    0\n",
                     "\n              high_min: ", "\n  vm stats threshold: 0\n", "\n  node_unreclaimable:  0\n  start_pfn:           "] {
            #expect(normal.contains(line), "missing \(line.debugDescription)")
        }
        for ours in ["allocfail", "wmark_hit", "zone_fallback", "node_fallback", "reclaim_pass", "pgalloc"] {
            #expect(!text.contains(ours), "\(ours) is not a kernel zoneinfo counter")
        }
        // 6 MiB of Normal in order-10 blocks: every free page sits in a whole pageblock.
        #expect(normal.contains("\n      nr_free_pages_blocks \(k.nodes[0].zone(.normal).freePages)\n"))
    }
}
