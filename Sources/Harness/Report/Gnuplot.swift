import Foundation

/// Draws a report's plots as PNG with gnuplot (Debian's gnuplot-nox): for each plot a `.dat`
/// file and a `.gp` script land in `plots/` beside the PNG, so a plot can be redrawn or
/// restyled by hand.
public enum Gnuplot {
    /// One plot: its file stem, a caption for the report, data files and the script body.
    public struct Plot: Sendable {
        public var name: String
        public var caption: String
        public var data: [String: String]
        public var script: String
    }

    /// The gnuplot binary on PATH, if any.
    public static var executable: String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/gnuplot" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static let missing = "gnuplot not found: install Debian's gnuplot-nox (scripts/report does), or run numastress report --no-plots"

    /// What became of the plots: the PNGs drawn by plot name, and for each plot that could not
    /// be drawn, why (gnuplot's own words). One bad plot never stops the others.
    public struct Drawn: Sendable {
        public var png: [String: String] = [:]
        public var failed: [(name: String, reason: String)] = []
    }

    /// Writes each plot's files and runs gnuplot on it. Throws only when `dir` cannot be made;
    /// without gnuplot nothing is drawn and one failure says why.
    public static func draw(_ plots: [Plot], into dir: String) throws -> Drawn {
        var drawn = Drawn()
        guard let gnuplot = executable else {
            // One note for all of them: the reason is the same.
            if !plots.isEmpty { drawn.failed = [("all \(plots.count) plots", missing)] }
            return drawn
        }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for p in plots {
            do {
                for (file, text) in p.data { try text.write(toFile: "\(dir)/\(file)", atomically: true, encoding: .utf8) }
                let script = preamble(png: "\(p.name).png") + p.script
                try script.write(toFile: "\(dir)/\(p.name).gp", atomically: true, encoding: .utf8)
                // A failed run can leave a truncated PNG behind; it must not be embedded.
                try? FileManager.default.removeItem(atPath: "\(dir)/\(p.name).png")
                let out = try ChildProcess.run(gnuplot, ["\(p.name).gp"], cwd: dir)
                let png = "\(dir)/\(p.name).png"
                if out.status == 0, FileManager.default.fileExists(atPath: png) {
                    drawn.png[p.name] = png
                } else {
                    let why = out.stderr.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.last
                    drawn.failed.append((p.name, "gnuplot failed on plots/\(p.name).gp: \(why ?? "exit \(out.status)")"))
                    try? FileManager.default.removeItem(atPath: png)
                }
            } catch {
                drawn.failed.append((p.name, "\(error)"))
            }
        }
        return drawn
    }

    /// pngcairo when gnuplot has it (anti-aliased), else the libgd png terminal.
    static func preamble(png: String) -> String {
        """
        if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) { set terminal pngcairo noenhanced size 960,560 font "sans,10" } else { set terminal png noenhanced size 960,560 }
        set encoding utf8
        set output "\(png)"
        set grid lc rgb "#dddddd"
        set key outside right top
        set datafile separator whitespace

        """
    }

    /// A gnuplot string literal.
    static func quoted(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
