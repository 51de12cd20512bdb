import Foundation

/// `numastress report RESULT_DIR`: the plots of a Results folder (PNG, through gnuplot) and a
/// `report.html` that holds them with the run's tables and its config. Any folder with a
/// result.json (one node or many, complete or interrupted), a `vary:` run's folder of variants
/// (contrast.json) or a scaling.csv gets a page; a plot
/// that cannot be drawn is named on the page with the reason instead of stopping the report.
public enum Report {
    public struct Outcome: Sendable {
        public var html: String
        public var plots: [String]
        public var skipped: [String]
    }

    /// Reads `dir`, draws the plots into `dir/plots/` unless `plots` is false, and writes
    /// `dir/report.html`. Throws only for a folder that holds no results at all.
    public static func write(_ path: String, plots drawPlots: Bool = true) throws -> Outcome {
        let dir = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw ReportError("\(dir): no such folder (expected a Results folder such as Results/quickstart/<timestamp>)")
        }
        if ReportContrast.isContrast(dir) { return try ReportContrast.write(dir, plots: drawPlots) }
        if SweepFolder.isSweep(dir) {
            do { return try SweepReport.write(dir, plots: drawPlots) } catch let e as SweepError { throw ReportError(e.description) }
        }
        let loaded = try PlotData.load(dir)
        let csvs = ReportCSV.files(in: dir)
        guard loaded.result != nil || !loaded.data.scaling.isEmpty || (loaded.unreadable != nil && !csvs.isEmpty) else {
            throw ReportError(loaded.unreadable.map { "\(dir): \($0), and there are no CSV files" }
                              ?? "\(dir): neither result.json nor scaling.csv here: not a Results folder")
        }
        let (plots, missing) = ReportPlots.make(loaded.data, result: loaded.result)
        var skipped = (loaded.unreadable.map { [$0] } ?? []) + missing
        var images: [ReportPage.Image] = []
        var drawn: [String] = []
        if drawPlots {
            let out = try Gnuplot.draw(plots, into: dir + "/plots")
            for p in plots {
                if let path = out.png[p.name], let png = FileManager.default.contents(atPath: path) {
                    images.append(.init(caption: p.caption, png: png))
                    drawn.append(path)
                }
            }
            skipped += out.failed.map { "\($0.name): \($0.reason)" }
        } else {
            skipped.append("all plots (--no-plots)")
        }
        let html = page(dir: dir, loaded: loaded, csvs: csvs, images: images, skipped: skipped)
        try ResultWriter.atomic(URL(fileURLWithPath: dir), "report.html", html)
        return Outcome(html: dir + "/report.html", plots: drawn, skipped: skipped)
    }

    static func page(dir: String, loaded: PlotData.Loaded, csvs: [String], images: [ReportPage.Image], skipped: [String]) -> String {
        let log = try? String(contentsOfFile: dir + "/kernel.log", encoding: .utf8)
        var tables = ""
        if !loaded.data.scaling.isEmpty {
            tables += "<h2>Scaling</h2>\n" + ReportPage.table(["workload", "CPUs", "M ops/s", "speedup"], loaded.data.scaling.flatMap { c in
                let base = c.perCPUBase
                return c.points.map { [c.workload, "\($0.cpus)", String(format: "%.2f", $0.opsPerSec / 1e6), String(format: "%.2f×", $0.opsPerSec / base)] }
            })
        }
        guard let r = loaded.result else {
            // A bench folder, or a run whose result.json this build cannot read: its CSVs.
            tables += ReportCSV.html(dir: dir, files: csvs)
            let name = URL(fileURLWithPath: dir).deletingLastPathComponent().lastPathComponent
            return ReportPage.html(title: loaded.data.scaling.isEmpty ? "NUMAStress: \(name)" : "NUMAStress scaling", header: [dir], warning: nil,
                                   plots: images, skipped: skipped, tables: tables, config: nil, kernelLog: log)
        }
        var header = [
            "\(r.complete ? "complete" : "INCOMPLETE") · \(r.run.mode) · seed \(r.run.seed) · "
                + String(format: "%.2f s measured", Double(r.run.elapsedNS) / 1e9) + " · started \(r.run.started)",
            "host \(r.host.hostname): \(r.host.pus) PU(s), \(r.host.nodes) node(s), kernel \(r.host.kernel) · git \(r.host.gitRevision)"
                + (r.host.malloc.map { " · malloc \($0)" } ?? ""),
            "topology \(r.topology.source): \(r.topology.nodes.count) node(s), \(r.topology.pus.count) CPU(s), \(r.host.mapping) onto the host PUs",
            "locks: zone \(r.run.zoneLock), node partial \(r.run.nodePartialLock) · remote cost: \(r.numa.costLabel)",
        ]
        if let shake = r.run.shake { header.append("schedule shaking: \(shake)") }
        if let v = r.variant { header.append("variant \(v) of a vary: run (the contrast is in the folder above)") }
        let warning = r.complete ? nil
            : "This run did not finish (\(r.stopReason ?? "stopped")\(r.stopSignal.map { ", \($0)" } ?? "")): every figure covers only what ran before it stopped."
        return ReportPage.html(title: "NUMAStress: \(r.config.name)", header: header, warning: warning, plots: images,
                               skipped: skipped, tables: tables + ReportTables.html(r), config: r.config.text, kernelLog: log)
    }
}
