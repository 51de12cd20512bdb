import Foundation
import KernelMM

/// The numbers behind each plot of a report, taken from a Results folder: latency CDFs from the
/// `.hgrm` files, lock wait histograms, the access-cost matrices, free blocks over time and a
/// scaling curve. Plain values, so tests can check them without a plotting program.
public struct PlotData: Sendable {
    /// One latency CDF: `(nanoseconds, percentile 0…100)` points of one op in one GFP class.
    public struct CDF: Sendable { public var op: String; public var gfpClass: String; public var points: [(ns: Double, pct: Double)] }
    /// Waits per log2 bucket (`[2^(i-1), 2^i)` ns) of one lock, or of all locks of a policy.
    public struct WaitHistogram: Sendable { public var label: String; public var policy: String; public var buckets: [UInt64] }
    /// Throughput at each CPU count of one scaling workload.
    public struct ScalingCurve: Sendable {
        public var workload: String
        public var points: [(cpus: Int, opsPerSec: Double)]
        /// Throughput per CPU of the smallest run: speedup(n) = ops(n) / this.
        public var perCPUBase: Double { points.min { $0.cpus < $1.cpus }.map { $0.opsPerSec / Double($0.cpus) } ?? 1 }
    }

    public var cdfs: [CDF] = []
    public var lockWaits: [WaitHistogram] = []
    public var accessCost: AccessCostMatrix?
    public var freeTimeline: RunResult.FreeTimeline?
    public var scaling: [ScalingCurve] = []

    public init() {}

    /// Everything a folder holds: result.json (with latency/*.hgrm beside it) and/or scaling.csv.
    public static func load(_ dir: String) throws -> (result: RunResult?, data: PlotData) {
        var data = PlotData()
        var result: RunResult? = nil
        let fm = FileManager.default
        if fm.fileExists(atPath: dir + "/result.json") {
            let r = try ResultWriter.read(dir + "/result.json")
            result = r
            data.lockWaits = lockWaits(r.locks)
            data.accessCost = r.numa.accessCost
            data.freeTimeline = r.freeTimeline
            let latency = dir + "/latency"
            for file in ((try? fm.contentsOfDirectory(atPath: latency)) ?? []).sorted() where file.hasSuffix(".hgrm") {
                let stem = String(file.dropLast(5))
                guard let dash = stem.lastIndex(of: "-") else { continue }
                let text = try String(contentsOfFile: latency + "/" + file, encoding: .utf8)
                let points = cdf(hgrm: text)
                if !points.isEmpty {
                    data.cdfs.append(CDF(op: String(stem[..<dash]), gfpClass: String(stem[stem.index(after: dash)...]), points: points))
                }
            }
        }
        if fm.fileExists(atPath: dir + "/scaling.csv") {
            data.scaling = try scaling(csv: String(contentsOfFile: dir + "/scaling.csv", encoding: .utf8))
        }
        return (result, data)
    }

    /// `Value Percentile TotalCount 1/(1-Percentile)` rows of an HdrHistogram percentile file,
    /// as (value, percent). Header, footer and comment lines are skipped.
    public static func cdf(hgrm: String) -> [(ns: Double, pct: Double)] {
        hgrm.split(separator: "\n").compactMap { line in
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard f.count >= 2, let v = Double(f[0]), let p = Double(f[1]) else { return nil }
            return (v, p * 100)
        }
    }

    /// The busiest locks one by one (by contended acquisitions), and one sum per policy.
    public static func lockWaits(_ locks: [LockSnapshot], top: Int = 5) -> [WaitHistogram] {
        var out: [WaitHistogram] = []
        for policy in LockPolicy.allCases {
            let mine = locks.filter { $0.policy == policy && $0.acquisitions > 0 }
            guard !mine.isEmpty else { continue }
            var sum = Array(repeating: UInt64(0), count: mine.map(\.waitHistogram.count).max() ?? 0)
            for l in mine { for (i, c) in l.waitHistogram.enumerated() { sum[i] += c } }
            out.append(WaitHistogram(label: "all \(policy.rawValue) locks", policy: policy.rawValue, buckets: sum))
        }
        for l in locks.filter({ $0.contended > 0 }).sorted(by: { $0.contended > $1.contended }).prefix(top) {
            out.append(WaitHistogram(label: "\(l.name) (\(l.policy.rawValue))", policy: l.policy.rawValue, buckets: l.waitHistogram))
        }
        return out
    }

    /// `workload,cpus,ops_per_sec,…` rows (what `numastress bench --scaling` writes).
    public static func scaling(csv: String) throws -> [ScalingCurve] {
        var curves: [ScalingCurve] = []
        for (n, line) in csv.split(separator: "\n").enumerated() where n > 0 {
            let f = line.split(separator: ",").map(String.init)
            guard f.count >= 3, let cpus = Int(f[1]), let ops = Double(f[2]) else {
                throw ReportError("scaling.csv line \(n + 1): expected workload,cpus,ops_per_sec, got \"\(line)\"")
            }
            if let i = curves.firstIndex(where: { $0.workload == f[0] }) { curves[i].points.append((cpus, ops)) }
            else { curves.append(ScalingCurve(workload: f[0], points: [(cpus, ops)])) }
        }
        return curves
    }
}

/// A report that cannot be made, with what to do about it.
public struct ReportError: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}
