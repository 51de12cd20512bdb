import Foundation

/// `numastress report` of a sweep folder: merges it again (so the page and sweep.csv agree),
/// then for every grid axis with two or more values draws the key figures against it — curves
/// when the axis is numeric (a count, a size, a duration), one line per combination of the
/// other axes; grouped bars when it is categorical (a lock policy, a GFP mask), one bar per
/// combination of the others. Repetitions of the same setting are averaged.
enum SweepReport {
    /// The figures drawn, with their panel titles.
    static let panels: [(columns: [String], title: String)] = [
        (["throughput_ops_per_sec"], "throughput (ops/s)"),
        (["blocking_p99_ns"], "p99 latency, blocking (ns)"),
        (["atomic_p99_ns"], "p99 latency, atomic (ns)"),
        (["zone_lock_wait_ns", "node_partial_lock_wait_ns"], "lock wait, zone + node partial (ns, total)"),
    ]

    /// A panel's value in one row: the sum of its columns, nil when one is empty.
    static func value(_ r: [String: String], _ columns: [String]) -> Double? {
        var sum = 0.0
        for c in columns { guard let v = r[c].flatMap(Double.init) else { return nil }; sum += v }
        return sum
    }

    static func write(_ dir: String, plots drawPlots: Bool) throws -> Report.Outcome {
        let folder = try SweepFolder.open(dir)
        let merged = try SweepMerge.merge(folder)
        let m = folder.manifest
        var skipped: [String] = [], images: [ReportPage.Image] = [], drawn: [String] = []
        var plots: [Gnuplot.Plot] = []
        let rows = merged.rows.map { Dictionary(uniqueKeysWithValues: zip(merged.header, $0)) }.filter { $0["status"] == "ok" || $0["status"] == "incomplete" }
        for (i, axis) in m.axes.enumerated() {
            guard axis.values.count >= 2 else { skipped.append("\(axis.path): one value (\(axis.values[0].text)), nothing to draw against"); continue }
            // Axes with one value are the same everywhere: no use in a legend.
            let others = m.axes.indices.filter { $0 != i && m.axes[$0].values.count > 1 }
            let hasVariants = rows.contains { !($0["variant"] ?? "").isEmpty }
            // The line (or bar) a row belongs to: the other axes' values, and its variant.
            func group(_ r: [String: String]) -> String {
                let parts = others.map { "\(m.axes[$0].path)=\(r[m.axes[$0].column] ?? "")" } + (hasVariants ? ["variant=\(r["variant"] ?? "")"] : [])
                return parts.isEmpty ? "all" : parts.joined(separator: ", ")
            }
            let groups = rows.map(group).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
            let xs = axis.values.map(\.text)
            // mean[group][x][panel]
            var mean: [[[Double?]]] = Array(repeating: Array(repeating: Array(repeating: nil, count: panels.count), count: xs.count), count: groups.count)
            for (g, name) in groups.enumerated() {
                for (k, x) in xs.enumerated() {
                    let these = rows.filter { group($0) == name && $0[axis.column] == x }
                    for (p, panel) in panels.enumerated() {
                        let v = these.compactMap { value($0, panel.columns) }
                        mean[g][k][p] = v.isEmpty ? nil : v.reduce(0, +) / Double(v.count)
                    }
                }
            }
            if let numeric = numericValues(xs) {
                plots.append(curves(axis, xs: numeric, groups: groups, mean: mean))
            } else {
                plots.append(bars(axis, xs: xs, groups: groups, mean: mean))
            }
        }
        if rows.isEmpty { skipped.append("no task has results yet: nothing to draw") }
        if drawPlots && !rows.isEmpty {
            let out = try Gnuplot.draw(plots, into: dir + "/plots")
            for p in plots {
                if let path = out.png[p.name], let png = FileManager.default.contents(atPath: path) {
                    images.append(.init(caption: p.caption, png: png)); drawn.append(path)
                }
            }
            skipped += out.failed.map { "\($0.name): \($0.reason)" }
        } else if !drawPlots {
            skipped.append("all plots (--no-plots)")
        }
        let header = ["\(m.points.count) point(s) × \(m.repetitions) repetition(s) of \(m.config) · \(merged.done) of \(m.tasks.count) task(s) with results"
                      + (m.slurmJobs.isEmpty ? "" : " · Slurm job(s) \(m.slurmJobs.joined(separator: ", "))"),
                      "grid: " + m.axes.map { "\($0.path) = " + $0.values.map(\.text).joined(separator: ", ") }.joined(separator: " · "),
                      "hosts: " + Set(merged.rows.compactMap { Dictionary(uniqueKeysWithValues: zip(merged.header, $0))["host"] }.filter { !$0.isEmpty }).sorted().joined(separator: ", ")]
        let warning = merged.unfinished.isEmpty ? nil
            : "Not finished: " + merged.unfinished.map { "\($0.label): \($0.why)" }.joined(separator: "; ") + ". Run them with numastress sweep --resume."
        let tables = "<h2>Results (sweep.csv)</h2>\n" + ReportPage.table(merged.header, merged.rows)
        let html = ReportPage.html(title: "NUMAStress sweep: \(m.sweepId)", header: header, warning: warning, plots: images,
                                   skipped: skipped, tables: tables, config: m.configText, kernelLog: nil)
        try ResultWriter.atomic(URL(fileURLWithPath: dir), "report.html", html)
        return Report.Outcome(html: dir + "/report.html", plots: drawn, skipped: skipped)
    }

    /// The values as numbers when every one is a number, a duration (in seconds) or a size.
    static func numericValues(_ xs: [String]) -> [Double]? {
        var out: [Double] = []
        for x in xs {
            if let d = Double(x) { out.append(d) }
            else if let ns = try? Units.duration(x) { out.append(Double(ns) / 1e9) }
            else if let b = try? Units.size(x) { out.append(Double(b)) }
            else { return nil }
        }
        return out
    }

    static func cell(_ v: Double?) -> String { v.map { String(format: "%.6g", $0) } ?? "?" }

    static func file(_ axis: SweepAxis) -> String { "sweep-" + axis.column }

    static func common(_ axis: SweepAxis, unit: String = "", groups: Int, height: Int) -> String {
        """
        if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) { set terminal pngcairo noenhanced size 1280,\(height) font "sans,10" } else { set terminal png noenhanced size 1280,\(height) }
        set output "\(file(axis)).png"
        set datafile missing "?"
        set multiplot layout 2,2 title \(Gnuplot.quoted("key figures against \(axis.path)\(unit)"))
        \(groups > 1 ? "set key below font \",9\"" : "unset key")
        set yrange [0:*]
        set format y "%.1s%c"

        """
    }

    /// Figure against a numeric axis: one line per combination of the other axes.
    static func curves(_ axis: SweepAxis, xs: [Double], groups: [String], mean: [[[Double?]]]) -> Gnuplot.Plot {
        let order = xs.indices.sorted { xs[$0] < xs[$1] }
        let data = groups.indices.map { g in
            order.map { k in ([String(format: "%.6g", xs[k])] + panels.indices.map { cell(mean[g][k][$0]) }).joined(separator: " ") }.joined(separator: "\n")
        }.joined(separator: "\n\n\n") + "\n"
        let unit = axis.values.allSatisfy({ Double($0.text) != nil }) ? "" : (try? Units.duration(axis.values[0].text)) != nil ? " (s)" : " (bytes)"
        var script = common(axis, unit: unit, groups: groups.count, height: 760)
        script += "set offsets graph 0.05, graph 0.05, 0, 0\n"
        for (p, panel) in panels.enumerated() {
            script += "set title \(Gnuplot.quoted(panel.title))\n"
            script += "plot " + groups.enumerated().map { g, name in
                "'\(file(axis)).dat' index \(g) using 1:\(p + 2) with linespoints lw 2 pt 7 lc rgb \"\(PlotAxes.colour(g))\" title \(Gnuplot.quoted(name))"
            }.joined(separator: ", \\\n     ") + "\n"
        }
        script += "unset multiplot\n"
        return Gnuplot.Plot(name: file(axis), caption: "Key figures against \(axis.path), one line per setting of the other axes (repetitions averaged)",
                            data: ["\(file(axis)).dat": data], script: script)
    }

    /// Figure per category of the axis: a group of bars per value, one bar per combination of
    /// the other axes.
    static func bars(_ axis: SweepAxis, xs: [String], groups: [String], mean: [[[Double?]]]) -> Gnuplot.Plot {
        let n = groups.count
        // Bar g of category k at k·(n+1) + g: a gap of one bar between categories.
        let data = groups.indices.map { g in
            xs.indices.map { k in ["\(k * (n + 1) + g)"] + panels.indices.map { cell(mean[g][k][$0]) } }.map { $0.joined(separator: " ") }.joined(separator: "\n")
        }.joined(separator: "\n\n\n") + "\n"
        let tics = xs.enumerated().map { k, x in "\(Gnuplot.quoted(x)) \(Double(k * (n + 1)) + Double(n - 1) / 2)" }.joined(separator: ", ")
        var script = common(axis, groups: groups.count, height: 760)
        script += """
            set style fill solid 0.85 noborder
            set boxwidth 0.9
            set xrange [-1:\(xs.count * (n + 1) - 1)]
            set xtics (\(tics))

            """
        for (p, panel) in panels.enumerated() {
            script += "set title \(Gnuplot.quoted(panel.title))\n"
            script += "plot " + groups.enumerated().map { g, name in
                "'\(file(axis)).dat' index \(g) using 1:\(p + 2) with boxes lc rgb \"\(PlotAxes.colour(g))\" title \(Gnuplot.quoted(name))"
            }.joined(separator: ", \\\n     ") + "\n"
        }
        script += "unset multiplot\n"
        return Gnuplot.Plot(name: file(axis), caption: "Key figures per value of \(axis.path), one bar per setting of the other axes (repetitions averaged)",
                            data: ["\(file(axis)).dat": data], script: script)
    }
}
