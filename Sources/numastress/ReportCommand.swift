import ArgumentParser
import Foundation
import Harness

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Draw a Results folder's plots (PNG, with gnuplot) and write report.html beside them.",
        discussion: "Plots: latency percentile distributions (HdrHistogram style, one line per GFP class), lock wait and hold times, the NUMA access-cost heatmap (measured beside modelled), free pages per order over time with the watermarks, throughput per CPU by node, and the scaling curve of a `bench --scaling` folder. Tables come from result.json (numastat per node included). A plot that cannot be drawn is named on the page, never fatal. scripts/report installs gnuplot first. " + CLIConventions.exitStatus("0 report.html written (plots that could not be drawn are named in it); 2 the folder holds no results"))

    @Argument(help: "A Results folder (Results/<config>/<timestamp>) or a bench --scaling folder.")
    var resultDir: String

    @Flag(name: .customLong("no-plots"), help: "Write report.html with the tables only (no gnuplot needed).")
    var noPlots = false

    func run() throws {
        do {
            let out = try Report.write(resultDir, plots: !noPlots)
            for p in out.plots { print("plot: \(p)") }
            for s in out.skipped { print("not drawn: \(s)") }
            print("report: \(out.html)")
        } catch let e as ReportError {
            throw failInput(e.description)
        }
    }
}
