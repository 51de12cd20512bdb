import Testing
import Foundation
import Histogram
@testable import Harness
import KernelMM
import Topology

/// The runner's per-operation bookkeeping in its lean form keeps every figure: sampled
/// latencies, keep-N windows, the access-cost probe over host pairs, the bench `runner` case,
/// and a 384-CPU machine run end to end.
@Suite(.serialized) struct RunnerLeanPathTests {
    static func values(_ n: Int, seed: UInt64) -> [UInt64] {
        var rng = SplitMix(seed: seed)
        return (0..<n).map { i in
            switch i % 5 {
            case 0: return rng.next() % 2048                   // bucket 0, 1 ns resolution
            case 1: return 2048 + rng.next() % 30_000          // a few microseconds
            case 2: return rng.next() % 5_000_000              // up to milliseconds
            case 3: return 1 << (rng.next() % 36)              // every power of two up to 34 s
            default: return 59_000_000_000 + rng.next() % 20_000_000_000   // at and past 60 s
            }
        }
    }

    @Test("The block-wise latency recorder gives exactly the histogram direct recording gives (counts, percentiles, min, max, mean)")
    func recorderMatchesHistogram() {
        let samples = Self.values(20_000, seed: 7)
        var direct = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
        let recorder = LatencyRecorder(cells: 2)
        defer { recorder.deallocate() }
        var taken = 0
        for v in samples {
            let a = direct.record(v)
            let b = recorder.record(1, v)
            #expect(a == b, "value \(v)")
            if a { taken += 1 }
        }
        var merged = CPUStats.emptyHistogram
        recorder.add(1, into: &merged)
        #expect(merged.totalCount == direct.totalCount && Int(direct.totalCount) == taken)
        #expect(merged.max == direct.max && merged.min == direct.min && merged.maxRecorded == direct.maxRecorded)
        #expect(merged.mean == direct.mean)
        for p in [0.0, 1, 50, 90, 99, 99.9, 99.99, 100] { #expect(merged.valueAtPercentile(p) == direct.valueAtPercentile(p), "p\(p)") }
        #expect(merged.recordedValues().map { [$0.value, $0.count] } == direct.recordedValues().map { [$0.value, $0.count] })
        var untouched = CPUStats.emptyHistogram
        recorder.add(0, into: &untouched)
        #expect(untouched.totalCount == 0)
    }

    @Test("A CPU holds sample memory only for the parts of a histogram its latencies fall in")
    func recorderAllocatesByBlock() {
        let recorder = LatencyRecorder(cells: CPUStats.cellCount)
        defer { recorder.deallocate() }
        #expect(recorder.blockBytes == 0)
        for v: UInt64 in [20, 90, 400, 1000] { recorder.record(3, v) }   // block 0
        recorder.record(3, 1500)                                       // block 1
        recorder.record(7, 3_000_000)                                  // one block around 3 ms
        #expect(recorder.blockBytes == 3 * LatencyRecorder.blockSize * 8)
        #expect(LatencyRecorder.blocksPerCell == 27)   // the 60 s histogram's 27 648 counts
        recorder.reset()
        #expect(recorder.blockBytes == 0)
    }

    @Test("Keep-N windows evict in FIFO, LIFO and random order exactly as the array they replace")
    func windowOrders() {
        func rec(_ i: Int) -> ObjectRecord {
            ObjectRecord(pointer: UnsafeMutableRawPointer(bitPattern: i * 64)!, kind: .kmalloc, arg: 0, malloc: false)
        }
        func id(_ r: ObjectRecord) -> Int { Int(bitPattern: UInt(bitPattern: r.pointer)) / 64 }
        for order in [LifetimeOrder.fifo, .lifo, .random] {
            var rngA = SplitMix(seed: 3), rngB = SplitMix(seed: 3)
            var window = ObjectWindow(reserving: 9)
            defer { window.deallocate() }
            var reference: [Int] = []
            var outA: [Int] = [], outB: [Int] = []
            for i in 1...5_000 {
                window.append(rec(i))
                reference.append(i)
                let keep = 8 + i / 1000   // a window that grows past its reservation, wrapped
                while window.count > keep {
                    switch order {
                    case .fifo:
                        outA.append(id(window.removeFirst())); outB.append(reference.removeFirst())
                    case .lifo:
                        outA.append(id(window.removeLast())); outB.append(reference.removeLast())
                    case .random:
                        outA.append(id(window.remove(at: rngA.below(window.count))))
                        let k = rngB.below(reference.count)
                        reference.swapAt(k, reference.count - 1)
                        outB.append(reference.removeLast())
                    }
                }
            }
            #expect(outA == outB, "\(order)")
            #expect((0..<window.count).map { id(window[$0]) } == reference, "\(order)")
            window.dropFirst(3)
            #expect((0..<window.count).map { id(window[$0]) } == Array(reference.dropFirst(3)), "\(order)")
        }
    }

    static func config(_ yaml: String) throws -> StressConfig {
        try ConfigLoader.parse(yaml: yaml, file: "test.yaml", baseDirectory: FileManager.default.currentDirectoryPath)
    }

    @Test("The access-cost probe walks each host (CPU node, memory node) pair once: a 6-node model on a one-node host walks one pair")
    func probeOncePerHostPair() async throws {
        guard HostBinding.shared.machine.nodes.count == 1 else { return }
        let cfg = try Self.config("""
            name: probe
            topology: { synthetic: "pack:3 [numa] core:1 pu:1 ", distances: [[10,20,20],[20,10,20],[20,20,10]] }
            memory: { per_node: 16MiB, zones: { DMA: 0MiB, DMA32: 0MiB } }
            run: { duration: 10ms, seed: 1 }
            workloads: [ { name: w, cpus: all, op: kmalloc, size: 64 } ]
            """)
        let env = try RunEnvironment(config: cfg)
        defer { env.shutdown(); env.kernel.unmapArenas() }
        #expect(Set(AccessCostProbe.hostPairs(env).joined().compactMap { $0 }).count == 1)
        let m = await AccessCostProbe.measure(env: env, loads: 2_000)
        let all = m.measuredNS.joined()
        #expect(all.count == 9 && all.allSatisfy { $0 > 0 && $0 == all.first! }, "\(m.measuredNS)")
        #expect(m.hostHasFewerNodes)
        #expect(m.modelledNS[0][1] == 2 * m.modelledNS[0][0])
    }

    @Test("bench's runner cases step the local-slab workload through Runner.runLoop on one CPU, at the default sample rate and with sampling off, and are selected by --filter runner")
    func benchRunnerCase() async throws {
        let cases = Benchmarks.allCases(hostCPUs: 1).filter { $0.name.localizedCaseInsensitiveContains("runner") }
        #expect(cases.map(\.name) == [RunnerBench.name, RunnerBench.unsampledName])
        #expect(cases.allSatisfy { $0.reference == Benchmarks.glibc && $0.cpus == 1 })
        for c in cases {
            let r = try await BenchRunner.measure(c, iterations: 5_000, runs: 3, reference: Benchmarks.glibcCase(cpus: 1))
            #expect(r.nsPerOp > 0 && r.runs.count == 3)
            // Timed in pairs with its reference: the ratio is the median of the three pairs' ratios.
            let ref = try #require(r.referenceRuns)
            #expect(ref.count == 3 && ref.allSatisfy { $0 > 0 })
            #expect(r.ratio == zip(r.runs, ref).map { $0 / $1 }.sorted()[1])
        }
        // The sampling-off case differs from the default one in the sample rate alone.
        #expect(ScalingBench.yaml("local-slab", cpus: 1, durationMS: 1000, sampleRate: ConfigLimits.maxSampleRate)
                == ScalingBench.yaml("local-slab", cpus: 1, durationMS: 1000)
                    .replacingOccurrences(of: "seed: 1 }", with: "seed: 1, sample_rate: 1000000 }"))
    }

    @Test("Each slab kind's own copy of the per-operation path allocates and frees that kind: a kmalloc/kmem_cache_alloc/alloc_pages mix under every lifetime counts every free against its allocation")
    func specializedPathsFreeTheirKind() async throws {
        for lifetime in ["", "lifetime: { keep: 3, order: lifo }", "lifetime: { keep: 3, order: fifo }",
                         "lifetime: { keep: 3, order: random }", "lifetime: { keep: 1, order: lifo }"] {
            let cfg = try Self.config("""
                name: kinds
                topology: { synthetic: "pack:1 [numa] core:1 pu:1" }
                memory: { per_node: 32MiB, zones: { DMA: 0MiB, DMA32: 0MiB } }
                caches: [ { name: obj, size: 256 } ]
                run: { operations: 3000, deterministic: true, seed: 4, sample_rate: 3 }
                workloads:
                  - name: w
                    cpus: all
                    \(lifetime)
                    mix: [ { op: kmem_cache_alloc, cache: obj }, { op: kmalloc, size: 64 }, { op: alloc_pages, order: 0, weight: 0.5 } ]
                """)
            let r = try await Runner.run(cfg, options: RunnerTests.quick()).result
            #expect(r.invariants.passed, "\(lifetime): \(r.invariants.violations)")
            func count(_ op: String) -> UInt64 { r.operations.filter { $0.op == op }.reduce(0) { $0 + $1.count } }
            let allocs = [count("kmalloc"), count("kmem_cache_alloc"), count("alloc_pages")]
            let frees = [count("kfree"), count("kmem_cache_free"), count("free_pages")]
            #expect(allocs.reduce(0, +) == 3000 && allocs.allSatisfy { $0 > 500 }, "\(lifetime): \(allocs)")
            let held: UInt64 = lifetime.contains("keep: 3") ? 3 : lifetime.contains("keep: 1") ? 1 : 0
            #expect(frees.reduce(0, +) == 3000 - held, "\(lifetime): \(frees)")
            for k in 0..<3 { #expect(frees[k] <= allocs[k] && frees[k] + held >= allocs[k], "\(lifetime): \(allocs) \(frees)") }
            // Latencies are sampled on every copy of the path (one in three on average).
            #expect(r.operations.filter { $0.count > 0 }.allSatisfy { $0.samples > 0 }, "\(lifetime)")
        }
    }

    @Test("Drawing the next operation ahead leaves every seeded draw where it was: the same operations, sizes, atomic picks and random evictions, counter for counter")
    func drawAheadKeepsSeededDraws() throws {
        let cfg = try Self.config("""
            name: ahead
            topology: { synthetic: "pack:1 [numa] core:1 pu:1" }
            memory: { per_node: 32MiB, zones: { DMA: 0MiB, DMA32: 0MiB } }
            caches: [ { name: obj, size: 256 } ]
            run: { operations: 4000, deterministic: true, seed: 9 }
            workloads:
              - name: w
                cpus: all
                atomic_share: 0.2
                lifetime: { keep: 40, order: random }
                mix: [ { op: kmem_cache_alloc, cache: obj }, { op: kmalloc, size: { uniform: [8, 2000] } }, { op: alloc_pages, order: { uniform: [0, 3] }, weight: 0.3 } ]
            """)
        func counts(drawAhead: Bool) throws -> ([UInt64], [UInt64], UInt64) {
            let env = try RunEnvironment(config: cfg)
            let w = try #require(Runner.makeWorkers(env, drawAhead: drawAhead).first)
            #expect(w.drawsAhead == drawAhead)
            for _ in 0..<4000 { w.step() }
            let ops = (0..<CPUStats.cellCount).map { w.stats.opCounts[$0] }
            let locality = w.stats.locality[0]
            // Where the objects landed says which objects the random evictions picked.
            let base = UInt(bitPattern: env.kernel.physicalBase)
            let held = (0..<w.windows[0].count).map { UInt64(UInt(bitPattern: w.windows[0][$0].pointer) &- base) }
            w.releaseAll(); w.flushPerCPU()
            env.shutdown(); env.kernel.unmapArenas()
            return (ops, held, locality)
        }
        let (a, heldA, locA) = try counts(drawAhead: true)
        let (b, heldB, locB) = try counts(drawAhead: false)
        #expect(a == b)
        #expect(heldA == heldB && locA == locB)
        #expect(a.reduce(0, +) > 7000)
    }

    @Test("The integer operation draw picks the entry the floating-point cumulative search picks, for every draw tried")
    func weightedPickMatchesFloatingPoint() {
        var rng = SplitMix(seed: 11)
        for t in 0..<300 {
            let n = 1 + t % 23
            // Weights from tiny to large, some zero (an entry that is never drawn).
            let weights: [Double] = (0..<n).map { k in
                if k > 0 && rng.below(5) == 0 { return 0 }
                return Double(1 + rng.below(1000)) * [1e-9, 1e-3, 1, 7.3, 1e6][rng.below(5)]
            }
            var sum = 0.0
            let cumulative = weights.map { sum += $0; return sum }
            let pick = WeightedPick(cumulative: cumulative)
            defer { pick.deallocate() }
            func reference(_ m: UInt64) -> Int {
                let x = WeightedPick.point(m, total: cumulative[n - 1])
                return CumulativeSearch.first(above: x, count: n) { cumulative[$0] }
            }
            var draws: [UInt64] = [0, (1 << 53) - 1]
            for _ in 0..<200 { draws.append(rng.next() >> 11) }
            // Each threshold and its neighbours: where a rounding slip would show.
            for k in 0..<(n - 1) {
                let th = WeightedPick.threshold(cumulative[k], total: cumulative[n - 1])
                draws += [th, th &- 1, th + 1].filter { $0 < 1 << 53 }
            }
            for m in draws { #expect(pick.index(m) == reference(m), "weights \(weights), draw \(m)") }
        }
        // The draw takes one generator step, as `unit()` did.
        var a = SplitMix(seed: 5), b = SplitMix(seed: 5)
        let pick = WeightedPick(cumulative: [1, 2, 3])
        defer { pick.deallocate() }
        _ = pick.pick(&a); _ = b.unit()
        #expect(a.next() == b.next())
    }

    @Test("A 384-CPU, 24-node hwloc machine runs a short phase on every CPU with every figure and check in place")
    func bigMachineRuns() async throws {
        let xml = TestPaths.repoRoot + "/Tests/TopologyTests/Fixtures/384sim-4p6n8c2t.xml"
        let cfg = try Self.config("""
            name: big
            topology: { xml: \(xml) }
            memory: { per_node: 8MiB, zones: { DMA: 0MiB, DMA32: 0MiB } }
            caches: [ { name: obj, size: 256, flags: [SLAB_HWCACHE_ALIGN] } ]
            run: { duration: 20ms, seed: 1 }
            workloads:
              - { name: local, cpus: all, lifetime: { keep: 16, order: lifo }, mix: [ { op: kmem_cache_alloc, cache: obj }, { op: kmalloc, size: 64 } ] }
            """)
        var o = Runner.Options()
        o.probeAccessCost = false
        let r = try await Runner.run(cfg, options: o).result
        #expect(r.complete)
        #expect(r.invariants.passed, "\(r.invariants.violations)")
        #expect(r.throughput.perCPU.count == 384 && r.throughput.perCPU.allSatisfy { $0.ops > 0 })
        #expect(r.numa.localityMatrix.count == 24)
        let perNode = r.numa.localityMatrix.enumerated().map { i, row in row[i] }
        #expect(perNode.reduce(0, +) == r.numa.localityMatrix.joined().reduce(0, +), "every allocation local to its CPU's node")
        let alloc = try #require(r.operations.first { $0.op == "kmem_cache_alloc" })
        #expect(alloc.samples > 0 && alloc.p50NS > 0)
    }
}
