/// What each repetition of a run keeps in result.json for `compare`: besides throughput and
/// the CPU time it took, the median and tail latency of every operation class and the
/// speed-independent ratios. A statistical test needs the figure of every repetition, not only
/// the last repetition's full result.
public struct RepetitionLatency: Codable, Sendable, Equatable {
    public var op: String
    public var gfpClass: String
    /// Timed operations behind the percentiles (one in `sample_rate` on average).
    public var samples: UInt64
    /// Interpolated between the clock's steps (`InterpolatedPercentile`), so not always the
    /// summary's whole-nanosecond figure.
    public var p50NS: Double
    public var p99NS: Double
}

extension RunResult.RepetitionFigures {
    /// The figures of one repetition, from that repetition's own result and histograms.
    public init(of outcome: RunOutcome) {
        let r = outcome.result
        self.init(totalOps: r.throughput.totalOps, elapsedNS: r.run.elapsedNS, opsPerSec: r.throughput.opsPerSec)
        cpuNS = r.run.cpuNS
        latency = r.operations.map { o in
            let h = outcome.histograms["\(o.op)-\(o.gfpClass)"]
            return RepetitionLatency(op: o.op, gfpClass: o.gfpClass, samples: o.samples,
                                     p50NS: h.flatMap { InterpolatedPercentile.of($0, 50) } ?? Double(o.p50NS),
                                     p99NS: h.flatMap { InterpolatedPercentile.of($0, 99) } ?? Double(o.p99NS))
        }
        ratios = StableRatios.of(r)
    }

    /// Operations per second of CPU time the process was given over the measured phase: what
    /// other processes take from a shared machine does not count against it.
    public var opsPerCPUSec: Double? {
        guard let cpuNS, cpuNS > 0 else { return nil }
        return Double(totalOps) / (Double(cpuNS) / 1e9)
    }
}
