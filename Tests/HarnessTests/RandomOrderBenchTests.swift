import Testing
import KernelMM
@testable import Harness

/// `numastress bench`'s random-order cases: allocator-compare's kmalloc traffic with the runner
/// taken away, the same steps for glibc and for the slab layer with and without sheaves.
@Suite struct RandomOrderBenchTests {
    @Test("Every allocator gets the same seeded steps, with the config's sizes in its weights")
    func sameSteps() {
        let a = RandomOrderBench.Window(), b = RandomOrderBench.Window()
        #expect(a.slots == b.slots && a.sizes == b.sizes)
        #expect(a.slots.allSatisfy { (0..<RandomOrderBench.live).contains($0) })
        let counts = Dictionary(grouping: a.sizes, by: { $0 }).mapValues(\.count)
        #expect(Set(counts.keys) == Set(RandomOrderBench.sizes.map(\.size)))
        // 64 bytes has weight 4 of 16, 2 KiB weight 1: about 4 times as many steps.
        #expect(counts[64]! > 3 * counts[2048]!)
        a.objects.deallocate(); b.objects.deallocate()
    }

    @Test("The three cases (glibc, CPU slabs, sheaves) are selected by --filter random-order and run")
    func casesRun() async throws {
        let cases = Benchmarks.allCases(hostCPUs: 1).filter { $0.name.localizedCaseInsensitiveContains("random-order") }
        #expect(cases.map(\.name) == RandomOrderBench.cases().map(\.name) && cases.count == 3)
        for c in cases {
            let r = try await BenchRunner.measure(c, iterations: 4_000, runs: 2, reference: nil)
            #expect(r.nsPerOp > 0 && r.runs.count == 2)
        }
    }

    @Test("Under sheaves: all the window's frees and allocations go through the sheaves, and emptying it gives every object back")
    func sheafTraffic() throws {
        let kernel = try Benchmarks.benchKernel(cpus: 1, policy: .spin)
        defer { kernel.unmapArenas() }
        let slab = try SlabAllocator(kernel: kernel, sheaves: .all)
        let cpu = kernel.cpus[0]
        let w = RandomOrderBench.Window()
        w.fill { slab.kmalloc(cpu, $0, .kernel)! }
        w.run(20_000, alloc: { slab.kmalloc(cpu, $0, .kernel)! }, free: { slab.kfree(cpu, $0) })
        let through = slab.kmallocNormal.compactMap { slab.stats($0).sheaves }.reduce(UInt64(0)) { $0 + $1.freeCPUSheaf }
        #expect(through == 20_000, "every free was a push onto a local sheaf")
        w.empty { slab.kfree(cpu, $0) }
        #expect(slab.allCaches.allSatisfy { $0.objectsInUse == 0 })
        slab.flushAll(cpu: cpu)
        #expect(slab.allCaches.allSatisfy { $0.slabs == 0 })
    }
}
