import Foundation

extension Comparison {
    /// The table: metric, baseline, now, change, p, verdict; rows not judged point to a
    /// footnote with the reason. Ok rows are left out unless `showAll`; the closing line counts
    /// every kind of outcome.
    public func table(showAll: Bool = false) -> String {
        let shown = rows.filter { showAll || $0.verdict != .ok }
        var reasons: [String] = []
        let cells = shown.map { r -> [String] in
            var verdict = r.verdict.label
            if case .notJudged(let why) = r.verdict {
                if !reasons.contains(why) { reasons.append(why) }
                verdict += " [\(reasons.firstIndex(of: why)! + 1)]"
            }
            return [r.metric, r.baseline.map(Self.fmt) ?? "-", r.now.map(Self.fmt) ?? "-",
                    r.change.map(Self.percent) ?? "-", r.p.map { String(format: "%.3f", $0) } ?? "-", verdict]
        }
        var out = ""
        if rows.contains(where: { $0.kind != .counter }) {
            let pct = { (v: Double) in String(Self.percent(v).dropFirst()) }
            out += "timings and ratios: medians over repetitions, two-sided Mann–Whitney U test; a change counts when "
                + "p < \(options.alpha) and it exceeds \(pct(options.maxRegression)) (throughput, p50), "
                + "\(pct(options.maxTailRegression)) (p99) or \(pct(options.ratioTolerance)) (ratios)\n"
        }
        let header = ["metric", "baseline", "now", "change", "p", "verdict"]
        let widths = header.indices.map { i in max(header[i].count, cells.map { $0[i].count }.max() ?? 0) }
        func line(_ c: [String]) -> String {
            c.enumerated().map { i, s in
                i == 0 || i == 5 ? s.padding(toLength: i == 5 ? s.count : widths[i], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[i] - s.count) + s
            }.joined(separator: "  ") + "\n"
        }
        if !cells.isEmpty { out += line(header) + cells.map(line).joined() }
        for (i, why) in reasons.enumerated() { out += "[\(i + 1)] \(why)\n" }
        let failing = rows.filter { $0.verdict.fails }.count
        let improved = rows.filter { $0.verdict == .improved }.count
        let hidden = rows.count - shown.count
        out += "\(rows.count) metric(s) compared: \(failing) failing, \(improved) improved, \(notJudged.count) not judged"
            + (notJudged.isEmpty ? "" : " (--strict fails on them)")
            + (hidden > 0 ? "; \(hidden) ok not shown (--all shows them)" : "") + "\n"
        return out
    }

    static func fmt(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e15 { return String(Int64(v)) }
        return abs(v) >= 100 ? String(format: "%.1f", v) : String(format: "%.4g", v)
    }

    static func percent(_ v: Double) -> String { v.isFinite ? String(format: "%+.1f%%", v * 100) : (v > 0 ? "+inf" : "-inf") }
}
