import Testing
import Foundation
@testable import Harness
import KernelMM

/// Latency sampling (`run.sample_rate`, `SampleInterval`): one operation in N on average, at
/// gaps that reach every phase of a periodic workload, drawn from a generator of their own.
struct SampleIntervalTests {
    @Test("sample_rate 1 times every operation")
    func rateOneTimesEverything() {
        var s = SampleInterval(rate: 1, seed: 42, cpu: 0)
        #expect((0..<1000).allSatisfy { _ in s.next() == 1 })
    }

    @Test("Gaps lie in 1…2N−1 and average N, so one operation in N is timed")
    func gapsAverageTheRate() {
        for rate in [2, 16, 64, 1000] {
            var s = SampleInterval(rate: rate, seed: 7, cpu: 3)
            let gaps = (0..<200_000).map { _ in s.next() }
            #expect(gaps.allSatisfy { (1...(2 * rate - 1)).contains($0) }, "rate \(rate)")
            let mean = Double(gaps.reduce(0, +)) / Double(gaps.count)
            #expect(abs(mean - Double(rate)) < 0.02 * Double(rate), "rate \(rate): mean gap \(mean)")
        }
    }

    @Test("The timed operations fall on every phase of a 64-operation period (a kmalloc-64 slab's objects), not on one as a fixed gap of 64 would")
    func timedOperationsCoverEveryPhase() {
        var s = SampleInterval(rate: 64, seed: 1, cpu: 0)
        var position = 0
        var phases = Set<Int>()
        for _ in 0..<20_000 {
            position += s.next()
            phases.insert(position % 64)
        }
        #expect(phases.count == 64)
    }

    @Test("A runner CPU times its operations at drawn gaps: at the default rate (64) its timed operations fall on every phase of a 64-operation period, the first one included")
    func workerSamplesAtDrawnGaps() throws {
        let cfg = try RunnerTests.config("""
            name: gaps
            topology: { synthetic: "pack:1 [numa] core:1 pu:1" }
            memory: { per_node: 16MiB, zones: { DMA: 0MiB, DMA32: 0MiB } }
            caches: [ { name: obj, size: 64 } ]
            run: { operations: 100, deterministic: true, seed: 3 }
            workloads: [ { name: w, cpus: all, op: kmem_cache_alloc, cache: obj } ]
            """)
        #expect(cfg.run.sampleRate == 64)
        let env = try RunEnvironment(config: cfg)
        defer { env.shutdown(); env.kernel.unmapArenas() }
        let w = try #require(Runner.makeWorkers(env).first)
        var phases = Set<Int>(), timed = 0
        for i in 0..<20_000 where w.sampling(&w.allocCountdown) {
            phases.insert(i % 64)
            timed += 1
        }
        #expect(phases.count == 64)
        #expect(abs(timed - 20_000 / 64) < 40, "\(timed) timed of 20000")
    }

    @Test("Each CPU draws its own gaps, and the same seed draws the same ones")
    func gapsPerCPUAndSeeded() {
        func gaps(seed: UInt64, cpu: Int) -> [Int] {
            var s = SampleInterval(rate: 16, seed: seed, cpu: cpu)
            return (0..<64).map { _ in s.next() }
        }
        #expect(gaps(seed: 5, cpu: 0) == gaps(seed: 5, cpu: 0))
        #expect(gaps(seed: 5, cpu: 0) != gaps(seed: 5, cpu: 1))
        #expect(gaps(seed: 5, cpu: 0) != gaps(seed: 6, cpu: 0))
    }

    @Test("The sample rate changes which operations are timed and nothing else: a seeded deterministic run counts the same operations, failures, slabs and locality at rates 1, 16 and 64, and times about one in N")
    func rateMovesNoSeededDraw() async throws {
        func run(rate: Int) async throws -> RunResult {
            let cfg = try RunnerTests.config("""
                name: rates
                topology: { synthetic: "pack:2 [numa] core:2 pu:1" }
                memory: { per_node: 32MiB, zones: { DMA: 0MiB, DMA32: 0MiB } }
                caches: [ { name: obj, size: 256 } ]
                run: { operations: 6000, deterministic: true, seed: 11, sample_rate: \(rate) }
                workloads:
                  - name: w
                    cpus: all
                    atomic_share: 0.2
                    lifetime: { keep: 40, order: random }
                    mix: [ { op: kmem_cache_alloc, cache: obj }, { op: kmalloc, size: { uniform: [8, 900] } }, { op: alloc_pages, order: 1 } ]
                """)
            return try await Runner.run(cfg, options: RunnerTests.quick()).result
        }
        let runs = try await [1, 16, 64].asyncMap { try await run(rate: $0) }
        func counts(_ r: RunResult) -> [String] { r.operations.map { "\($0.op)/\($0.gfpClass): \($0.count) \($0.failures)" } }
        func slabs(_ r: RunResult) -> [String] { r.caches.map { "\($0.info) \($0.remoteFrees)" } }
        for r in runs.dropFirst() {
            #expect(counts(r) == counts(runs[0]))
            #expect(slabs(r) == slabs(runs[0]))
            #expect(r.numa.localityMatrix == runs[0].numa.localityMatrix)
        }
        for (r, rate) in zip(runs, [1, 16, 64]) {
            let ops = r.operations.reduce(0) { $0 + $1.count }, samples = r.operations.reduce(0) { $0 + $1.samples }
            if rate == 1 { #expect(samples == ops) }
            let expected = Double(ops) / Double(rate)
            #expect(abs(Double(samples) - expected) < 0.15 * expected, "rate \(rate): \(samples) samples of \(ops)")
        }
    }
}

extension Array {
    fileprivate func asyncMap<T>(_ f: (Element) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        for e in self { out.append(try await f(e)) }
        return out
    }
}
