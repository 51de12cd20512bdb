import Foundation

/// Throughput of each logical CPU as bars coloured by its node, with a legend naming the nodes
/// and the unit picked from the largest bar, drawn from the exact rates in result.json (a
/// table rounded to 0.1 M ops/s would make a 40 k ops/s CPU a zero-height bar).
enum PerCPUPlot {
    static func make(_ r: RunResult) -> Gnuplot.Plot? {
        let cpus = r.throughput.perCPU
        guard !cpus.isEmpty else { return nil }
        let (div, unit) = PlotAxes.rateUnit(max: cpus.map(\.opsPerSec).max() ?? 0)
        let nodes = Array(Set(cpus.map(\.node))).sorted()
        // One data block per node, so each gets its own colour and legend entry.
        let data = nodes.map { n in
            cpus.filter { $0.node == n }.map { String(format: "%d %.6g", $0.cpu, $0.opsPerSec / div) }.joined(separator: "\n")
        }.joined(separator: "\n\n\n") + "\n"
        var lines = nodes.enumerated().map { i, n in
            "'per-cpu.dat' index \(i) using 1:2 with boxes lc rgb \"\(PlotAxes.colour(n))\" title \"node \(n)\""
        }
        // Values over the bars while they fit.
        if cpus.count <= 16 {
            lines += nodes.indices.map { i in "'per-cpu.dat' index \(i) using 1:2:(sprintf(\"%.3g\", $2)) with labels offset 0,0.7 font \",9\" notitle" }
        }
        // CPUs outside every workload have no figures at all: say so, or their gap looks like a bug.
        let all = r.topology.pus.count
        let idle = all - cpus.count + cpus.filter { $0.ops == 0 }.count
        let title = "throughput per logical CPU (\(all) CPUs on \(r.host.pus) host PU(s), \(r.host.mapping)"
            + (idle > 0 ? "; \(idle) ran no operation)" : ")")
        return Gnuplot.Plot(name: "per-cpu", caption: "Throughput of each logical CPU over the measured phase, coloured by its node (exact rates from result.json)",
                            data: ["per-cpu.dat": data], script: """
            set title \(Gnuplot.quoted(title))
            set xlabel "logical CPU"
            set ylabel \(Gnuplot.quoted(unit))
            set style fill solid 0.85 noborder
            set boxwidth 0.7
            set yrange [0:*]
            set offsets 0, 0, graph 0.08, 0
            set xrange [-0.7:\(cpus.map(\.cpu).max() ?? 0) + 0.7]
            set xtics \(cpus.count > 32 ? 4 : 1)
            set key outside right top
            plot \(lines.joined(separator: ", \\\n     "))

            """)
    }
}
