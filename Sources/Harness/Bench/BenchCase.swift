import Foundation
import KernelMM
import Topology

/// One measured figure: nanoseconds per operation pair, the median of several timed runs after a
/// warm-up run, each run on pinned CPU actors.
public struct BenchResult: Sendable, Codable {
    public var group: String
    public var name: String
    public var cpus: Int
    public var nsPerOp: Double
    public var runs: [Double]
    /// Name of the reference this figure is compared with, and the ratio (this / reference).
    public var reference: String?
    public var ratio: Double?
    /// The reference timed beside each run of this case (one reference run right before each
    /// of `runs`), when it had one: the ratio is the median of the pairs' ratios.
    public var referenceRuns: [Double]?
    public var note: String?

    /// (max - min) / median of the runs: how far to trust the median.
    public var spread: Double {
        guard let lo = runs.min(), let hi = runs.max(), nsPerOp > 0 else { return 0 }
        return (hi - lo) / nsPerOp
    }
}

/// A benchmark: a set-up per CPU that returns the timed loop body.
struct BenchCase: Sendable {
    var group: String
    var name: String
    var cpus: Int
    var reference: String?
    var note: String?
    /// Builds what the case needs (a kernel, …) and returns per-CPU loops; `teardown` after.
    var make: @Sendable () throws -> (loops: [@Sendable (Int) -> Void], teardown: @Sendable () -> Void)
}

/// Runs cases: each CPU's loop runs inside its CPU actor (no hop per operation); the figure is
/// the mean over CPUs of (elapsed / iterations), median over runs.
///
/// A case with a reference is timed in pairs: before each of its runs the reference loop runs
/// once on the first CPU, and the ratio is the median of the pairs' ratios. A shared VM's speed
/// drifts over seconds (the glibc pair measured 13 ns and 23 ns minutes apart here, within
/// one process as well), so a reference timed once, before every case, would carry that drift
/// into every ratio; a pair sees the same machine.
enum BenchRunner {
    static func measure(_ c: BenchCase, iterations: Int, runs: Int, reference: BenchCase? = nil) async throws -> BenchResult {
        let (loops, teardown) = try c.make()
        defer { teardown() }
        let (refLoops, refTeardown) = try reference?.make() ?? ([], {})
        defer { refTeardown() }
        let host = HostBinding.shared.machine.pus
        let cpus = (0..<c.cpus).map { CPU(id: $0, node: 0, hostPU: host[$0 % host.count].osIndex) }
        defer { cpus.forEach { $0.shutdown() } }
        var figures: [Double] = [], refFigures: [Double] = []
        for run in 0...runs {
            if let refLoop = refLoops.first {
                let ref = await timed(Array(cpus.prefix(1)), [refLoop], iterations)
                if run > 0 { refFigures.append(ref) }
            }
            let perCPU = await timed(cpus, loops, iterations)
            if run > 0 { figures.append(perCPU) }  // run 0 is the warm-up
        }
        var result = BenchResult(group: c.group, name: c.name, cpus: c.cpus, nsPerOp: median(figures),
                                 runs: figures, reference: c.reference, ratio: nil, note: c.note)
        if !refFigures.isEmpty {
            result.referenceRuns = refFigures
            result.ratio = median(zip(figures, refFigures).map { $0 / $1 })
        }
        return result
    }

    /// One timed run: every CPU's loop at once; the mean over CPUs of ns per iteration.
    static func timed(_ cpus: [CPU], _ loops: [@Sendable (Int) -> Void], _ iterations: Int) async -> Double {
        await withTaskGroup(of: Double.self) { group in
            for (i, cpu) in cpus.enumerated() {
                let loop = loops[i]
                group.addTask {
                    await cpu.run {
                        let t0 = Clock.monotonicNS()
                        loop(iterations)
                        return Double(Clock.monotonicNS() - t0) / Double(iterations)
                    }
                }
            }
            var all: [Double] = []
            for await x in group { all.append(x) }
            return all.reduce(0, +) / Double(all.count)
        }
    }

    static func median(_ xs: [Double]) -> Double {
        let sorted = xs.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }
}

/// A benchmark that could not be set up or did not finish, with the reason.
public struct BenchError: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}
