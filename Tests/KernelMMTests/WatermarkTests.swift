import Testing
@testable import KernelMM

/// Watermarks and reserves: __zone_watermark_ok, gfp_to_alloc_flags, lowmem_reserve.
@Suite struct WatermarkTests {
    let marks = Watermarks(min: 64, low: 80, high: 96)

    @Test("Below min, GFP_ATOMIC (may use min/2, then a quarter less) succeeds where GFP_NOWAIT fails")
    func atomicReserve() throws {
        let k = try TestKernel.make(dma: 0, dma32: 0, watermarks: marks) { $0.pcpBatch = 1 }
        let z = k.nodes[0].zone(.normal)
        let cpu = k.cpus[0]
        let held = z.drainBuddy(leaving: 50)   // below min (64), above 64 - 32 - 8 = 24
        #expect(k.allocPages(cpu, .nowait, order: 0) == nil)
        #expect(k.events(zone: z.index).failNowait == 1)
        let p = try #require(k.allocPages(cpu, .atomic, order: 0))
        #expect(k.events(zone: z.index).allocAtomic == 1)
        // Down to the atomic floor: free must stay above 24.
        var atomics = [p]
        while let q = k.allocPages(cpu, [.atomic, .nowarn], order: 0) { atomics.append(q) }
        #expect(z.freePages == 24)
        #expect(k.log.text.contains("page allocation failure: order:0, mode:0x800(GFP_NOWAIT)"))
        atomics.forEach { k.freePages(cpu, $0, order: 0) }
        k.drainPCP(cpu)
        z.giveBack(held)
        #expect(k.checkPages(expectAllFree: true).isEmpty)
    }

    @Test("__GFP_HIGH alone may go to min/2 when it can reclaim (no further quarter)")
    func highBlocking() throws {
        let k = try TestKernel.make(dma: 0, dma32: 0, watermarks: marks) { $0.pcpBatch = 1 }
        let z = k.nodes[0].zone(.normal)
        let held = z.drainBuddy(leaving: 40)
        let cpu = k.cpus[0]
        var got: [PageRef] = []
        while let p = k.allocPages(cpu, [.kernel, .high, .noretry, .nowarn], order: 0) { got.append(p) }
        #expect(z.freePages == 32)
        got.forEach { k.freePages(cpu, $0, order: 0) }
        k.drainPCP(cpu)
        z.giveBack(held)
    }

    @Test("Computed watermarks grow min < low < high, and lowmem_reserve protects lower zones")
    func computed() throws {
        let k = try TestKernel.make(perNode: 64 << 20, dma: 4 << 20, dma32: 12 << 20)
        for z in k.zones where !z.isEmpty {
            #expect(z.watermarks.min > 0)
            #expect(z.watermarks.min < z.watermarks.low && z.watermarks.low < z.watermarks.high)
        }
        let dma = k.nodes[0].zone(.dma)
        #expect(dma.lowmemReserve == [0, 3072 / 256, (3072 + 12288) / 256])
        #expect(k.nodes[0].zone(.normal).lowmemReserve == [0, 0, 0])
    }

    @Test("zone_batchsize(): 2^n - 1 from a quarter of 1/1024 of the zone; zone_highsize(): low watermark over the node's CPUs, at least 4 x batch")
    func batch() {
        #expect(PerCPUPages.batch(zonePages: 262_144) == 63)
        #expect(PerCPUPages.batch(zonePages: 16_384) == 3)
        #expect(PerCPUPages.batch(zonePages: 100) == 1)
        #expect(PerCPUPages.high(lowWatermark: 1024, batch: 63, cpusOnNode: 2) == 512)
        #expect(PerCPUPages.high(lowWatermark: 100, batch: 63, cpusOnNode: 2) == 252)
    }
}
