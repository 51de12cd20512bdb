import Foundation

/// `numastress report RESULT_DIR`: the plots of a Results folder (PNG, through gnuplot) and a
/// `report.html` that holds them with the summary, the tables and the config.
public enum Report {
    public struct Outcome: Sendable {
        public var html: String
        public var plots: [String]
        public var skipped: [String]
    }

    /// Reads `dir` (a run's folder with result.json, or a bench folder with scaling.csv), draws
    /// the plots into `dir/plots/` unless `plots` is false, and writes `dir/report.html`.
    public static func write(_ dir: String, plots drawPlots: Bool = true) throws -> Outcome {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw ReportError("\(dir): no such folder (expected a Results folder such as Results/quickstart/<timestamp>)")
        }
        let (result, data) = try PlotData.load(dir)
        guard result != nil || !data.scaling.isEmpty else {
            throw ReportError("\(dir): neither result.json nor scaling.csv here: not a Results folder")
        }
        let (plots, skippedData) = ReportPlots.make(data, result: result)
        var skipped = skippedData
        var images: [(caption: String, png: Data)] = []
        var drawn: [String] = []
        if drawPlots {
            let files = try Gnuplot.draw(plots, into: dir + "/plots")
            for p in plots {
                guard let path = files[p.name], let png = FileManager.default.contents(atPath: path) else { continue }
                images.append((p.caption, png))
                drawn.append(path)
            }
        } else {
            skipped = ["all plots (--no-plots)"]
        }
        let html = page(dir: dir, result: result, data: data, images: images, skipped: skipped)
        let path = dir + "/report.html"
        try ResultWriter.atomic(URL(fileURLWithPath: dir), "report.html", html)
        return Outcome(html: path, plots: drawn, skipped: skipped)
    }

    static func page(dir: String, result r: RunResult?, data: PlotData, images: [(caption: String, png: Data)], skipped: [String]) -> String {
        var tables = ""
        if !data.scaling.isEmpty {
            tables += "<h2>Scaling</h2>\n" + ReportPage.table(["workload", "CPUs", "M ops/s", "speedup"], data.scaling.flatMap { c in
                let base = c.perCPUBase
                return c.points.map { [c.workload, "\($0.cpus)", String(format: "%.2f", $0.opsPerSec / 1e6), String(format: "%.2f×", $0.opsPerSec / base)] }
            })
        }
        guard let r else {
            return ReportPage.html(title: "NUMAStress scaling", header: [dir], summaryMarkdown: nil, plots: images,
                                   skipped: skipped, extraTables: tables, config: nil, kernelLog: nil)
        }
        var header = [
            "\(r.complete ? "complete" : "INCOMPLETE: \(r.stopReason ?? "stopped")") · \(r.run.mode) · seed \(r.run.seed) · "
                + String(format: "%.2f s measured", Double(r.run.elapsedNS) / 1e9) + " · started \(r.run.started)",
            "host \(r.host.hostname): \(r.host.pus) PU(s), \(r.host.nodes) node(s), \(r.host.kernel) · git \(r.host.gitRevision)"
                + (r.host.malloc.map { " · malloc \($0)" } ?? ""),
            "topology \(r.topology.source): \(r.topology.nodes.count) node(s), \(r.topology.pus.count) CPU(s), mapping \(r.host.mapping)",
        ]
        if let shake = r.run.shake { header.append("schedule shaking: \(shake)") }
        if let m = r.numa.accessCost {
            let n = m.measuredNS.count
            let rows = (0..<n).map { i in ["CPU node \(i)"] + (0..<n).map { j in String(format: "%.2f / %.2f", m.measuredNS[i][j], m.modelledNS[i][j]) } }
            tables += "<h2>NUMA access cost</h2>\n<p>ns per cache line, measured / modelled; remote cost: \(ReportPage.escape(r.numa.costLabel)); distances from \(ReportPage.escape(r.numa.distanceOrigin)).</p>\n"
                + ReportPage.table(["CPU \\ memory"] + (0..<n).map { "node \($0)" }, rows)
        }
        let summary = (try? String(contentsOfFile: dir + "/summary.md", encoding: .utf8)) ?? Summary.markdown(r)
        return ReportPage.html(title: "NUMAStress: \(r.config.name)", header: header, summaryMarkdown: summary, plots: images,
                               skipped: skipped, extraTables: tables, config: r.config.text,
                               kernelLog: try? String(contentsOfFile: dir + "/kernel.log", encoding: .utf8))
    }
}
