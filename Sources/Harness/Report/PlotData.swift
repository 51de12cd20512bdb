import Foundation
import KernelMM

/// The numbers behind each plot of a report, taken from a Results folder: latency percentile
/// distributions from the `.hgrm` files, lock wait and hold histograms, the access-cost
/// matrices, free blocks over time and a scaling curve. Plain values, so tests can check them
/// without a plotting program.
public struct PlotData: Sendable {
    /// One latency distribution: `(nanoseconds, percentile 0…100)` points of one op in one GFP
    /// class, and how many samples it holds (which bounds how far into the tail it can speak).
    public struct CDF: Sendable {
        public var op: String
        public var gfpClass: String
        public var points: [(ns: Double, pct: Double)]
        public var samples: Int = 0
    }
    /// Waits per log2 bucket (`[2^(i-1), 2^i)` ns; 0 is "no wait") of one lock, or of all locks
    /// of a policy, and its hold times in the same buckets.
    public struct WaitHistogram: Sendable {
        public var label: String
        public var policy: String
        public var buckets: [UInt64]
        public var hold: [UInt64] = []
    }
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

    /// What a folder holds: result.json, the latency/*.hgrm files and/or scaling.csv. A
    /// result.json this build cannot decode (written by another version, or cut short) is not
    /// an error here: `unreadable` says why, and the report falls back to the CSVs.
    public struct Loaded: Sendable {
        public var result: RunResult?
        public var data: PlotData
        public var unreadable: String?
    }

    public static func load(_ dir: String) throws -> Loaded {
        var data = PlotData()
        var result: RunResult? = nil
        var unreadable: String? = nil
        let fm = FileManager.default
        if fm.fileExists(atPath: dir + "/result.json") {
            do {
                let r = try ResultWriter.read(dir + "/result.json")
                result = r
                data.lockWaits = lockWaits(r.locks)
                data.accessCost = r.numa.accessCost
                data.freeTimeline = r.freeTimeline
            } catch {
                unreadable = "result.json could not be read (\(describe(error))); tables come from the CSV files"
            }
        }
        let latency = dir + "/latency"
        for file in ((try? fm.contentsOfDirectory(atPath: latency)) ?? []).sorted() where file.hasSuffix(".hgrm") {
            let stem = String(file.dropLast(5))
            guard let dash = stem.lastIndex(of: "-"),
                  let text = try? String(contentsOfFile: latency + "/" + file, encoding: .utf8) else { continue }
            let points = cdf(hgrm: text)
            if !points.isEmpty {
                data.cdfs.append(CDF(op: String(stem[..<dash]), gfpClass: String(stem[stem.index(after: dash)...]),
                                     points: points, samples: totalCount(hgrm: text)))
            }
        }
        if fm.fileExists(atPath: dir + "/scaling.csv") {
            data.scaling = try scaling(csv: String(contentsOfFile: dir + "/scaling.csv", encoding: .utf8))
        }
        return Loaded(result: result, data: data, unreadable: unreadable)
    }

    /// A decoding error as a short sentence naming the key path, not Swift's debug dump.
    static func describe(_ error: Error) -> String {
        func path(_ c: DecodingError.Context) -> String {
            let p = c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return p.isEmpty ? c.debugDescription : "at \(p.hasPrefix(".") ? String(p.dropFirst()) : p): \(c.debugDescription)"
        }
        switch error as? DecodingError {
        case .keyNotFound(let key, let c)?: return "missing key \(key.stringValue) " + path(c)
        case .typeMismatch(_, let c)?, .valueNotFound(_, let c)?, .dataCorrupted(let c)?: return path(c)
        default: return "\(error)"
        }
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

    /// The samples behind an `.hgrm` file: the TotalCount column of its last row.
    public static func totalCount(hgrm: String) -> Int {
        for line in hgrm.split(separator: "\n").reversed() {
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            if f.count >= 3, Double(f[0]) != nil, let n = Int(f[2]) { return n }
        }
        return 0
    }

    /// One sum per policy, then the busiest locks one by one (by contended acquisitions). A
    /// policy with a single lock taken is that lock: its sum names it and it is not repeated.
    public static func lockWaits(_ locks: [LockSnapshot], top: Int = 5) -> [WaitHistogram] {
        var out: [WaitHistogram] = []
        var alone = Set<String>()
        for policy in LockPolicy.locks {   // an atomic zone never waits: no histogram
            let mine = locks.filter { $0.policy == policy && $0.acquisitions > 0 }
            guard !mine.isEmpty else { continue }
            if mine.count == 1 { alone.insert(mine[0].name) }
            out.append(WaitHistogram(label: "all \(policy.rawValue) locks" + (mine.count == 1 ? " (\(mine[0].name) only)" : ""),
                                     policy: policy.rawValue,
                                     buckets: sum(mine.map(\.waitHistogram)), hold: sum(mine.map(\.holdHistogram))))
        }
        for l in locks.filter({ $0.contended > 0 && $0.policy != .atomic && !alone.contains($0.name) }).sorted(by: { $0.contended > $1.contended }).prefix(top) {
            out.append(WaitHistogram(label: "\(l.name) (\(l.policy.rawValue))", policy: l.policy.rawValue,
                                     buckets: l.waitHistogram, hold: l.holdHistogram))
        }
        return out
    }

    /// Bucket-wise sum of histograms of any lengths.
    static func sum(_ hs: [[UInt64]]) -> [UInt64] {
        var out = Array(repeating: UInt64(0), count: hs.map(\.count).max() ?? 0)
        for h in hs { for (i, c) in h.enumerated() { out[i] += c } }
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
