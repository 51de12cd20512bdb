import Foundation

/// The report of a `vary:` run's folder: each variant's folder gets its own report, and the
/// folder's report.html holds the contrast (table, grouped bars, expectations) and links to
/// the variants' pages, all from contrast.json and the variants' result.json files.
enum ReportContrast {
    static func isContrast(_ dir: String) -> Bool {
        FileManager.default.fileExists(atPath: dir + "/contrast.json") && !FileManager.default.fileExists(atPath: dir + "/result.json")
    }

    static func write(_ dir: String, plots drawPlots: Bool) throws -> Report.Outcome {
        var skipped: [String] = []
        var allPlots: [String] = []
        var file: ResultWriter.ContrastFile? = nil
        do {
            file = try JSONCoding.decode(ResultWriter.ContrastFile.self, from: Data(contentsOf: URL(fileURLWithPath: dir + "/contrast.json")))
        } catch {
            skipped.append("contrast.json could not be read (\(PlotData.describe(error)))")
        }
        // Every variant folder, in the order the config lists them, then any other.
        let subs = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter {
            FileManager.default.fileExists(atPath: "\(dir)/\($0)/result.json")
        }
        let order = file?.variants.map(\.name) ?? []
        let variants = order.filter(subs.contains) + subs.filter { !order.contains($0) }.sorted()
        var rows: [[String]] = []
        for v in variants {
            do {
                let out = try Report.write("\(dir)/\(v)", plots: drawPlots)
                allPlots += out.plots
                rows.append([v, file?.variants.first { $0.name == v }?.settings ?? "", "\(v)/report.html", "\(out.plots.count)"])
            } catch {
                skipped.append("variant \(v): \(error)")
            }
        }
        var images: [ReportPage.Image] = []
        if drawPlots, let t = file?.table, let plot = ContrastPlot.make(t) {
            let drawn = try Gnuplot.draw([plot], into: dir + "/plots")
            if let path = drawn.png[plot.name], let png = FileManager.default.contents(atPath: path) {
                images.append(.init(caption: plot.caption, png: png))
                allPlots.append(path)
            }
            skipped += drawn.failed.map { "\($0.name): \($0.reason)" }
        } else if !drawPlots {
            skipped.append("all plots (--no-plots)")
        }
        let html = page(dir: dir, file: file, variants: rows, images: images, skipped: skipped)
        try ResultWriter.atomic(URL(fileURLWithPath: dir), "report.html", html)
        return Report.Outcome(html: dir + "/report.html", plots: allPlots, skipped: skipped)
    }

    static func page(dir: String, file: ResultWriter.ContrastFile?, variants: [[String]], images: [ReportPage.Image], skipped: [String]) -> String {
        let name = file?.config ?? URL(fileURLWithPath: dir).deletingLastPathComponent().lastPathComponent
        var tables = "<h2>Variants</h2>\n<table>\n<tr><th>variant</th><th>settings</th><th>report</th><th>plots</th></tr>\n"
            + variants.map { v in
                "<tr><td>\(ReportPage.escape(v[0]))</td><td>\(ReportPage.escape(v[1]))</td><td><a href=\"\(ReportPage.escape(v[2]))\">\(ReportPage.escape(v[2]))</a></td><td>\(v[3])</td></tr>\n"
            }.joined() + "</table>\n"
        if let t = file?.table, !t.rows.isEmpty {
            tables += "<h2>Contrast</h2>\n<p>The figures where the variants differ.</p>\n"
                + ReportPage.table(["figure"] + t.variants, t.rows.map { row in
                    [row.figure] + row.values.map { ContrastTable.format($0, time: ContrastTable.isTime(row.figure)) }
                })
        }
        if let e = file?.expectations, !e.isEmpty {
            tables += "<h2>Expectations</h2>\n" + ReportPage.table(["verdict", "config line", "expectation", "measured"], e.map { o in
                [o.passed ? "PASS" : "FAIL", "\(o.line)", (o.variant.map { "[\($0)] " } ?? "") + o.text,
                 o.measured]
            })
        }
        let complete = file?.complete ?? false
        return ReportPage.html(title: "NUMAStress contrast: \(name)", header: [dir, "\(variants.count) variant(s) · \(complete ? "complete" : "INCOMPLETE")"],
                               warning: complete ? nil : "Not every variant ran to its end: see each variant's page.",
                               plots: images, skipped: skipped, tables: tables, config: nil, kernelLog: nil)
    }
}
