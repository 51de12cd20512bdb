import Testing
import Foundation
import CArch
@testable import KernelMM
import Topology

/// CPUs touch a shared mapping while one CPU maps and unmaps pieces of it. With debug checks
/// on, every TLB hit is compared with the page table: no CPU may use a translation after it
/// acknowledged the shootdown, and every IPI sent is answered. Run under TSan in CI.
@Suite(.serialized) struct MMUConcurrencyTests {
    @Test("Touchers and an unmapper: no stale translation used, every IPI acknowledged")
    func touchWhileUnmapping() async throws {
        let k = try TestKernel.make("pack:1 [numa] core:3 pu:1", perNode: 32 << 20)
        let mmu = try MMU(kernel: k)
        mmu.debugChecks = true
        let space = try mmu.createAddressSpace(name: "shared", cpu: k.cpus[0])
        let host = HostBinding.shared.machine.pus
        let cpus = k.cpus.map { CPU(id: $0.id, node: $0.node, hostPU: host[$0.id % host.count].osIndex) }
        defer { cpus.forEach { $0.shutdown() } }
        let ctx = k.cpus
        let pages = 48
        let current = UnsafeMutablePointer<UInt64>.allocate(capacity: 2)
        current.initialize(repeating: 0, count: 2)   // [0]: published mapping, [1]: unmapper done
        defer { current.deallocate() }
        let slot = UInt(bitPattern: current)
        let deadline = Clock.monotonicNS() + 800_000_000
        let unmaps = await withTaskGroup(of: Int.self) { group in
            group.addTask {
                await cpus[0].run {
                    let me = ctx[0]
                    let cur = UnsafeMutablePointer<UInt64>(bitPattern: slot)!
                    var rounds = 0
                    // The time asked, and at least 20 rounds even if this thread started late.
                    while Clock.monotonicNS() < deadline || rounds < 20 {
                        guard let va = mmu.mmap(me, space, length: pages * KernelMM.PAGE_SIZE) else { break }
                        _ = try? mmu.access(me, space, va, bytes: pages * KernelMM.PAGE_SIZE, write: true)
                        arch_store_release_u64(cur, va)
                        usleep(200)
                        // Pieces: one page (invlpg), then the rest in one go (full flush).
                        mmu.munmap(me, space, va + UInt64(5 * KernelMM.PAGE_SIZE), length: KernelMM.PAGE_SIZE)
                        usleep(100)
                        mmu.munmap(me, space, va, length: pages * KernelMM.PAGE_SIZE)
                        rounds += 1
                    }
                    arch_store_release_u64(cur + 1, 1)
                    mmu.leave(me)
                    return rounds
                }
            }
            for c in 1..<cpus.count {
                group.addTask {
                    await cpus[c].run {
                        let me = ctx[c]
                        let cur = UnsafeMutablePointer<UInt64>(bitPattern: slot)!
                        var rng = SplitMix(seed: UInt64(c))
                        mmu.enter(me)
                        // Touch and answer IPIs until the unmapper is done.
                        while arch_load_acquire_u64(cur + 1) == 0 {
                            let va = arch_load_acquire_u64(cur)
                            if va != 0 {
                                let page = UInt64(rng.next() % UInt64(pages))
                                _ = try? mmu.access(me, space, va + page * UInt64(KernelMM.PAGE_SIZE), bytes: 64, write: rng.next() & 1 == 0)
                            } else {
                                mmu.poll(me)
                            }
                        }
                        mmu.leave(me)
                        return 0
                    }
                }
            }
            var total = 0
            for await n in group { total += n }
            return total
        }
        #expect(unmaps > 0)
        let all = mmu.tlbs.reduce(TLB.Counters()) { $0 + $1.counters }
        #expect(all.staleUses == 0, "a CPU used a translation after its shootdown")
        #expect(all.ipisSent == all.ipisReceived, "every IPI acknowledged")
        #expect(all.ipisSent > 0)
        #expect(!k.log.text.contains("still caches"))
        #expect(!k.log.text.contains("use-after-unmap"))
        mmu.destroy(space, cpu: ctx[0])
    }
}
