import Testing
import Foundation
@testable import KernelMM
import Topology

/// Slow-path rules of __alloc_pages_slowpath: sleeping for frees, reclaim, kswapd, retry modifiers.
@Suite(.serialized) struct PageAllocatorTests {
    let marks = Watermarks(min: 16, low: 24, high: 32)

    @Test("GFP_KERNEL sleeps until another CPU frees, then succeeds")
    func kernelSleepsForFree() async throws {
        // The OOM deadline is far beyond the free: on a loaded host CPU 0 may take seconds to
        // reach its first sleep, and must still be waiting when the free comes.
        let k = try TestKernel.make(dma: 0, dma32: 0, watermarks: marks, oomWaitNS: 120_000_000_000)
        let z = k.nodes[0].zone(.normal)
        let held = z.drainBuddy(leaving: 10)
        let cpus = (0..<2).map { CPU(id: $0, node: 0, hostPU: HostBinding.shared.machine.pus[$0 % HostBinding.shared.machine.pus.count].osIndex) }
        defer { cpus.forEach { $0.shutdown() } }
        let ctx = k.cpus
        // CPU 1 owns a block it will free later.
        z.lock.lock(mayBlock: true, cpu: nil)
        let victims = held.prefix(20)
        z.lock.unlock(cpu: nil)
        let start = Clock.monotonicNS()
        async let waited: (PageRef?, UInt64) = cpus[0].run {
            let p = k.allocPages(ctx[0], .kernel, order: 0)
            return (p, Clock.monotonicNS())
        }
        // Free only once CPU 0 is really asleep in the allocator (a loaded host may start it late).
        var polls = 0
        while !k.freeWait.hasWaiters && polls < 6000 { try await Task.sleep(nanoseconds: 10_000_000); polls += 1 }
        try await Task.sleep(nanoseconds: 100_000_000)
        let freedAt = Clock.monotonicNS()
        await cpus[1].run {
            for i in victims { k.freePages(ctx[1], PageRef(zone: Int32(z.index), index: i), order: 0) }
        }
        let (page, doneAt) = await waited
        #expect(page != nil)
        #expect(doneAt >= freedAt, "it succeeded only after the free")
        #expect(doneAt - start >= 90_000_000)
        #expect(polls < 6000, "CPU 0 never waited for a free")
        #expect(k.events(zone: z.index).sleeps >= 1)
        #expect(k.events(zone: z.index).failBlocking == 0)
        if let page { await cpus[0].run { k.freePages(ctx[0], page, order: 0); k.drainPCP(ctx[0]) } }
        await cpus[1].run { k.drainPCP(ctx[1]) }
        z.giveBack(Array(held.dropFirst(20)))
        #expect(k.checkPages(expectAllFree: true).isEmpty)
    }

    @Test("GFP_KERNEL with nothing to free gives up after the bounded wait and counts an OOM failure")
    func boundedWait() throws {
        let k = try TestKernel.make(dma: 0, dma32: 0, watermarks: marks, oomWaitNS: 50_000_000)
        let z = k.nodes[0].zone(.normal)
        let held = z.drainBuddy(leaving: 0)
        let t0 = Clock.monotonicNS()
        #expect(k.allocPages(k.cpus[0], .kernel, order: 0) == nil)
        #expect(Clock.monotonicNS() - t0 >= 50_000_000)
        #expect(k.events(zone: z.index).failBlocking == 1)
        #expect(k.log.text.contains("page allocation failure: order:0, mode:0xcc0(GFP_KERNEL)"))
        #expect(k.allocPages(k.cpus[0], [.kernel, .noretry, .nowarn], order: 0) == nil)
        #expect(k.log.count(.allocationFailure) == 1, "__GFP_NOWARN keeps it quiet")
        z.giveBack(held)
    }

    @Test("GFP_ATOMIC and GFP_NOWAIT never sleep: they fail at once on an empty zone")
    func nonBlockingFailsFast() throws {
        let k = try TestKernel.make(dma: 0, dma32: 0, watermarks: marks, oomWaitNS: 2_000_000_000)
        let z = k.nodes[0].zone(.normal)
        let held = z.drainBuddy(leaving: 0)
        let t0 = Clock.monotonicNS()
        #expect(k.allocPages(k.cpus[0], .atomic, order: 0) == nil)
        #expect(k.allocPages(k.cpus[0], .nowait, order: 0) == nil)
        #expect(Clock.monotonicNS() - t0 < 500_000_000)
        #expect(k.events(zone: z.index).sleeps == 0)
        #expect(k.events(zone: z.index).failAtomic == 1 && k.events(zone: z.index).failNowait == 1)
        z.giveBack(held)
    }

    @Test("GFP_KERNEL in atomic context is a 'sleeping function called from invalid context' bug, and does not sleep")
    func kernelInAtomic() throws {
        let k = try TestKernel.make(dma: 0, dma32: 0, watermarks: marks, oomWaitNS: 2_000_000_000)
        let cpu = k.cpus[0]
        let p = cpu.atomicSection { k.allocPages(cpu, .kernel, order: 0) }
        #expect(p != nil)
        #expect(k.log.count(.sleepInAtomic) == 1)
        k.freePages(cpu, p!, order: 0)
    }

    final class HoardShrinker: Shrinker, @unchecked Sendable {
        let name = "test-hoard"
        let kernel: Kernel
        let zone: Zone
        var pages: [Int32]
        let mutex = NSLock()
        private(set) var scans = 0
        init(kernel: Kernel, zone: Zone, pages: [Int32]) { self.kernel = kernel; self.zone = zone; self.pages = pages }
        func count(node: Int) -> Int { mutex.lock(); defer { mutex.unlock() }; return node == zone.node ? pages.count : 0 }
        func scan(node: Int, count: Int, cpu: CPUContext?) -> Int {
            mutex.lock(); defer { mutex.unlock() }
            scans += 1
            let n = min(count, pages.count)
            zone.giveBack(Array(pages.suffix(n)))
            pages.removeLast(n)
            return n
        }
    }

    @Test("Below low, kswapd wakes and reclaims through the shrinkers back above high")
    func kswapdReclaims() async throws {
        let k = try TestKernel.make(dma: 0, dma32: 0, watermarks: Watermarks(min: 64, low: 128, high: 256), kswapd: true)
        defer { k.shutdown() }
        let z = k.nodes[0].zone(.normal)
        let hoard = HoardShrinker(kernel: k, zone: z, pages: z.drainBuddy(leaving: 100))
        k.registerShrinker(hoard)
        #expect(z.freePages == 100)
        // Fast path fails at low, slow path wakes kswapd and succeeds at min.
        let p = try #require(k.allocPages(k.cpus[0], .nowait, order: 0))
        // kswapd may finish its last check before or after the slow path takes its page.
        var waited = 0
        while z.freePages < 255 && waited < 200 { try await Task.sleep(nanoseconds: 10_000_000); waited += 1 }
        #expect(z.freePages >= 255)
        #expect(k.nodes[0].kswapdCounts.wakeups >= 1)
        #expect(z.reclaimPasses >= 1)
        #expect(hoard.scans >= 1)
        k.unregisterShrinker(hoard)
        k.freePages(k.cpus[0], p, order: 0)
        k.drainPCP(k.cpus[0])
        z.giveBack(hoard.pages)
        #expect(k.checkPages(expectAllFree: true).isEmpty)
    }

    @Test("Direct reclaim: a blocking caller runs the shrinkers itself and succeeds without waiting")
    func directReclaim() throws {
        let k = try TestKernel.make(dma: 0, dma32: 0, watermarks: marks, oomWaitNS: 5_000_000_000)
        let z = k.nodes[0].zone(.normal)
        let hoard = HoardShrinker(kernel: k, zone: z, pages: z.drainBuddy(leaving: 0))
        k.registerShrinker(hoard)
        let p = try #require(k.allocPages(k.cpus[0], .kernel, order: 0))
        #expect(hoard.scans >= 1)
        #expect(k.events(zone: z.index).directReclaims >= 1)
        #expect(k.events(zone: z.index).sleeps == 0)
        k.freePages(k.cpus[0], p, order: 0)
        k.unregisterShrinker(hoard)
        k.drainPCP(k.cpus[0])
        z.giveBack(hoard.pages)
    }

    @Test("Memory a config asks for is checked against the host before any arena is mapped")
    func tooMuchMemory() throws {
        #expect(throws: MemoryConfigError.self) { try TestKernel.make(perNode: 1 << 50) }
        #expect(throws: MemoryConfigError.self) { try TestKernel.make(perNode: 4 << 20, dma: 2 << 20, dma32: 4 << 20) }
    }

    @Test("buddyinfo and zoneinfo use the kernel's layout")
    func procViews() throws {
        let k = try TestKernel.make(perNode: 8 << 20)
        let b = k.buddyinfo()
        #expect(b.hasPrefix("Node 0, zone      DMA "))
        #expect(b.contains("Node 0, zone   Normal "))
        #expect(b.split(separator: "\n").count == 3)
        let z = k.zoneinfo()
        for key in ["pages free", "min", "low", "high", "spanned", "present", "managed", "protection: (", "pagesets", "batch:"] {
            #expect(z.contains(key))
        }
    }
}
