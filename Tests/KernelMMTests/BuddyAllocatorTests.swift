import Testing
@testable import KernelMM

/// The binary buddy allocator (mm/page_alloc.c __rmqueue_smallest / expand / __free_one_page).
@Suite struct BuddyAllocatorTests {
    @Test("Split: an order-0 allocation from a zone of max-order blocks leaves one free block at every lower order")
    func split() throws {
        let k = try TestKernel.make(perNode: 8 << 20, dma: 0, dma32: 0)
        let z = k.nodes[0].zone(.normal)
        let before = z.freeBlocksPerOrder()
        #expect(before[10] == 2 && before[0..<10].allSatisfy { $0 == 0 })
        z.lock.lock(mayBlock: true, cpu: nil)
        let i = z.rmqueueSmallest(order: 0)
        z.lock.unlock(cpu: nil)
        #expect(i == 1024, "the most recently freed max-order block is split first")
        let after = z.freeBlocksPerOrder()
        #expect(after[10] == 1)
        #expect(after[0..<10].allSatisfy { $0 == 1 })
        #expect(z.freePages == 2048 - 1)
    }

    @Test("Merge: freeing a block merges with its free buddy (pfn xor 2^order) up to max order")
    func merge() throws {
        let k = try TestKernel.make(perNode: 8 << 20, dma: 0, dma32: 0)
        let z = k.nodes[0].zone(.normal)
        z.lock.lock(mayBlock: true, cpu: nil)
        let a = z.rmqueueSmallest(order: 0)!
        let b = z.rmqueueSmallest(order: 0)!
        #expect(a ^ 1 == b, "two order-0 allocations in a row are buddies")
        z.freeOneBlock(a, order: 0)
        #expect(z.nrFreeBlocks(order: 0) == 1, "a's buddy b is in use: no merge yet")
        z.freeOneBlock(b, order: 0)
        z.lock.unlock(cpu: nil)
        #expect(z.freeBlocksPerOrder() == z.initialFreeBlocks)
        #expect(k.checkPages(expectAllFree: true).isEmpty)
    }

    @Test("A zone allocated to the last page and freed returns to its initial free areas")
    func fullCycle() throws {
        let k = try TestKernel.make(perNode: 8 << 20, dma: 1 << 20, dma32: 2 << 20,
                                    watermarks: Watermarks(min: 0, low: 0, high: 0))
        let cpu = k.cpus[0]
        var got: [(PageRef, Int)] = []
        // Mixed orders, then order 0 for the last crumbs; each zone as the highest zone last,
        // since lowmem_reserve keeps a lower zone's last pages from higher-zone requests.
        for mask: GFP in [[.nowait, .nowarn], [.nowait, .nowarn, .dma32], [.nowait, .nowarn, .dma]] {
            var n = 0
            while true {
                let o = n % 4 == 3 ? 5 : n % 3
                if let p = k.allocPages(cpu, mask, order: o) { got.append((p, o)) }
                else if let p = k.allocPages(cpu, mask, order: 0) { got.append((p, 0)) }
                else { break }
                n += 1
            }
        }
        k.drainPCP(cpu)
        #expect(k.zones.allSatisfy { $0.freePages == 0 }, "every zone is empty")
        #expect(k.checkPages(expectAllFree: false).isEmpty)
        for (p, o) in got.shuffled() { k.freePages(cpu, p, order: o) }
        k.drainPCP(cpu)
        let v = k.checkPages(expectAllFree: true)
        #expect(v.isEmpty, "\(v)")
    }

    @Test("Blocks come back aligned to their order and inside their zone")
    func alignment() throws {
        let k = try TestKernel.make()
        let cpu = k.cpus[0]
        for order in [0, 1, 3, 4, 7, 10] {
            let p = try #require(k.allocPages(cpu, .kernel, order: order))
            #expect(Int(p.index) % (1 << order) == 0)
            #expect(Int(p.index) + (1 << order) <= k.zones[Int(p.zone)].pages)
            #expect(k.pfn(p).raw == k.zones[Int(p.zone)].startPFN + Int(p.index))
            k.freePages(cpu, p, order: order)
        }
        k.drainPCP(cpu)
        #expect(k.checkPages(expectAllFree: true).isEmpty)
    }

    @Test("__GFP_ZERO and get_zeroed_page hand out zeroed memory at a real address")
    func zeroing() throws {
        let k = try TestKernel.make()
        let cpu = k.cpus[0]
        let p = try #require(k.allocPages(cpu, .kernel, order: 1))
        k.pageAddress(p).initializeMemory(as: UInt8.self, repeating: 0xAA, count: 2 * PAGE_SIZE)
        k.freePages(cpu, p, order: 1)
        let q = try #require(k.allocPages(cpu, [.kernel, .zero], order: 1))
        #expect(q == p, "LIFO per-CPU list gives the same block back")
        let bytes = UnsafeRawBufferPointer(start: k.pageAddress(q), count: 2 * PAGE_SIZE)
        #expect(bytes.allSatisfy { $0 == 0 })
        let addr = try #require(k.getZeroedPage(cpu, .kernel))
        #expect(k.virtToPage(addr) != nil)
        k.freePages(cpu, address: addr, order: 0)
        k.freePages(cpu, q, order: 1)
    }

    @Test("Freeing twice or with the wrong order is a Bad page state report, not corruption")
    func badFree() throws {
        let k = try TestKernel.make()
        let cpu = k.cpus[0]
        let p = try #require(k.allocPages(cpu, .kernel, order: 2))
        k.freePages(cpu, p, order: 1)
        #expect(k.log.count(.badPage) == 1)
        k.freePages(cpu, p, order: 2)
        k.freePages(cpu, p, order: 2)
        #expect(k.log.count(.badPage) == 2)
        #expect(k.log.text.contains("BUG: Bad page state"))
        k.drainPCP(cpu)
        #expect(k.checkPages(expectAllFree: true).isEmpty)
    }
}
