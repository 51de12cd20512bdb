import Foundation

/// The plots of a report, as gnuplot scripts over `PlotData`. A plot whose data is missing
/// (no access-cost probe, no contended lock, a deterministic run without a timeline) is left
/// out and named in `skipped` with the reason.
public enum ReportPlots {
    public static func make(_ d: PlotData, result: RunResult?) -> (plots: [Gnuplot.Plot], skipped: [String]) {
        var plots: [Gnuplot.Plot] = []
        var skipped: [String] = []
        let classes = Array(Set(d.cdfs.map(\.gfpClass))).sorted()
        if classes.isEmpty, result != nil { skipped.append("latency CDFs: no latency/*.hgrm files (no operation was sampled)") }
        for c in classes { plots.append(latency(d.cdfs.filter { $0.gfpClass == c }, gfpClass: c)) }
        if let p = lockWaits(d.lockWaits) { plots.append(p) } else if result != nil { skipped.append("lock waits: no lock ever waited") }
        if let m = d.accessCost { plots.append(accessCost(m)) } else if result != nil { skipped.append("NUMA access cost: the run skipped the probe (--no-probe)") }
        if let t = d.freeTimeline, t.tNS.count > 1 { plots.append(freePages(t)) }
        else if result != nil { skipped.append("free pages over time: not recorded (deterministic run)") }
        if let r = result, !r.throughput.perCPU.isEmpty { plots.append(perCPU(r)) }
        if !d.scaling.isEmpty { plots.append(scaling(d.scaling)) }
        return (plots, skipped)
    }

    static func latency(_ cdfs: [PlotData.CDF], gfpClass: String) -> Gnuplot.Plot {
        let name = "latency-\(gfpClass)"
        let data = cdfs.map { c in c.points.map { String(format: "%.0f %.6f", max($0.ns, 1), $0.pct) }.joined(separator: "\n") }
            .joined(separator: "\n\n\n") + "\n"
        let lines = cdfs.enumerated().map { i, c in
            "'\(name).dat' index \(i) with steps lw 2 title \(Gnuplot.quoted(c.op))"
        }
        return Gnuplot.Plot(name: name, caption: "Latency CDF of \(gfpClass) operations (sampled, nanoseconds, log scale)",
                            data: ["\(name).dat": data], script: """
            set title \(Gnuplot.quoted("latency CDF, \(gfpClass) context"))
            set logscale x 10
            set xlabel "latency (ns)"
            set ylabel "percentile"
            set yrange [0:100]
            set format x "%.0s%c"
            plot \(lines.joined(separator: ", \\\n     "))

            """)
    }

    static func lockWaits(_ hs: [PlotData.WaitHistogram]) -> Gnuplot.Plot? {
        // Bucket 0 is "no wait": only waits are drawn; a histogram without any is left out.
        let shown = hs.filter { $0.buckets.dropFirst().contains { $0 > 0 } }
        guard !shown.isEmpty else { return nil }
        // Empty buckets cannot sit on a log axis; a single blank line breaks the curve there, so
        // a gap is not drawn as if the buckets between had waits.
        let data = shown.map { h in
            var rows: [String] = []
            var last = -1
            for (i, c) in h.buckets.enumerated().dropFirst() where c > 0 {
                if last >= 0 && i != last + 1 { rows.append("") }
                rows.append("\(1 << i) \(c)")
                last = i
            }
            return rows.joined(separator: "\n")
        }.joined(separator: "\n\n\n") + "\n"
        let lines = shown.enumerated().map { i, h in
            let style = h.label.hasPrefix("all ") ? "linespoints lw 3 pt 7" : "linespoints lw 1 dt 2 pt 6"
            return "'lock-waits.dat' index \(i) with \(style) title \(Gnuplot.quoted(h.label))"
        }
        return Gnuplot.Plot(name: "lock-waits", caption: "Lock wait histograms: waits per log2 bucket, summed per policy (thick) and for the most contended locks (dashed)",
                            data: ["lock-waits.dat": data], script: """
            set title "lock waits per policy (log2 buckets, upper bound)"
            set logscale x 2
            set logscale y 10
            set yrange [0.8:*]
            set xlabel "wait (ns, bucket upper bound)"
            set ylabel "waits"
            set format x "%.0s%c"
            plot \(lines.joined(separator: ", \\\n     "))

            """)
    }

    static func accessCost(_ m: AccessCostMatrix) -> Gnuplot.Plot {
        func matrix(_ rows: [[Double]]) -> String { rows.map { $0.map { String(format: "%.3f", $0) }.joined(separator: " ") }.joined(separator: "\n") + "\n" }
        let n = m.measuredNS.count
        let note = m.hostHasFewerNodes ? " (host has fewer nodes: remote cells measured on local memory)" : ""
        func panel(_ file: String, _ title: String) -> String {
            """
            set title \(Gnuplot.quoted(title))
            plot '\(file)' matrix with image notitle, '' matrix using 1:2:(sprintf("%.2f", $3)) with labels tc rgb "white" font ",11" notitle

            """
        }
        return Gnuplot.Plot(name: "numa-cost", caption: "NUMA access cost, ns per cache line, by CPU node (rows) and memory node (columns): measured and modelled\(note)",
                            data: ["numa-measured.dat": matrix(m.measuredNS), "numa-modelled.dat": matrix(m.modelledNS)], script: """
            set multiplot layout 1,2
            unset key
            set xlabel "memory node"
            set ylabel "CPU node"
            set xrange [-0.5:\(n) - 0.5]
            set yrange [\(n) - 0.5:-0.5]
            set xtics 1
            set ytics 1
            set palette defined (0 "#1f3b73", 1 "#2f8f83", 2 "#e0b12e", 3 "#c0392b")
            set cblabel "ns"
            set cbrange [\(String(format: "%.3f", (m.measuredNS + m.modelledNS).flatMap { $0 }.min() ?? 0)):\(String(format: "%.3f", (m.measuredNS + m.modelledNS).flatMap { $0 }.max() ?? 1))]
            \(panel("numa-measured.dat", "measured"))\(panel("numa-modelled.dat", "modelled (local x distance/10)"))unset multiplot

            """)
    }

    static func freePages(_ t: RunResult.FreeTimeline) -> Gnuplot.Plot {
        // The zones that moved most come first; at most six panels.
        func movement(_ z: RunResult.ZoneSeries) -> Int {
            let pages = z.blocks.map { $0.enumerated().reduce(0) { $0 + $1.element << $1.offset } }
            return (pages.max() ?? 0) - (pages.min() ?? 0) + z.blocks.count
        }
        // Zones whose free lists moved, busiest first (at most six); if none moved, the largest two.
        let ranked = t.zones.sorted { movement($0) > movement($1) }
        let moved = ranked.filter { movement($0) > $0.blocks.count }
        let zones = (moved.isEmpty ? Array(ranked.prefix(2)) : Array(moved.prefix(6)))
        var data: [String: String] = [:]
        var panels = ""
        for z in zones {
            let file = "free-\(z.node)-\(z.zone).dat"
            data[file] = zip(t.tNS, z.blocks).map { tn, b in
                ([String(format: "%.3f", Double(tn) / 1e9)] + b.enumerated().map { "\($0.element << $0.offset)" }).joined(separator: " ")
            }.joined(separator: "\n") + "\n"
            // Orders that ever held a block; a log scale keeps order 0 visible beside order 10.
            let used = (0..<(z.blocks.first?.count ?? 0)).filter { o in z.blocks.contains { $0[o] > 0 } }
            let lines = used.map { "'\(file)' using 1:\($0 + 2) with lines lw 2 title \"order \($0)\"" }
            panels += """
            set title \(Gnuplot.quoted("node \(z.node) \(z.zone)"))
            plot \(lines.isEmpty ? "0 notitle" : lines.joined(separator: ", "))

            """
        }
        let cols = zones.count > 1 ? 2 : 1
        let rows = (zones.count + cols - 1) / cols
        return Gnuplot.Plot(name: "free-pages", caption: "Free pages held in blocks of each order over the measured phase (buddyinfo sampled every \(t.intervalNS / 1_000_000) ms)",
                            data: data, script: """
            if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) { set terminal pngcairo noenhanced size 1100,\(max(1, rows) * 330) font "sans,9" } else { set terminal png noenhanced size 1100,\(max(1, rows) * 330) }
            set output "free-pages.png"
            set multiplot layout \(rows),\(cols)
            set xlabel "time (s)"
            set ylabel "free pages (log)"
            set logscale y 10
            set key outside right top
            \(panels)unset multiplot

            """)
    }

    static func perCPU(_ r: RunResult) -> Gnuplot.Plot {
        let data = r.throughput.perCPU.map { String(format: "%d %.1f %d", $0.cpu, $0.opsPerSec / 1e6, $0.node) }.joined(separator: "\n") + "\n"
        return Gnuplot.Plot(name: "per-cpu", caption: "Throughput of each logical CPU (colour: its node)",
                            data: ["per-cpu.dat": data], script: """
            set title "throughput per CPU"
            set xlabel "logical CPU"
            set ylabel "M ops/s"
            set style fill solid 0.8
            set boxwidth 0.7
            set yrange [0:*]
            set xtics 1
            unset key
            set palette defined (0 "#1f77b4", 1 "#ff7f0e", 2 "#2ca02c", 3 "#d62728", 4 "#9467bd", 5 "#8c564b", 6 "#e377c2", 7 "#7f7f7f")
            unset colorbox
            plot 'per-cpu.dat' using 1:2:($3 - 8 * floor($3 / 8)) with boxes lc palette

            """)
    }

    static func scaling(_ curves: [PlotData.ScalingCurve]) -> Gnuplot.Plot {
        // Speedup over each workload's smallest CPU count, per CPU: ops(n) / (ops(n0) / n0);
        // beside it the absolute rate per CPU, where contention shows as a falling line.
        let data = curves.map { c in
            let base = c.perCPUBase
            return c.points.sorted { $0.cpus < $1.cpus }
                .map { String(format: "%d %.4f %.4f", $0.cpus, $0.opsPerSec / base, $0.opsPerSec / 1e6 / Double($0.cpus)) }.joined(separator: "\n")
        }.joined(separator: "\n\n\n") + "\n"
        let maxCPUs = curves.flatMap { $0.points.map(\.cpus) }.max() ?? 1
        func lines(_ column: Int) -> String {
            curves.enumerated().map { i, c in "'scaling.dat' index \(i) using 1:\(column) with linespoints lw 2 pt 7 lc \(i + 1) title \(Gnuplot.quoted(c.workload))" }
                .joined(separator: ", \\\n     ")
        }
        return Gnuplot.Plot(name: "scaling", caption: "Scaling: speedup over each workload's smallest run (per CPU; remote-free starts at 2 CPUs) against the ideal line, and throughput per CPU",
                            data: ["scaling.dat": data], script: """
            set multiplot layout 1,2
            set xlabel "CPUs"
            set xrange [0:\(maxCPUs + 1)]
            set xtics 1
            set key inside top left
            set title "speedup"
            set ylabel "speedup"
            set yrange [0:\(maxCPUs + 1)]
            plot x with lines dt 2 lc rgb "#888888" title "ideal", \\
                 \(lines(2))
            set title "throughput per CPU"
            set ylabel "M ops/s per CPU"
            set yrange [0:*]
            set key inside bottom left
            plot \(lines(3))
            unset multiplot

            """)
    }
}
