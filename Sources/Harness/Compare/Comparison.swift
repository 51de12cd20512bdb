import Foundation

/// `numastress compare BASELINE RESULT`: deterministic counters must match exactly; timing
/// figures may move within a threshold, judged on medians over repetitions, and are not judged
/// at all when the runs' own noise is larger than the threshold.
public struct Comparison: Sendable {
    public enum Direction: Sendable { case exact, higherIsBetter, lowerIsBetter }
    public enum Verdict: String, Sendable {
        case ok, regression = "REGRESSION", changed = "CHANGED", improved, missing
        case noisy = "not judged (noise)"
        case single = "not judged (1 repetition)"
    }

    public struct Row: Sendable {
        public var metric: String
        public var baseline: Double?
        public var now: Double?
        public var verdict: Verdict
        public var change: Double? {
            guard let b = baseline, let n = now, b != 0 else { return nil }
            return (n - b) / b
        }
    }

    public var rows: [Row]
    public var failed: Bool { rows.contains { $0.verdict == .regression || $0.verdict == .changed || $0.verdict == .missing } }

    /// Compares `now` with `baseline`. `maxRegression` is a fraction (0.1 = 10 %).
    public init(baseline: RunResult, now: RunResult, maxRegression: Double, metrics: [String] = []) {
        let b = Self.metrics(baseline), n = Self.metrics(now)
        let exact = baseline.run.mode == "deterministic" && now.run.mode == "deterministic"
        let noise = max(Self.noise(baseline), Self.noise(now))
        let repeated = baseline.repetitions.count >= 2 && now.repetitions.count >= 2
        var rows: [Row] = []
        for key in Set(b.keys).union(n.keys).sorted() {
            if !metrics.isEmpty && !metrics.contains(where: { key.contains($0) }) { continue }
            let dir = (b[key] ?? n[key])!.1
            if dir == .exact && !exact { continue }   // counters of timed runs depend on timing
            let bv = b[key]?.0, nv = n[key]?.0
            var verdict = Verdict.ok
            if bv == nil || nv == nil {
                verdict = .missing
            } else if dir == .exact {
                verdict = bv == nv ? .ok : .changed
            } else if !repeated {
                verdict = .single
            } else if noise > maxRegression {
                verdict = .noisy
            } else {
                let delta = bv! == 0 ? 0 : (nv! - bv!) / bv!
                let worse = dir == .higherIsBetter ? -delta : delta
                verdict = worse > maxRegression ? .regression : (worse < -maxRegression ? .improved : .ok)
            }
            rows.append(Row(metric: key, baseline: bv, now: nv, verdict: verdict))
        }
        self.rows = rows
    }

    /// The figures compared, flattened: counters (exact), throughput (higher is better),
    /// tail latency and lock waits (lower is better).
    static func metrics(_ r: RunResult) -> [String: (Double, Direction)] {
        var m: [String: (Double, Direction)] = [:]
        m["throughput.ops_per_sec"] = (median(r.repetitions.map(\.opsPerSec)) ?? r.throughput.opsPerSec, .higherIsBetter)
        m["throughput.total_ops"] = (Double(r.throughput.totalOps), .exact)
        for o in r.operations {
            m["ops.\(o.op).\(o.gfpClass).count"] = (Double(o.count), .exact)
            m["ops.\(o.op).\(o.gfpClass).failures"] = (Double(o.failures), .exact)
            if o.samples > 100 { m["latency.\(o.op).\(o.gfpClass).p99_ns"] = (Double(o.p99NS), .lowerIsBetter) }
        }
        for z in r.zones where z.pages > 0 {
            let e = z.events, k = "zone.\(z.node).\(z.zone)"
            m["\(k).allocs"] = (Double(e.totalAllocs), .exact)
            m["\(k).failures"] = (Double(e.failures), .exact)
            m["\(k).zone_fallbacks"] = (Double(e.zoneFallbacks), .exact)
            m["\(k).node_fallbacks"] = (Double(e.nodeFallbacks), .exact)
            m["\(k).watermark_hits"] = (Double(e.watermarkHits), .exact)
        }
        for (i, row) in r.numa.remoteFrees.enumerated() { for (j, v) in row.enumerated() { m["numa.remote_frees.\(i).\(j)"] = (Double(v), .exact) } }
        for (i, row) in r.numa.localityMatrix.enumerated() { for (j, v) in row.enumerated() { m["numa.locality.\(i).\(j)"] = (Double(v), .exact) } }
        for c in r.caches { m["slab.\(c.info.name).slabs"] = (Double(c.info.slabs), .exact) }
        if let t = r.tlb?.totals {
            m["tlb.misses"] = (Double(t.misses), .exact)
            m["tlb.walks"] = (Double(t.walks), .exact)
            m["tlb.faults"] = (Double(t.faults), .exact)
            m["tlb.ipis_sent"] = (Double(t.ipisSent), .exact)
        }
        let wait = r.locks.reduce(0) { $0 + $1.waitNS }
        m["locks.total_wait_ns"] = (Double(wait), .lowerIsBetter)
        return m
    }

    /// Spread of throughput over repetitions, relative to the median: the run's own noise.
    static func noise(_ r: RunResult) -> Double {
        let xs = r.repetitions.map(\.opsPerSec)
        guard xs.count >= 2, let med = median(xs), med > 0 else { return 0 }
        return (xs.max()! - xs.min()!) / med
    }

    static func median(_ xs: [Double]) -> Double? {
        guard !xs.isEmpty else { return nil }
        let s = xs.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// The table: metric, baseline, now, change, verdict.
    public func table(showAll: Bool = false) -> String {
        let shown = rows.filter { showAll || ($0.verdict != .ok && $0.verdict != .single) }
        let header = ["metric", "baseline", "now", "change", "verdict"]
        let cells = shown.map { r -> [String] in
            [r.metric, r.baseline.map(Self.fmt) ?? "-", r.now.map(Self.fmt) ?? "-",
             r.change.map { String(format: "%+.1f%%", $0 * 100) } ?? "-", r.verdict.rawValue]
        }
        let widths = header.indices.map { i in max(header[i].count, cells.map { $0[i].count }.max() ?? 0) }
        func line(_ c: [String]) -> String {
            c.enumerated().map { i, s in i == 0 ? s.padding(toLength: widths[i], withPad: " ", startingAt: 0)
                : String(repeating: " ", count: widths[i] - s.count) + s }.joined(separator: "  ") + "\n"
        }
        var out = line(header) + cells.map(line).joined()
        let bad = rows.filter { $0.verdict == .regression || $0.verdict == .changed || $0.verdict == .missing }.count
        out += "\(rows.count) metric(s) compared, \(bad) failing" + (shown.count < rows.count ? " (\(rows.count - shown.count) ok or not judged not shown; --all shows them)" : "") + "\n"
        return out
    }

    static func fmt(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(format: "%.1f", v) }
}
