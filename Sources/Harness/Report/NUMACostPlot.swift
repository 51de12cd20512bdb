import Foundation

/// The access-cost matrix as two heatmaps, measured and modelled, on one colour scale, each
/// cell labelled with its value. Cells are drawn as boxes rather than gnuplot's `with image`,
/// which needs a grid of at least 2×2 and so could not draw a one-node machine; the scale is
/// widened when every cell is equal, which gnuplot otherwise refuses ("empty cb range").
enum NUMACostPlot {
    /// `x y value` rows: x the memory node (column), y the CPU node (row).
    static func cells(_ m: [[Double]]) -> String {
        m.enumerated().flatMap { i, row in row.enumerated().map { j, v in String(format: "%d %d %.3f", j, i, v) } }
            .joined(separator: "\n") + "\n"
    }

    /// The colour scale over both matrices, never empty.
    static func range(_ m: AccessCostMatrix) -> (lo: Double, hi: Double) {
        let all = (m.measuredNS + m.modelledNS).flatMap { $0 }.filter(\.isFinite)
        let lo = all.min() ?? 0, hi = all.max() ?? 1
        if hi - lo > max(abs(hi), 1) * 1e-6 { return (lo, hi) }
        let pad = max(abs(hi) * 0.1, 1)
        return (lo - pad, hi + pad)
    }

    /// What the run's remote-cost setting made of the two matrices, for the plot's title.
    static func usage(remoteCost: String?) -> String {
        switch remoteCost {
        case "measured": "this run uses the measured figures"
        case "model": "this run uses the modelled figures (reported, not spent)"
        case "inject": "this run uses the modelled figures, injected as real delay under remote locks and touches"
        default: "measured and modelled"
        }
    }

    static func make(_ m: AccessCostMatrix, remoteCost: String?, hostNodes: Int?) -> Gnuplot.Plot {
        let n = m.measuredNS.count
        let (lo, hi) = range(m)
        let measuredTitle = m.hostHasFewerNodes
            ? "measured (host has \(hostNodes.map(String.init) ?? "fewer") node(s): remote cells ran on local memory)"
            : "measured (pointer chase on each node's memory)"
        func panel(_ file: String, _ title: String) -> String {
            """
            set title \(Gnuplot.quoted(title))
            plot '\(file)' using 1:2:(0.5):(0.5):3 with boxxyerror fs solid 1.0 noborder lc palette notitle, \\
                 '' using 1:2:(sprintf("%.1f ns", $3)) with labels tc rgb "#111111" font ",11" notitle

            """
        }
        let side = n > 4 ? 600 : n == 1 ? 360 : 480
        return Gnuplot.Plot(name: "numa-cost", caption: "NUMA access cost in ns per cache line, by CPU node (rows) and memory node (columns): measured on this host beside the model (local cost × SLIT distance/10), on one colour scale. \(usage(remoteCost: remoteCost).prefix(1).uppercased() + usage(remoteCost: remoteCost).dropFirst()).",
                            data: ["numa-measured.dat": cells(m.measuredNS), "numa-modelled.dat": cells(m.modelledNS)], script: """
            if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) { set terminal pngcairo noenhanced size \(2 * side + 160),\(side) font "sans,10" } else { set terminal png noenhanced size \(2 * side + 160),\(side) }
            set output "numa-cost.png"
            set multiplot layout 1,2 title \(Gnuplot.quoted("NUMA access cost, ns per cache line: \(usage(remoteCost: remoteCost))"))
            unset key
            unset grid
            set size ratio -1
            set xlabel "memory node"
            set ylabel "CPU node"
            set xrange [-0.5:\(n) - 0.5]
            set yrange [\(n) - 0.5:-0.5]
            set xtics 1
            set ytics 1
            set palette defined (0 "#e8f1fa", 0.5 "#f5c77e", 1 "#e0603a")
            set cblabel "ns"
            set cbrange [\(String(format: "%.3f", lo)):\(String(format: "%.3f", hi))]
            \(panel("numa-measured.dat", measuredTitle))\(panel("numa-modelled.dat", "modelled (local × distance/10)"))unset multiplot

            """)
    }
}
