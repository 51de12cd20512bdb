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

    /// Writes each plot's files and runs gnuplot on it; returns the PNGs drawn, by plot name.
    public static func draw(_ plots: [Plot], into dir: String) throws -> [String: String] {
        guard let gnuplot = executable else { throw ReportError(missing) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var drawn: [String: String] = [:]
        for p in plots {
            for (file, text) in p.data { try text.write(toFile: "\(dir)/\(file)", atomically: true, encoding: .utf8) }
            let script = preamble(png: "\(p.name).png") + p.script
            try script.write(toFile: "\(dir)/\(p.name).gp", atomically: true, encoding: .utf8)
            let out = try ChildProcess.run(gnuplot, ["\(p.name).gp"], cwd: dir)
            guard out.status == 0 else {
                throw ReportError("gnuplot failed on \(dir)/\(p.name).gp: \(out.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
            drawn[p.name] = "\(dir)/\(p.name).png"
        }
        return drawn
    }

    /// pngcairo when gnuplot has it (anti-aliased), else the libgd png terminal.
    static func preamble(png: String) -> String {
        """
        if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) { set terminal pngcairo noenhanced size 960,560 font "sans,10" } else { set terminal png noenhanced size 960,560 }
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
