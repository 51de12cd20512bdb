import Foundation

/// The CSV files of a Results folder as plain tables: what a report shows when result.json
/// cannot be decoded (a folder from another version of the tool), so the page still says what
/// the run measured.
enum ReportCSV {
    static func files(in dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".csv") && $0 != "scaling.csv" }.sorted()
    }

    /// Splits one CSV line, honouring double-quoted fields with doubled quotes inside.
    static func fields(_ line: Substring) -> [String] {
        var out: [String] = [], cur = "", quoted = false
        var i = line.startIndex
        while i < line.endIndex {
            let c = line[i], next = line.index(after: i)
            if quoted && c == "\"" {
                // Inside quotes a doubled quote is a literal one; a single one closes them.
                if next < line.endIndex && line[next] == "\"" { cur.append("\""); i = line.index(after: next); continue }
                quoted = false
            } else if quoted { cur.append(c) }
            else if c == "\"" { quoted = true }
            else if c == "," { out.append(cur); cur = "" }
            else { cur.append(c) }
            i = next
        }
        out.append(cur)
        return out
    }

    static func html(dir: String, files: [String], maxRows: Int = 200) -> String {
        files.map { file in
            guard let text = try? String(contentsOfFile: dir + "/" + file, encoding: .utf8) else { return "" }
            let lines = text.split(separator: "\n")
            guard let head = lines.first else { return "" }
            let rows = lines.dropFirst().prefix(maxRows).map(fields)
            let more = lines.count - 1 - rows.count
            return "<h2>\(ReportPage.escape(file))</h2>\n" + ReportPage.table(fields(head), Array(rows))
                + (more > 0 ? "<p>… \(more) more rows in \(ReportPage.escape(file)).</p>\n" : "")
        }.joined()
    }
}
