import Testing
import Foundation
@testable import KernelMM
import Topology

/// Division-free index and node lookups on the free paths, and CPU threads that start and stop
/// in parallel: what makes hundreds of logical CPUs and random-order frees cheap to model.
@Suite struct LargeMachineCostTests {
    @Test("reciprocal_divide (lib/math/reciprocal_div.c) equals plain division for every 32-bit dividend tried")
    func reciprocalIsExact() {
        var rng = SplitMix(seed: 42)
        let divisors = [1, 2, 3, 7, 8, 24, 56, 96, 192, 232, 240, 256, 320, 4096, 6144, 65_536, 100_003, (1 << 31) + 5, (1 << 32) - 1]
        for d in divisors {
            let r = ReciprocalDivisor(d)
            for a in [0, 1, d - 1, d, d + 1, 2 * d - 1, (1 << 32) - 1] where a >= 0 && a < 1 << 32 {
                #expect(r.divide(a) == a / d, "\(a) / \(d)")
            }
            for _ in 0..<2_000 {
                let a = Int(rng.next() & 0xFFFF_FFFF)
                #expect(r.divide(a) == a / d, "\(a) / \(d)")
            }
        }
    }

    @Test("obj_to_index by reciprocal: every object of a slab maps to its index, and a pointer off an object boundary is still reported")
    func slabIndexByReciprocal() throws {
        let k = try TestKernel.make()
        let slab = try SlabAllocator(kernel: k)
        // Checked: every free takes the slow path, whose pointer check divides by reciprocal.
        let cache = try slab.createCache(name: "odd_232", size: 232, flags: .consistencyChecks)
        let cpu = k.cpus[0]
        let objs = (0..<cache.layout.objectsPerSlab).compactMap { _ in cache.alloc(cpu, .kernel) }
        let pfn = try #require(k.virtToPFN(objs[0]))
        for o in objs where k.virtToPFN(o) == pfn {
            #expect(cache.object(pfn, cache.index(pfn, o)) == o)
        }
        cache.free(cpu, objs[1] + 8)   // inside an object, not at its start
        #expect(cache.errors(.invalidPointer) == 1)
        #expect(k.log.text.contains("Invalid object pointer"))
        for o in objs { cache.free(cpu, o) }
        #expect(cache.objectsInUse == 0)
        #expect(cache.errors(.invalidPointer) == 1)
    }

    @Test("pfn_to_nid by reciprocal: nodes of equal PFN ranges, per-node size not a power of two")
    func nodeOfByReciprocal() throws {
        let k = try TestKernel.make("pack:3 [numa] core:1 pu:1", perNode: 24 << 20)
        let per = k.pagesPerNode
        #expect(per == 6144)
        for pfn in stride(from: 0, to: k.physicalPages, by: 7) { #expect(k.nodeOf(pfn: pfn) == pfn / per) }
        for n in 0..<3 {
            #expect(k.nodeOf(pfn: n * per) == n)
            #expect(k.nodeOf(pfn: (n + 1) * per - 1) == n)
        }
    }

    @Test("Hundreds of CPU threads start without waiting for each other, each bound to its PU, and stop together")
    func parallelStartAndStop() async throws {
        let host = HostBinding.shared.machine.pus
        let cpus = (0..<200).map { CPU(id: $0, node: 0, hostPU: host[$0 % host.count].osIndex) }
        for cpu in cpus { #expect(cpu.executor.isBound) }
        var ran = 0
        for cpu in cpus { ran += await cpu.run { cpu.executor.isCurrent ? 1 : 0 } }
        #expect(ran == 200)
        CPU.shutdown(cpus)
        CPU.shutdown(cpus)   // idempotent
    }
}
