import Foundation
import KernelMM

/// Free pages held in blocks of each order over the measured phase (the sampled buddyinfo), one
/// panel per zone that moved. Each order keeps one colour in every panel, so "order 3" reads
/// the same across zones; the zone's total free pages is drawn dashed black over them, with its
/// min/low/high watermarks as grey lines, so a zone living at its watermarks shows it.
enum FreePagesPlot {
    /// How much a zone's free lists moved over the run: the swing of its free pages, plus the
    /// sample count so that a zone that never moved ranks below one that did.
    static func movement(_ z: RunResult.ZoneSeries) -> Int {
        let pages = z.blocks.map(total)
        return (pages.max() ?? 0) - (pages.min() ?? 0) + z.blocks.count
    }

    /// The non-zero watermarks as grey horizontal lines (a zero cannot sit on the log axis).
    static func marks(_ w: Watermarks?) -> [String] {
        guard let w else { return [] }
        return [("min", w.min, 1), ("low", w.low, 2), ("high", w.high, 3)].filter { $0.1 > 0 }.map { name, v, dash in
            "\(v) with lines lw 1.5 dt \(dash + 1) lc rgb \"#666666\" title \"\(name) watermark (\(v))\""
        }
    }

    /// How the timeline was sampled, for a caption: by time, or by operations in a
    /// deterministic run (interval 0).
    static func samplingNote(_ t: RunResult.FreeTimeline) -> String {
        t.intervalNS == 0 ? "sampled about every 1/200 of the operations, deterministic run"
                          : "sampled every \(PlotAxes.time(Double(t.intervalNS))), without the zone lock"
    }

    static func total(_ blocks: [Int]) -> Int { blocks.enumerated().reduce(0) { $0 + $1.element << $1.offset } }

    /// The zones to draw (at most six): first those that sat at or under their high watermark
    /// (an exhausted zone barely moves, yet it is the one to see), then those whose free lists
    /// moved, busiest first; if none did either, the two largest, so the plot still says "flat".
    static func zones(_ t: RunResult.FreeTimeline, watermarks: [String: Watermarks] = [:]) -> [RunResult.ZoneSeries] {
        func pressed(_ z: RunResult.ZoneSeries) -> Bool {
            // A zone with no pages at all (DMA: 0MiB) is not under pressure, whatever its marks say.
            guard let w = watermarks["\(z.node) \(z.zone)"], w.high > 0, z.blocks.contains(where: { total($0) > 0 }) else { return false }
            return (z.blocks.map(total).min() ?? .max) <= w.high
        }
        let ranked = t.zones.sorted { (pressed($0) ? 1 : 0, movement($0)) > (pressed($1) ? 1 : 0, movement($1)) }
        let moved = ranked.filter { pressed($0) || movement($0) > $0.blocks.count }
        return moved.isEmpty ? Array(ranked.filter { total($0.blocks.first ?? []) > 0 }.prefix(2)) : Array(moved.prefix(6))
    }

    /// `watermarks`: by "node zone" (e.g. "0 Normal"), from result.json's zones.
    static func make(_ t: RunResult.FreeTimeline, watermarks: [String: Watermarks] = [:]) -> Gnuplot.Plot? {
        let shown = zones(t, watermarks: watermarks)
        guard t.tNS.count > 1, !shown.isEmpty else { return nil }
        var data: [String: String] = [:]
        var panels = ""
        for z in shown {
            let file = "free-\(z.node)-\(z.zone).dat"
            data[file] = zip(t.tNS, z.blocks).map { tn, b in
                ([String(format: "%.3f", Double(tn) / 1e9), "\(total(b))"] + b.enumerated().map { "\($0.element << $0.offset)" }).joined(separator: " ")
            }.joined(separator: "\n") + "\n"
            // Orders that ever held a block; the log scale keeps order 0 visible beside order 10.
            let used = (0..<(z.blocks.first?.count ?? 0)).filter { o in z.blocks.contains { $0[o] > 0 } }
            let lines = ["'\(file)' using 1:2 with lines lw 2 dt 2 lc rgb \"#000000\" title \"all orders\""]
                + used.map { "'\(file)' using 1:\($0 + 3) with lines lw 1.5 lc rgb \"\(PlotAxes.colour($0))\" title \"order \($0)\"" }
                + marks(watermarks["\(z.node) \(z.zone)"])
            panels += panel(z, lines)
        }
        return Gnuplot.Plot(name: "free-pages", caption: "Free pages held in blocks of each order over the measured phase (buddyinfo \(samplingNote(t))) with the zone's watermarks in grey; dashed black: the zone's free pages in all orders. Each order has the same colour in every panel.",
                            data: data, script: script(output: "free-pages.png", t, panels: panels, count: shown.count))
    }

    /// One zone's panel of a free-pages timeline.
    static func panel(_ z: RunResult.ZoneSeries, _ lines: [String]) -> String {
        """
        set title \(Gnuplot.quoted("node \(z.node) \(z.zone)"))
        plot \(lines.joined(separator: ", \\\n     "))

        """
    }

    /// The frame the free-pages timelines share: `count` panels, two per row, time since the
    /// measured phase on x, free pages on a log y axis, the key below.
    static func script(output: String, _ t: RunResult.FreeTimeline, panels: String, count: Int) -> String {
        let cols = count > 1 ? 2 : 1
        let rows = (count + cols - 1) / cols
        let height = max(rows * 400, 440)
        return """
            if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) { set terminal pngcairo noenhanced size 1100,\(height) font "sans,9" } else { set terminal png noenhanced size 1100,\(height) }
            set output "\(output)"
            set multiplot layout \(rows),\(cols)
            set xlabel "time since the measured phase began (s)"
            set ylabel "free pages (log scale)"
            set logscale y 10
            set xrange [0:\(String(format: "%.3f", Double(t.tNS.last ?? 0) / 1e9))]
            set format y "%.0s%c"
            set key outside below horizontal maxcols 7 samplen 2 font ",8"
            \(panels)unset multiplot

            """
    }
}
