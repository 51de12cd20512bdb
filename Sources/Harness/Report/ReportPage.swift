import Foundation

/// `report.html`: one self-contained page (plots embedded as data URIs, no scripts, no network)
/// with the run's summary tables, its plots and its config, readable offline and mailable.
enum ReportPage {
    static func html(title: String, header: [String], summaryMarkdown: String?, plots: [(caption: String, png: Data)],
                     skipped: [String], extraTables: String, config: String?, kernelLog: String?) -> String {
        var body = "<h1>\(escape(title))</h1>\n<p class=\"meta\">" + header.map(escape).joined(separator: "<br>\n") + "</p>\n"
        if !plots.isEmpty {
            body += "<h2>Plots</h2>\n"
            for p in plots {
                body += "<figure><img alt=\"\(escape(p.caption))\" src=\"data:image/png;base64,\(p.png.base64EncodedString())\">"
                    + "<figcaption>\(escape(p.caption))</figcaption></figure>\n"
            }
        }
        if !skipped.isEmpty {
            body += "<p class=\"note\">Not drawn: " + skipped.map(escape).joined(separator: "; ") + ".</p>\n"
        }
        body += extraTables
        if let md = summaryMarkdown { body += "<h2>Summary</h2>\n" + markdown(md, dropTitle: true) }
        if let config { body += "<h2>Config</h2>\n<pre>\(escape(config))</pre>\n" }
        if let log = kernelLog, !log.isEmpty {
            let lines = log.split(separator: "\n", omittingEmptySubsequences: false)
            let shown = lines.prefix(200).joined(separator: "\n") + (lines.count > 200 ? "\n… \(lines.count - 200) more lines in kernel.log" : "")
            body += "<h2>Kernel log</h2>\n<details><summary>\(lines.count) line(s)</summary><pre>\(escape(shown))</pre></details>\n"
        }
        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
        <style>
        body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1120px; color: #222; padding: 0 1em; }
        table { border-collapse: collapse; margin: 0.5em 0 1.2em; font-variant-numeric: tabular-nums; }
        th, td { border-bottom: 1px solid #ddd; padding: 2px 10px; text-align: right; }
        th:first-child, td:first-child { text-align: left; }
        th { background: #f4f4f4; }
        figure { margin: 1em 0 2em; } img { max-width: 100%; border: 1px solid #eee; }
        figcaption { color: #555; font-size: 13px; }
        pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 12px; }
        .meta { color: #555; } .note { color: #8a5a00; }
        </style></head><body>
        \(body)</body></html>

        """
    }

    /// The subset of markdown `Summary.markdown` writes: headings, pipe tables, text lines.
    static func markdown(_ md: String, dropTitle: Bool) -> String {
        var out = ""
        var table: [[String]] = []
        func flush() {
            guard !table.isEmpty else { return }
            out += Self.table(table[0], Array(table.dropFirst()))
            table = []
        }
        for raw in md.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("|") {
                let cells = line.dropFirst().dropLast(line.hasSuffix("|") ? 1 : 0).split(separator: "|", omittingEmptySubsequences: false)
                    .map { $0.trimmingCharacters(in: .whitespaces) }
                if cells.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0 == "-" || $0 == ":" } }) { continue }
                table.append(cells)
                continue
            }
            flush()
            if line.hasPrefix("## ") { out += "<h3>\(escape(String(line.dropFirst(3))))</h3>\n" }
            else if line.hasPrefix("# ") { if !dropTitle { out += "<h2>\(escape(String(line.dropFirst(2))))</h2>\n" } }
            else if !line.isEmpty { out += "<p>\(escape(line))</p>\n" }
        }
        flush()
        return out
    }

    /// A table from header and rows, already formatted.
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        "<table>\n<tr>" + header.map { "<th>\(escape($0))</th>" }.joined() + "</tr>\n"
            + rows.map { "<tr>" + $0.map { "<td>\(escape($0))</td>" }.joined() + "</tr>\n" }.joined() + "</table>\n"
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
