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
enum BenchRunner {
    static func measure(_ c: BenchCase, iterations: Int, runs: Int) async throws -> BenchResult {
        let (loops, teardown) = try c.make()
        defer { teardown() }
        let host = HostBinding.shared.machine.pus
        let cpus = (0..<c.cpus).map { CPU(id: $0, node: 0, hostPU: host[$0 % host.count].osIndex) }
        defer { cpus.forEach { $0.shutdown() } }
        var figures: [Double] = []
        for run in 0...runs {
            let perCPU = await withTaskGroup(of: Double.self) { group in
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
            if run > 0 { figures.append(perCPU) }  // run 0 is the warm-up
        }
        let sorted = figures.sorted()
        return BenchResult(group: c.group, name: c.name, cpus: c.cpus, nsPerOp: sorted[sorted.count / 2],
                           runs: figures, reference: c.reference, ratio: nil, note: c.note)
    }
}

/// A benchmark that could not be set up or did not finish, with the reason.
public struct BenchError: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}
