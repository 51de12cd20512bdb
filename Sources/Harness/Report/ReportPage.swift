import Foundation

/// `report.html`: one self-contained page (plots embedded as data URIs, no scripts, no network)
/// with the run's header, its plots, the tables built from result data, and its config,
/// readable offline and mailable.
enum ReportPage {
    struct Image: Sendable {
        var caption: String
        var png: Data
    }

    static func html(title: String, header: [String], warning: String?, plots: [Image], skipped: [String],
                     tables: String, config: String?, kernelLog: String?) -> String {
        var body = "<h1>\(escape(title))</h1>\n<p class=\"meta\">" + header.map(escape).joined(separator: "<br>\n") + "</p>\n"
        if let warning { body += "<p class=\"bad\">\(escape(warning))</p>\n" }
        if !plots.isEmpty {
            body += "<h2>Plots</h2>\n"
            for p in plots {
                body += "<figure><img alt=\"\(escape(p.caption))\" src=\"data:image/png;base64,\(p.png.base64EncodedString())\">"
                    + "<figcaption>\(escape(p.caption))</figcaption></figure>\n"
            }
        }
        if !skipped.isEmpty {
            body += "<p class=\"note\">Not drawn:</p>\n<ul class=\"note\">" + skipped.map { "<li>\(escape($0))</li>" }.joined() + "</ul>\n"
        }
        body += tables
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
        th, td { border-bottom: 1px solid #ddd; padding: 2px 10px; text-align: right; white-space: nowrap; }
        th:first-child, td:first-child, td.t { text-align: left; }
        th { background: #f4f4f4; font-weight: 600; white-space: normal; vertical-align: bottom; }
        .wide { overflow-x: auto; }
        h3 { font-size: 15px; margin-bottom: 0.2em; }
        figure { margin: 1em 0 2em; } img { max-width: 100%; border: 1px solid #eee; }
        figcaption { color: #555; font-size: 13px; }
        pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 12px; }
        .meta { color: #555; } .note { color: #8a5a00; } .bad { color: #b00020; font-weight: 600; }
        </style></head><body>
        \(body)</body></html>

        """
    }

    /// A table from header and rows, already formatted, in a box that scrolls sideways when
    /// the table is wider than the page (the zones table has thirteen columns).
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        "<div class=\"wide\"><table>\n<tr>" + header.map { "<th>\(escape($0))</th>" }.joined() + "</tr>\n"
            + rows.map { "<tr>" + $0.map { "<td\(isText($0) ? " class=\"t\"" : "")>\(escape($0))</td>" }.joined() + "</tr>\n" }.joined()
            + "</table></div>\n"
    }

    /// Words (names, verdicts, expectations) read from the left; figures line up on the right.
    static func isText(_ cell: String) -> Bool {
        guard let c = cell.first else { return false }
        return !(c.isNumber || "-—<>+.".contains(c))
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
