import Testing
@testable import KernelMM

/// /proc/pagetypeinfo and the debugfs extfrag files (mm/vmstat.c pagetypeinfo_show,
/// extfrag_show_print, unusable_show_print), laid out as a real kernel prints them.
@Suite struct FragmentationViewTests {
    @Test("pagetypeinfo: the kernel's exact layout (header, %6lu columns, 'Number of blocks type' table)")
    func pagetypeinfoLayout() throws {
        let k = try TestKernel.make(perNode: 8 << 20, dma: 0, dma32: 0)
        // Lines as a 6.x kernel without CMA prints them (`Node %4d, zone %8s, type %12s `).
        let zeros = String(repeating: "     0 ", count: 11)
        let expected = """
            Page block order: 9
            Pages per block:  512

            Free pages count per migrate type at order       0      1      2      3      4      5      6      7      8      9     10 \n\
            Node    0, zone   Normal, type    Unmovable \(zeros)
            Node    0, zone   Normal, type      Movable      0      0      0      0      0      0      0      0      0      0      2 \n\
            Node    0, zone   Normal, type  Reclaimable \(zeros)
            Node    0, zone   Normal, type   HighAtomic \(zeros)
            Node    0, zone   Normal, type      Isolate \(zeros)

            Number of blocks type     Unmovable      Movable  Reclaimable   HighAtomic      Isolate \n\
            Node 0, zone   Normal            0            4            0            0            0 \n
            """
        #expect(k.pagetypeinfo() == expected)
    }

    @Test("pagetypeinfo: one block per node with memory, empty zones left out")
    func perNode() throws {
        let k = try TestKernel.make("pack:2 [numa] core:1 pu:1", perNode: 8 << 20, dma: 0, dma32: 2 << 20)
        let text = k.pagetypeinfo()
        #expect(text.components(separatedBy: "Page block order: 9\n").count == 3)
        // DMA32 exists on node 0 only (the low memory is there), so node 1 is all Normal.
        #expect(text.contains("Node    0, zone    DMA32, type      Movable "))
        #expect(!text.contains("Node    1, zone    DMA32"))
        #expect(!text.contains("zone      DMA,"))
        #expect(text.contains("Node 0, zone   Normal            0            3 "))
        #expect(text.contains("Node 1, zone   Normal            0            4 "), "\(text)")
    }

    @Test("__fragmentation_index / unusable_free_index: -1.000 when a block fits; 0…1 by the kernel's formulas")
    func indexes() {
        let blocks = [4, 0, 0]           // four free order-0 pages
        #expect(Kernel.fragmentationIndex(order: 0, freeBlocks: blocks) == -1000)
        #expect(Kernel.fragmentationIndex(order: 1, freeBlocks: blocks) == 250, "1000 - (1000 + 4000/2) / 4")
        #expect(Kernel.unusableFreeIndex(order: 0, freeBlocks: blocks) == 0)
        #expect(Kernel.unusableFreeIndex(order: 1, freeBlocks: blocks) == 1000)
        #expect(Kernel.fragmentationIndex(order: 1, freeBlocks: [0, 0, 0]) == 0)
        #expect(Kernel.unusableFreeIndex(order: 1, freeBlocks: [0, 0, 0]) == 1000)
    }

    @Test("extfrag_index and unusable_index rows: 'Node %d, zone %8s ' then one figure per order")
    func indexRows() throws {
        let k = try TestKernel.make(perNode: 8 << 20, dma: 0, dma32: 0)
        #expect(k.extfragIndex() == "Node 0, zone   Normal " + String(repeating: "-1.000 ", count: 11) + "\n")
        #expect(k.unusableIndex() == "Node 0, zone   Normal " + String(repeating: "0.000 ", count: 11) + "\n")
    }
}
