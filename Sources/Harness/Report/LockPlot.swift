import Foundation

/// Lock wait and hold times side by side, as histograms over the locks' log2 buckets, with a
/// time axis in ns/µs/ms. Each bucket is drawn as a flat step across its own range, so the
/// picture says "this many waits took between 1 and 2 µs" rather than pinning them to one edge.
enum LockPlot {
    /// Step outline rows of a log2 histogram: `lower count` and `upper count` per non-empty
    /// bucket (bucket i holds `[2^(i-1), 2^i)` ns; bucket 0, "none", is not drawn). Empty buckets
    /// cannot sit on a log axis; a blank line breaks the outline there instead of bridging it.
    static func steps(_ buckets: [UInt64]) -> String {
        var rows: [String] = []
        var last = -1
        for (i, c) in buckets.enumerated().dropFirst() where c > 0 {
            if last >= 0 && i != last + 1 { rows.append("") }
            rows.append("\(1 << (i - 1)) \(c)")
            rows.append("\(1 << i) \(c)")
            last = i
        }
        return rows.joined(separator: "\n")
    }

    /// The range of nanoseconds the non-empty buckets of `hs` cover.
    static func span(_ hs: [[UInt64]]) -> (lo: Double, hi: Double)? {
        let used = hs.flatMap { h in h.indices.dropFirst().filter { h[$0] > 0 } }
        guard let a = used.min(), let b = used.max() else { return nil }
        return (Double(1 << (a - 1)), Double(1 << b))
    }

    static func make(_ hs: [PlotData.WaitHistogram]) -> Gnuplot.Plot? {
        let waited = hs.filter { $0.buckets.dropFirst().contains { $0 > 0 } }
        let held = hs.filter { $0.hold.dropFirst().contains { $0 > 0 } }
        guard !waited.isEmpty || !held.isEmpty else { return nil }
        func panel(_ title: String, _ shown: [PlotData.WaitHistogram], _ pick: (PlotData.WaitHistogram) -> [UInt64], file: String,
                   note: (PlotData.WaitHistogram) -> String) -> (data: String, script: String)? {
            guard let s = span(shown.map(pick)) else { return nil }
            let data = shown.map { steps(pick($0)) }.joined(separator: "\n\n\n") + "\n"
            let lines = shown.enumerated().map { i, h in
                let sum = h.label.hasPrefix("all ")
                let colour = sum ? (h.policy == "mutex" ? "#d62728" : "#1f77b4") : PlotAxes.colour(i + 2)
                return "'\(file)' index \(i) using 1:2 with lines lw \(sum ? 3 : 1.5) dt \(sum ? 1 : 2) lc rgb \"\(colour)\" title \(Gnuplot.quoted(h.label + note(h)))"
            }
            // At least a decade of headroom: a panel whose buckets all hold one acquisition would
            // otherwise get a zero-height range and draw its line along the top frame.
            let top = max(10, Double(shown.flatMap { pick($0).dropFirst() }.max() ?? 1) * 2)
            return (data, """
                set title \(Gnuplot.quoted(title))
                set yrange [0.8:\(Int(top))]
                \(PlotAxes.timeTics(axis: "x", lo: s.lo, hi: s.hi))plot \(lines.joined(separator: ", \\\n     "))

                """)
        }
        func share(_ part: UInt64, _ whole: UInt64) -> String {
            whole == 0 ? "" : String(format: ", %.2g%% waited", Double(part) * 100 / Double(whole))
        }
        let wait = panel("wait to acquire (contended acquisitions only)", waited, \.buckets, file: "lock-waits.dat") { h in
            share(h.buckets.dropFirst().reduce(0, +), h.buckets.reduce(0, +))
        }
        let hold = panel(waited.isEmpty ? "hold time (no acquisition had to wait)" : "hold time (every acquisition)",
                         held, \.hold, file: "lock-holds.dat") { _ in "" }
        let shown = [wait, hold].compactMap { $0 }
        var data: [String: String] = [:]
        if let wait { data["lock-waits.dat"] = wait.data }
        if let hold { data["lock-holds.dat"] = hold.data }
        let width = shown.count * 550
        let height = 440 + 16 * ((max(waited.count, held.count) + 1) / 2)
        return Gnuplot.Plot(name: "lock-times", caption: "Lock wait and hold times: acquisitions per log2 time bucket, summed per lock policy (thick) and for the most contended locks (dashed); the legend gives the share of acquisitions that had to wait",
                            data: data, script: """
            if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) { set terminal pngcairo noenhanced size \(width),\(height) font "sans,9" } else { set terminal png noenhanced size \(width),\(height) }
            set output "lock-times.png"
            set multiplot layout 1,\(shown.count)
            set logscale x 10
            set logscale y 10
            set xlabel "time"
            set ylabel "acquisitions"
            set format y "%.0s%c"
            set key below left Left reverse
            \(shown.map(\.script).joined())unset multiplot

            """)
    }
}
