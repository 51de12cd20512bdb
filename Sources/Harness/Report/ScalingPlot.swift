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
