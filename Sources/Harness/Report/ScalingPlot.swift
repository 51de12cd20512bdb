import Foundation

/// The curve of a `numastress bench --scaling` folder: speedup against the ideal line, and
/// throughput per CPU beside it, where contention shows as a falling line.
enum ScalingPlot {
    static func make(_ curves: [PlotData.ScalingCurve]) -> Gnuplot.Plot {
        // Speedup over each workload's smallest CPU count, per CPU: ops(n) / (ops(n0) / n0);
        // beside it the absolute rate per CPU, where contention shows as a falling line.
        let data = curves.map { c in
            let base = c.perCPUBase
            return c.points.sorted { $0.cpus < $1.cpus }
                .map { String(format: "%d %.4f %.4f", $0.cpus, $0.opsPerSec / base, $0.opsPerSec / 1e6 / Double($0.cpus)) }.joined(separator: "\n")
        }.joined(separator: "\n\n\n") + "\n"
        let maxCPUs = curves.flatMap { $0.points.map(\.cpus) }.max() ?? 1
        // A workload measured at one CPU count is its own base, so its one point sits on the
        // ideal line by definition: on the speedup panel it would look like perfect scaling.
        func lines(_ column: Int, minPoints: Int) -> String {
            curves.enumerated().filter { $0.element.points.count >= minPoints }.map { i, c in
                "'scaling.dat' index \(i) using 1:\(column) with linespoints lw 2 pt 7 lc rgb \"\(PlotAxes.colour(i))\" title \(Gnuplot.quoted(c.workload))"
            }.joined(separator: ", \\\n     ")
        }
        let single = curves.filter { $0.points.count < 2 }.map(\.workload)
        return Gnuplot.Plot(name: "scaling", caption: "Scaling: speedup over each workload's smallest run (per CPU; remote-free starts at 2 CPUs) against the ideal line, and throughput per CPU" + (single.isEmpty ? "" : "; measured at one CPU count only, so not on the speedup panel: \(single.joined(separator: ", "))"),
                            data: ["scaling.dat": data], script: """
            set multiplot layout 1,2
            set xlabel "CPUs"
            set xrange [0:\(maxCPUs + 1)]
            set xtics 1
            set key inside top left
            set title "speedup"
            set ylabel "speedup"
            set yrange [0:\(maxCPUs + 1)]
            plot x with lines dt 2 lc rgb "#888888" title "ideal"\(curves.contains { $0.points.count >= 2 } ? ", \\\n     " + lines(2, minPoints: 2) : "")
            set title "throughput per CPU"
            set ylabel "M ops/s per CPU"
            set yrange [0:*]
            set key inside bottom left
            plot \(lines(3, minPoints: 1))
            unset multiplot

            """)
    }
}
