import Foundation

/// The key figures of a `vary:` run as grouped bars, one group per figure and one bar per
/// variant. Figures have different units, so each group is scaled to its largest variant
/// (100 %) and every bar carries its real value as a label: the heights show the contrast, the
/// labels the numbers.
enum ContrastPlot {
    static func make(_ t: ContrastTable.Table, maxFigures: Int = 12) -> Gnuplot.Plot? {
        let rows = t.rows.filter { row in (row.values.compactMap { $0 }.map(abs).max() ?? 0) > 0 }.prefix(maxFigures)
        let k = t.variants.count
        guard !rows.isEmpty, k > 0 else { return nil }
        // Bar j of group g sits at g·(k+1) + j; a gap of one bar between groups.
        var blocks: [String] = []
        for (j, _) in t.variants.enumerated() {
            blocks.append(rows.enumerated().compactMap { g, row -> String? in
                guard let v = row.values[j] else { return nil }
                let top = row.values.compactMap { $0 }.map(abs).max() ?? 1
                let label = ContrastTable.isTime(row.figure) ? PlotAxes.time(v) : abs(v) >= 1000 ? Progress.si(v) : ContrastTable.format(v)
                return String(format: "%d %.3f ", g * (k + 1) + j, abs(v) / top * 100) + Gnuplot.quoted(label)
            }.joined(separator: "\n"))
        }
        let tics = rows.enumerated().map { g, row in "\(Gnuplot.quoted(row.figure)) \(Double(g * (k + 1)) + Double(k - 1) / 2)" }
        let bars = t.variants.enumerated().map { j, name in
            "'contrast.dat' index \(j) using 1:2 with boxes lc rgb \"\(PlotAxes.colour(j))\" title \(Gnuplot.quoted(name))"
        }
        let labels = t.variants.indices.map { j in
            "'contrast.dat' index \(j) using 1:2:3 with labels rotate by 90 left offset 0,0.4 font \",8\" notitle"
        }
        let width = max(900, min(1600, rows.count * (k + 1) * 28 + 200))
        let more = t.rows.count - rows.count
        return Gnuplot.Plot(name: "contrast", caption: "The variants side by side: each figure scaled to its largest variant (100 %), every bar labelled with its value" + (more > 0 ? "; the first \(rows.count) of \(t.rows.count) figures that differ (all are in the table)" : ""),
                            data: ["contrast.dat": blocks.joined(separator: "\n\n\n") + "\n"], script: """
            if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) { set terminal pngcairo noenhanced size \(width),620 font "sans,9" } else { set terminal png noenhanced size \(width),620 }
            set output "contrast.png"
            set title "variants side by side (each figure relative to its largest variant)"
            set style fill solid 0.85 noborder
            set boxwidth 0.9
            set yrange [0:135]
            set ytics 0,25,100
            set ylabel "% of the largest variant"
            set xrange [-1:\(rows.count * (k + 1) - 1)]
            set xtics (\(tics.joined(separator: ", "))) rotate by 30 right
            set bmargin 9
            set lmargin 16
            set key outside right top
            plot \((bars + labels).joined(separator: ", \\\n     "))

            """)
    }
}
