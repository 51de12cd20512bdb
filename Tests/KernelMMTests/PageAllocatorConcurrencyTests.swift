import Testing
import Foundation
@testable import KernelMM
import Topology

/// Several pinned CPUs allocate and free random orders on shared zones at once (zone lock and
/// PCP refill/drain under contention, cross-CPU frees of pages). Afterwards page conservation
/// holds and every zone is back in its boot state. Run under TSan by scripts/test in CI.
@Suite(.serialized) struct PageAllocatorConcurrencyTests {
    @Test("Random orders on shared zones under each lock policy: conservation and boot state afterwards",
          arguments: LockPolicy.allCases)
    func stress(policy: LockPolicy) async throws {
        let k = try TestKernel.make("pack:2 [numa] core:2 pu:1", perNode: 16 << 20, dma: 1 << 20, dma32: 3 << 20,
                                    lock: policy, kswapd: true, oomWaitNS: 20_000_000)
        defer { k.shutdown() }
        let host = HostBinding.shared.machine.pus
        let cpus = k.cpus.map { CPU(id: $0.id, node: $0.node, hostPU: host[$0.id % host.count].osIndex) }
        defer { cpus.forEach { $0.shutdown() } }
        let ctx = k.cpus
        let seconds = ProcessInfo.processInfo.environment["STRESS_SECONDS"].flatMap(Double.init) ?? 1.0
        let deadline = Clock.monotonicNS() + UInt64(seconds * 1e9)
        // Blocks handed between CPUs, so that pages are freed by a CPU other than the allocator.
        let exchange = Mailbox<(PageRef, Int)>()
        let ops = await withTaskGroup(of: Int.self) { group in
            for cpu in cpus {
                group.addTask {
                    await cpu.run {
                        let me = ctx[cpu.id]
                        var rng = SplitMix(seed: UInt64(cpu.id) &+ 42)
                        var held: [(PageRef, Int)] = []
                        var n = 0
                        // The time asked, and some real work even if this thread started late.
                        while Clock.monotonicNS() < deadline || n < 4096 {
                            for _ in 0..<64 {
                                let r = rng.next()
                                if r % 3 != 0 || held.isEmpty {
                                    let order = Int(r >> 8 % 16) < 12 ? Int(r >> 16 % 4) : Int(4 + r >> 20 % 5)
                                    let gfp: GFP = r & 0x100 == 0 ? [.atomic, .nowarn] : [.kernel, .nowarn]
                                    if let p = k.allocPages(me, gfp, order: order) {
                                        k.pageAddress(p).storeBytes(of: UInt64(cpu.id), as: UInt64.self)
                                        held.append((p, order))
                                    }
                                } else {
                                    let (p, o) = held.remove(at: Int(r >> 24) % held.count)
                                    if r & 0x200 == 0 { exchange.put((p, o)) } else { k.freePages(me, p, order: o) }
                                }
                                if let (p, o) = exchange.take() { k.freePages(me, p, order: o) }
                                n += 1
                            }
                            if held.count > 256 { for (p, o) in held { k.freePages(me, p, order: o) }; held.removeAll() }
                        }
                        for (p, o) in held { k.freePages(me, p, order: o) }
                        return n
                    }
                }
            }
            var total = 0
            for await n in group { total += n }
            return total
        }
        // Whatever is left in the exchange is freed by CPU 0, then every CPU drains its lists.
        await cpus[0].run { while let (p, o) = exchange.take() { k.freePages(ctx[0], p, order: o) } }
        for cpu in cpus { await cpu.run { k.drainPCP(ctx[cpu.id]) } }
        k.shutdown()
        #expect(ops > 1000)
        let violations = k.checkPages(expectAllFree: true)
        #expect(violations.isEmpty, "\(violations.prefix(5))")
        let locks = k.zones.map { $0.lockSnapshot() }.reduce(LockSnapshot(name: "all", policy: policy, acquisitions: 0, contended: 0, spins: 0, sleeps: 0, waitNS: 0, holdNS: 0, maxWaitNS: 0, maxHoldNS: 0, waitHistogram: Array(repeating: 0, count: LockStats.buckets), holdHistogram: Array(repeating: 0, count: LockStats.buckets)), +)
        #expect(locks.acquisitions > 0)
        if policy == .spin { #expect(locks.sleeps == 0) }
    }
}
