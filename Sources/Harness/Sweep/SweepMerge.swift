import Foundation

/// The answer of a sweep: `sweep.csv`, one row per point × repetition (× variant for a `vary:`
/// config) with the grid values, the host that ran it and the key figures, and `sweep.md`, the
/// same as a table with what did not finish. A task without results still has its row (status
/// failed, interrupted or missing, figures empty), so the grid stays whole and the gap is named.
public enum SweepMerge {
    /// A key figure: its column and how it is read from a result's figures (`Figures` names).
    struct Column: Sendable {
        var name: String
        var digits: Int
        var value: @Sendable (Figures) -> Double?
    }

    static let classes = ["atomic", "nowait", "blocking"]

    /// The figure columns, after the identity, grid and host columns.
    static let figureColumns: [Column] = {
        var c: [Column] = [
            Column(name: "throughput_ops_per_sec", digits: 1) { $0["throughput.ops_per_sec"] },
            Column(name: "total_ops", digits: 0) { $0["throughput.total_ops"] },
        ]
        for cls in classes {
            c.append(Column(name: "\(cls)_p50_ns", digits: 0) { $0["\(cls).latency.p50"] })
            c.append(Column(name: "\(cls)_p99_ns", digits: 0) { $0["\(cls).latency.p99"] })
        }
        for kind in ["zone", "node_partial"] {
            c.append(Column(name: "\(kind)_lock_contended_pct", digits: 2) { $0["locks.\(kind).contended_pct"] })
            for f in ["spins", "sleeps", "wait_ns"] { c.append(Column(name: "\(kind)_lock_\(f)", digits: 0) { $0["locks.\(kind).\(f)"] }) }
        }
        c.append(Column(name: "alloc_failures", digits: 0) { f in
            let parts = classes.compactMap { f["\($0).failures"] }
            return parts.isEmpty ? nil : parts.reduce(0, +)
        })
        c.append(Column(name: "reclaim_passes", digits: 0) { $0["zones.reclaim_passes"] })
        c.append(Column(name: "direct_reclaims", digits: 0) { $0["zones.direct_reclaims"] })
        c.append(Column(name: "remote_frees", digits: 0) { $0["numa.remote_frees"] })
        c.append(Column(name: "invariant_violations", digits: 0) { $0["invariants.violations"] })
        return c
    }()

    static let leading = ["run_id", "sweep_id", "point", "repetition", "config", "variant"]
    static let trailing = ["expectations_passed", "expectations_total", "status", "reason"]

    /// Every column, in order: the grid's depend on the sweep, the rest never change.
    public static func header(_ m: SweepManifest) -> [String] {
        leading + m.axes.map(\.column) + ["host", "complete"] + figureColumns.map(\.name) + trailing
    }

    /// What the merge found.
    public struct Outcome: Sendable {
        public var header: [String]
        public var rows: [[String]]
        public var done: Int
        /// Tasks without results, each with its point and why.
        public var unfinished: [(task: SweepManifest.Task, label: String, why: String)]
        public var csv: String
        public var markdown: String
    }

    /// Reads every task's results and writes sweep.csv and sweep.md into the sweep folder.
    @discardableResult
    public static func merge(_ folder: SweepFolder) throws -> Outcome {
        let m = folder.manifest
        var rows: [[String]] = [], unfinished: [(SweepManifest.Task, String, String)] = []
        let queued = folder.missing.isEmpty ? [:] : SlurmArray.queued(m.slurmJobs)
        for t in m.tasks {
            let p = folder.point(t)
            let grid = zip(m.axes, p.choice).map { $0.values[$1].text }
            let runID = m.sweepId + "/" + t.folder
            if !folder.isDone(t) {
                let rec = folder.record(t.index)
                let status = queued[t.index]?.lowercased() ?? rec.map { $0.state == "running" ? "missing" : $0.state } ?? "missing"
                let why = folder.whyMissing(t, queued: queued)
                unfinished.append((t, p.label + (m.repetitions > 1 ? " rep \(t.repetition)" : ""), why))
                rows.append([runID, m.sweepId, p.name, "\(t.repetition)", m.config, ""] + grid + [rec?.host ?? "", "false"]
                            + figureColumns.map { _ in "" } + ["", "", status, why])
                continue
            }
            for (variant, path) in results(in: folder.folder(t)) {
                let row: [String]
                do {
                    let r = try ResultWriter.read(path)
                    let f = Figures(r, userCaches: [])
                    let ex = r.expectations ?? []
                    row = [runID + (variant.map { "/" + $0 } ?? ""), m.sweepId, p.name, "\(t.repetition)", r.config.name, r.variant ?? variant ?? ""]
                        + grid + [r.host.hostname, "\(r.complete)"]
                        + figureColumns.map { c in c.value(f).map { format($0, digits: c.digits) } ?? "" }
                        + ["\(ex.filter(\.passed).count)", "\(ex.count)", r.complete ? "ok" : "incomplete", r.stopReason ?? ""]
                } catch {
                    row = [runID + (variant.map { "/" + $0 } ?? ""), m.sweepId, p.name, "\(t.repetition)", m.config, variant ?? ""]
                        + grid + ["", "false"] + figureColumns.map { _ in "" } + ["", "", "unreadable", "\(error)"]
                }
                rows.append(row)
            }
        }
        let head = header(m)
        let csv = ([head] + rows).map { $0.map(csvField).joined(separator: ",") }.joined(separator: "\n") + "\n"
        let md = markdown(m, head, rows, unfinished)
        let dir = URL(fileURLWithPath: folder.path)
        try ResultWriter.atomic(dir, "sweep.csv", csv)
        try ResultWriter.atomic(dir, "sweep.md", md)
        return Outcome(header: head, rows: rows, done: m.tasks.count - unfinished.count, unfinished: unfinished, csv: csv, markdown: md)
    }

    /// A task folder's result.json files: its own, or one per variant of a vary: run.
    static func results(in dir: String) -> [(variant: String?, path: String)] {
        let fm = FileManager.default
        if fm.fileExists(atPath: dir + "/result.json") { return [(nil, dir + "/result.json")] }
        let subs = ((try? fm.contentsOfDirectory(atPath: dir)) ?? []).filter { fm.fileExists(atPath: "\(dir)/\($0)/result.json") }.sorted()
        return subs.map { ($0, "\(dir)/\($0)/result.json") }
    }

    static func format(_ v: Double, digits: Int) -> String {
        digits == 0 && v.rounded() == v && abs(v) < 1e18 ? String(Int64(v)) : String(format: "%.\(digits)f", v)
    }

    static func csvField(_ s: String) -> String {
        s.contains(",") || s.contains("\"") || s.contains("\n") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    static func markdown(_ m: SweepManifest, _ head: [String], _ rows: [[String]],
                         _ unfinished: [(SweepManifest.Task, String, String)]) -> String {
        var out = "# Sweep \(m.sweepId)\n\n"
        out += "Config `\(m.config)` (\(m.configFile)), \(m.points.count) point(s) × \(m.repetitions) repetition(s)"
            + (m.slurmJobs.isEmpty ? ", run locally" : ", Slurm job(s) \(m.slurmJobs.joined(separator: ", "))") + ".\n\n"
        out += "Grid:\n\n" + m.axes.map { "- `\($0.path)`: " + $0.values.map(\.text).joined(separator: ", ") }.joined(separator: "\n") + "\n\n"
        out += "\(m.tasks.count - unfinished.count) of \(m.tasks.count) task(s) have results.\n\n"
        let cell = { (s: String) in s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ") }
        out += "| " + head.joined(separator: " | ") + " |\n|" + head.map { _ in "---|" }.joined() + "\n"
        for r in rows { out += "| " + r.map(cell).joined(separator: " | ") + " |\n" }
        if !unfinished.isEmpty {
            out += "\n## Not finished\n\n" + unfinished.map { "- \($0.1): \($0.2)" }.joined(separator: "\n")
            out += "\n\nRun them (only them) with `numastress sweep --resume <this folder>`.\n"
        }
        return out
    }
}
