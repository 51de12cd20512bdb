/// Columns padded to their widest cell, the first read from the left and the rest (figures)
/// from the right, as plain text or as a markdown table: what the summary and the contrast
/// table print.
enum TextTable {
    static func render(_ header: [String], _ rows: [[String]], markdown: Bool) -> String {
        let widths = header.indices.map { i in max(header[i].count, rows.map { $0[i].count }.max() ?? 0) }
        func line(_ cells: [String]) -> String {
            let padded = cells.enumerated().map { i, c in
                i == 0 ? c.padding(toLength: widths[i], withPad: " ", startingAt: 0) : String(repeating: " ", count: widths[i] - c.count) + c
            }
            return markdown ? "| " + padded.joined(separator: " | ") + " |\n" : padded.joined(separator: "  ") + "\n"
        }
        var out = line(header)
        if markdown { out += "|" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "|") + "|\n" }
        rows.forEach { out += line($0) }
        return out
    }
}
