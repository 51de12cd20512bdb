import Foundation
import KernelMM

/// Free pages on each migrate type's free lists over the measured phase (pagetypeinfo's rows
/// summed over orders, sampled with the buddyinfo timeline), one panel per zone the free-pages
/// plot shows. A fragmenting workload reads here as Unmovable pageblocks being claimed out of
/// Movable ones, and the high-atomic reserve as a HighAtomic line appearing. Each type keeps
/// one colour in every panel; types whose lists stayed empty are left out.
enum FreePagesByTypePlot {
    static func make(_ t: RunResult.FreeTimeline, watermarks: [String: Watermarks] = [:]) -> Gnuplot.Plot? {
        let shown = FreePagesPlot.zones(t, watermarks: watermarks).filter { ($0.freeByType?.count ?? 0) == $0.blocks.count }
        guard t.tNS.count > 1, !shown.isEmpty else { return nil }
        var data: [String: String] = [:]
        var panels = ""
        for z in shown {
            guard let byType = z.freeByType else { continue }
            let used = MigrateType.allCases.filter { mt in byType.contains { $0[mt.rawValue] > 0 } }
            guard !used.isEmpty else { continue }
            let file = "free-types-\(z.node)-\(z.zone).dat"
            data[file] = zip(t.tNS, byType).map { tn, pages in
                ([String(format: "%.3f", Double(tn) / 1e9)] + pages.map(String.init)).joined(separator: " ")
            }.joined(separator: "\n") + "\n"
            let lines = used.map { "'\(file)' using 1:($\($0.rawValue + 2) > 0 ? $\($0.rawValue + 2) : 1/0) with lines lw 1.5 lc rgb \"\(PlotAxes.colour($0.rawValue))\" title \"\($0)\"" }
            panels += FreePagesPlot.panel(z, lines)
        }
        guard !panels.isEmpty else { return nil }
        return Gnuplot.Plot(name: "free-pages-by-type", caption: "Free pages on each migrate type's free lists over the measured phase (\(FreePagesPlot.samplingNote(t))): pageblocks claimed by another type move free pages from one line to another. Types whose lists stayed empty are left out; a gap is a type with no free page at that moment.",
                            data: data, script: FreePagesPlot.script(output: "free-pages-by-type.png", t, panels: panels, count: data.count))
    }
}
