/// What each repetition of a run keeps in result.json for `compare`: besides throughput, the
/// median and tail latency of every operation class, the lock wait per operation, and the
/// speed-independent ratios. A statistical test needs the figure of every repetition, not only
/// the last repetition's full result.
public struct RepetitionLatency: Codable, Sendable, Equatable {
    public var op: String
    public var gfpClass: String
    /// Timed operations behind the percentiles (one in `sample_rate`).
    public var samples: UInt64
    public var p50NS: UInt64
    public var p99NS: UInt64
}

extension RunResult.RepetitionFigures {
    /// The figures of one repetition, from that repetition's own result.
    public init(of r: RunResult) {
        self.init(totalOps: r.throughput.totalOps, elapsedNS: r.run.elapsedNS, opsPerSec: r.throughput.opsPerSec)
        cpuNS = r.run.cpuNS
        latency = r.operations.map {
            RepetitionLatency(op: $0.op, gfpClass: $0.gfpClass, samples: $0.samples, p50NS: $0.p50NS, p99NS: $0.p99NS)
        }
        let ops = Double(r.throughput.totalOps)
        lockWaitNSPerOp = ops > 0 ? Double(r.locks.reduce(UInt64(0)) { $0 + $1.waitNS }) / ops : nil
        ratios = StableRatios.of(r)
    }

    /// Operations per second of CPU time the process was given over the measured phase: what
    /// other processes take from a shared machine does not count against it.
    public var opsPerCPUSec: Double? {
        guard let cpuNS, cpuNS > 0 else { return nil }
        return Double(totalOps) / (Double(cpuNS) / 1e9)
    }
}
