import Histogram
import Testing
@testable import Harness

/// The figures compare judges besides the U test: interpolated percentiles of coarse clocks,
/// and the normalised config identity that decides whether two results may be compared.
@Suite struct RegressionFiguresTests {
    func histogram(_ counts: [UInt64: UInt64]) -> Histogram<UInt64> {
        var h = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
        for (v, n) in counts { _ = h.record(v, count: n) }
        return h
    }

    @Test("A median over a few clock steps moves smoothly with the distribution; over fine values it is the plain median")
    func interpolated() throws {
        // 45 % at 40 ns, 40 % at 49 ns, 15 % at 60 ns: the median lies 5/40 into the 49 ns class,
        // which spans 44.5…54.5 (halfway to each neighbour): 45.75, where the plain median says 49.
        let coarse = histogram([40: 45, 49: 40, 60: 15])
        #expect(coarse.valueAtPercentile(50) == 49)
        #expect(abs(try #require(InterpolatedPercentile.of(coarse, 50)) - 45.75) < 1e-9)
        // A slightly faster distribution gives a slightly smaller figure, not a step of 9 ns.
        let faster = try #require(InterpolatedPercentile.of(histogram([40: 55, 49: 35, 60: 10]), 50))
        #expect(faster < 45.75 && faster > 40)
        let fine = histogram(Dictionary(uniqueKeysWithValues: (1...100).map { (UInt64($0), UInt64(1)) }))
        #expect(abs(try #require(InterpolatedPercentile.of(fine, 50)) - 50) <= 1)
        #expect(abs(try #require(InterpolatedPercentile.of(fine, 99)) - 99) <= 1)
        #expect(InterpolatedPercentile.of(histogram([:]), 50) == nil)
        #expect(InterpolatedPercentile.of(histogram([7: 3]), 99) == 7)
    }

    func config(_ edit: (inout StressConfig) -> Void = { _ in }) throws -> StressConfig {
        var c = try ConfigLoader.parse(yaml: """
            name: ident
            topology: { synthetic: "pack:2 [numa] core:1 pu:1" }
            memory: { per_node: 16MiB, zones: { DMA: 1MiB, DMA32: 3MiB } }
            run: { duration: 1s, seed: 5 }
            workloads:
              - { name: w, cpus: all, op: kmalloc, size: { uniform: [16, 512] }, lifetime: { keep: 100, order: random } }
            """, file: "ident.yaml", baseDirectory: "/tmp")
        edit(&c)
        return c
    }

    @Test("The config identity: the same run whatever the repetitions, file or injected delay; any other field differs by name")
    func identity() throws {
        var opts = Runner.Options()
        let base = ConfigIdentity(try config(), options: opts)
        #expect(base.hash.count == 16)
        #expect(base.fields.contains("workloads[0].mix[0].size.uniform.0 = 16"))
        #expect(base.fields.contains("workloads[0].lifetime.keep.1 = random"))
        #expect(!base.fields.contains { $0.hasPrefix("file") || $0.hasPrefix("run.repetitions") })
        let same = ConfigIdentity(try config { $0.run.repetitions = 9; $0.file = "elsewhere.yaml" }, options: opts)
        #expect(same == base)
        opts.injectDelayNS = 150
        #expect(ConfigIdentity(try config(), options: opts) == base)

        let longer = ConfigIdentity(try config { $0.run.durationNS = 2_000_000_000 }, options: Runner.Options())
        #expect(longer.hash != base.hash)
        let d = longer.differences(from: base)
        #expect(d.different == ["run.durationNS: 1000000000 vs 2000000000"])
        #expect(d.oneSided.isEmpty)
        opts = Runner.Options()
        opts.shake = (seed: 3, probability: 0.02)
        #expect(ConfigIdentity(try config(), options: opts).differences(from: base).oneSided == ["options.shake only in this result"])
    }
}
