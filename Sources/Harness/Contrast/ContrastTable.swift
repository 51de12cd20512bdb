import Foundation
import KernelMM

/// The variants side by side: the figures a contrast is about (throughput, latency and
/// failures per GFP class, lock figures per lock kind, reclaim, fallbacks, remote traffic),
/// keeping the rows where the variants differ.
public enum ContrastTable {
    static let candidates: [String] = {
        var rows = ["throughput.ops_per_sec"]
        for c in GFPClass.allCases.map(\.description) {
            rows += ["\(c).allocs", "\(c).latency.p50", "\(c).latency.p99", "\(c).failures", "\(c).reserve_allocs",
                     "\(c).sleeps", "\(c).slept_ns", "\(c).direct_reclaims"]
        }
        for k in ["zone", "node_partial"] {
            rows += ["acquisitions", "contended_pct", "spins", "sleeps", "wait_ns", "hold_ns", "max_wait_ns"].map { "locks.\(k).\($0)" }
        }
        rows += ["zones.watermark_hits", "zones.reclaim_passes", "zones.zone_fallbacks", "zones.node_fallbacks",
                 "kswapd.wakeups", "numa.remote_allocs", "numa.remote_frees", "tlb.ipis_sent", "tlb.full_flushes"]
        return rows
    }()

    public struct Table: Codable, Sendable {
        public var variants: [String]
        public var rows: [Row]
    }

    public struct Row: Codable, Sendable {
        public var figure: String
        /// One value per variant (nil: the variant did not run or did not measure it).
        public var values: [Double?]
    }

    public static func table(_ outcome: ContrastOutcome) -> Table {
        let figures = outcome.runs.map { Figures($0.outcome.result, userCaches: $0.variant.config.caches.map(\.name)) }
        let rows = candidates.compactMap { name -> Row? in
            let values = figures.map { $0[name] }
            let present = values.compactMap { $0 }
            guard present.contains(where: { $0 != 0 }), Set(present).count > 1 else { return nil }
            return Row(figure: name, values: values)
        }
        return Table(variants: outcome.runs.map(\.variant.name), rows: rows)
    }

    /// The table as text (markdown when `markdown`).
    public static func render(_ t: Table, markdown: Bool) -> String {
        let header = ["figure"] + t.variants
        let cells = t.rows.map { row in [row.figure] + row.values.map { format($0, time: isTime(row.figure)) } }
        return TextTable.render(header, cells, markdown: markdown)
    }

    /// Figures in nanoseconds are shown as durations.
    static func isTime(_ figure: String) -> Bool { figure.hasSuffix("_ns") || figure.contains(".latency.") }

    static func format(_ x: Double?, time: Bool = false) -> String {
        guard let x else { return "—" }
        if time {
            for (unit, scale) in [("s", 1e9), ("ms", 1e6), ("µs", 1e3)] where abs(x) >= scale {
                return String(format: "%.1f%@", x / scale, unit)
            }
            return String(format: "%.0fns", x)
        }
        if abs(x) >= 10_000_000 { return String(format: "%.1fM", x / 1e6) }
        if abs(x) >= 100_000 { return String(format: "%.0fk", x / 1e3) }
        if x != x.rounded() { return String(format: abs(x) < 10 ? "%.2f" : "%.1f", x) }
        return String(Int64(x))
    }

    /// What `numastress run` prints for a contrast: each variant's line, the table, the verdicts.
    public static func summary(_ o: ContrastOutcome, resultDir: String?) -> String {
        var out = "contrast \(o.config.name): \(o.config.variants.count) variants, seed \(o.config.run.seed)\n"
        for v in o.config.variants {
            let run = o.runs.first { $0.variant.name == v.name }?.outcome.result
            let status = run.map { r in
                (r.complete ? "complete" : "INCOMPLETE (\(r.stopReason ?? "stopped"))")
                    + ", \(String(format: "%.2f", Double(r.run.elapsedNS) / 1e9)) s"
                    + (r.invariants.checked == false ? ", invariants not checked" : r.invariants.passed ? ", invariants OK" : ", INVARIANTS FAILED")
            } ?? "not run"
            out += "  \(v.name): \(v.settings) — \(status)\n"
        }
        out += "\n== Variants side by side (figures that differ)\n" + render(table(o), markdown: false)
        if !o.expectations.isEmpty {
            out += "\n== Expectations\n" + ExpectationCheck.lines(o.expectations)
        }
        return out + (resultDir.map { "\nresults: \($0)\n" } ?? "")
    }
}
