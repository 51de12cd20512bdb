import Foundation

/// Latency as HdrHistogram draws it: x is 1/(1−percentile) on a log scale, so the median, p90,
/// p99 and p99.9 each get a decade instead of sharing the top pixel row of a linear CDF; y is
/// the latency on a log scale in ns/µs/ms. One panel per operation, one line per GFP class in
/// the same colour everywhere, so GFP_ATOMIC and GFP_KERNEL are compared at every percentile.
enum LatencyPlot {
    /// The GFP classes in a fixed order, which fixes their colours.
    static let classOrder = ["atomic", "nowait", "blocking"]

    static func colour(ofClass c: String) -> String {
        PlotAxes.colour(classOrder.firstIndex(of: c) ?? classOrder.count + c.unicodeScalars.reduce(0) { $0 + Int($1.value) } % 5)
    }

    /// The points of one distribution on the 1/(1−p) axis. The last row of an `.hgrm` file is
    /// p = 100 % (x = ∞); it is drawn at x = samples instead, the rank of the maximum, so the
    /// line ends at the largest value seen and no further into the tail than the data reach.
    static func points(_ c: PlotData.CDF) -> [(x: Double, ns: Double)] {
        let cap = Double(max(c.samples, 2))
        return c.points.compactMap { p in
            let x = p.pct >= 100 ? cap : min(1 / (1 - p.pct / 100), cap)
            return x.isFinite ? (x, max(p.ns, 1)) : nil
        }
    }

    /// `failed`: the share of each "op-class" that failed (from result.json), named in the
    /// legend, since failures are timed too: a plateau at the OOM wait is failing calls.
    static func make(_ cdfs: [PlotData.CDF], failed: [String: Double] = [:]) -> Gnuplot.Plot? {
        guard !cdfs.isEmpty else { return nil }
        // Allocations first, then frees and the rest, each in a stable order.
        let ops = Array(Set(cdfs.map(\.op))).sorted { a, b in
            let fa = isFree(a), fb = isFree(b)
            return fa == fb ? a < b : !fa
        }
        var data: [String: String] = [:]
        var panels = ""
        for op in ops {
            let mine = cdfs.filter { $0.op == op }.sorted {
                (classOrder.firstIndex(of: $0.gfpClass) ?? 9, $0.gfpClass) < (classOrder.firstIndex(of: $1.gfpClass) ?? 9, $1.gfpClass)
            }
            let file = "latency-\(op).dat"
            data[file] = mine.map { c in points(c).map { String(format: "%.4f %.0f", $0.x, $0.ns) }.joined(separator: "\n") }
                .joined(separator: "\n\n\n") + "\n"
            let all = mine.flatMap(points)
            let lines = mine.enumerated().map { i, c in
                "'\(file)' index \(i) using 1:2 with lines lw 2 lc rgb \"\(colour(ofClass: c.gfpClass))\" title \(Gnuplot.quoted("\(c.gfpClass) (\(c.samples) samples\(failure(failed["\(op)-\(c.gfpClass)"])))"))"
            }
            panels += """
                set title \(Gnuplot.quoted(op))
                \(PlotAxes.percentileTics(maxX: all.map(\.x).max() ?? 10))\(PlotAxes.timeTics(axis: "y", lo: all.map(\.ns).min() ?? 1, hi: all.map(\.ns).max() ?? 10))plot \(lines.joined(separator: ", \\\n     "))

                """
        }
        let cols = ops.count > 1 ? 2 : 1
        let rows = (ops.count + cols - 1) / cols
        let height = max(rows * 340, 420)
        return Gnuplot.Plot(name: "latency", caption: "Latency percentile distribution of each sampled operation, one line per GFP class (x: percentile on a 1/(1−p) log scale, as HdrHistogram plots it; y: latency, log scale). A line ends at its largest sample: the fewer the samples, the less of the tail it can show. Frees are classed by the context they ran in.",
                            data: data, script: """
            if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) { set terminal pngcairo noenhanced size 1100,\(height) font "sans,9" } else { set terminal png noenhanced size 1100,\(height) }
            set output "latency.png"
            set multiplot layout \(rows),\(cols)
            set logscale x 10
            set logscale y 10
            set xlabel "percentile"
            set ylabel "latency"
            set key inside top left box opaque
            \(panels)unset multiplot

            """)
    }

    static func failure(_ share: Double?) -> String {
        guard let share, share > 0 else { return "" }
        return share < 0.001 ? ", <0.1% failed" : String(format: ", %.1f%% failed", share * 100)
    }

    static func isFree(_ op: String) -> Bool { ["kfree", "kmem_cache_free", "free_pages", "vfree", "munmap"].contains(op) }
}
