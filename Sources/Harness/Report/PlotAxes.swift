import Foundation

/// Tick marks a reader can read without arithmetic. gnuplot's own formats print log-scaled
/// nanoseconds as "1k, 33k, 1M" and a percentile axis as bare numbers, so every plot that shows
/// time, percentiles or rates spells out its tick list here, with units chosen per decade.
enum PlotAxes {
    /// A nanosecond value with the unit that keeps it short: "500 ns", "2 µs", "1.5 ms".
    static func time(_ ns: Double) -> String {
        let (value, unit): (Double, String) = switch ns {
        case 1e9...: (ns / 1e9, "s")
        case 1e6...: (ns / 1e6, "ms")
        case 1e3...: (ns / 1e3, "µs")
        default: (ns, "ns")
        }
        return "\(short(value)) \(unit)"
    }

    /// At most three significant digits, no trailing zeros: 1, 2.5, 33.3, 512.
    static func short(_ v: Double) -> String {
        let s = v >= 100 ? String(format: "%.0f", v) : v >= 10 ? String(format: "%.1f", v) : String(format: "%.2f", v)
        guard s.contains(".") else { return s }
        var t = s
        while t.hasSuffix("0") { t.removeLast() }
        if t.hasSuffix(".") { t.removeLast() }
        return t
    }

    /// A gnuplot tic list for a log-scaled nanosecond axis covering `lo…hi`: every decade
    /// labelled with its unit, and unlabelled minor tics at 2…9 of each decade. When the data
    /// span less than two decades, 2 and 5 are labelled too, so the axis is never one label.
    static func timeTics(axis: String, lo: Double, hi: Double) -> String {
        let (first, last) = decades(lo: lo, hi: hi)
        let dense = last - first <= 2
        var tics: [String] = []
        for e in first...last {
            let decade = pow(10, Double(e))
            tics.append("\(Gnuplot.quoted(time(decade))) \(decade)")
            guard e < last else { break }
            for m in 2...9 {
                let v = decade * Double(m)
                tics.append(dense && (m == 2 || m == 5) ? "\(Gnuplot.quoted(time(v))) \(v)" : "\"\" \(v) 1")
            }
        }
        // The range reaches a hair past the end decades: gnuplot drops a tic exactly on the edge.
        return "set \(axis)tics (\(tics.joined(separator: ", ")))\nset \(axis)range [\(pow(10, Double(first)) * 0.98):\(pow(10, Double(last)) * 1.02)]\n"
    }

    /// The decades (powers of ten) that enclose `lo…hi`, at least one decade apart.
    static func decades(lo: Double, hi: Double) -> (Int, Int) {
        let a = Int(floor(log10(max(lo, 1))))
        let b = Int(ceil(log10(max(hi, lo, 1))))
        return (a, max(b, a + 1))
    }

    /// Percentiles as HdrHistogram plots them: x = 1/(1−p), so 90 %, 99 %, 99.9 % sit one
    /// decade apart and the tail gets the room. The axis ends half as far again past `maxX`
    /// (where the data stop), so the last step of the tail is not drawn on the frame; decades
    /// inside that range are labelled. (gnuplot reads a tic label as a format string: "%%".)
    static func percentileTics(maxX: Double) -> String {
        // Decade e (x = 10^e) is the percentile with e nines; 0 % (x = 1) stays unlabelled, as
        // it would crowd 50 % one tic to its right.
        let nines = ["90%%", "99%%", "99.9%%", "99.99%%", "99.999%%", "99.9999%%", "99.99999%%"]
        let end = max(maxX, 2) * 1.5
        let last = min(max(Int(floor(log10(end))), 1), nines.count)
        let tics = ["\"50%%\" 2"] + (1...last).map { "\(Gnuplot.quoted(nines[$0 - 1])) \(pow(10, Double($0)))" }
        return "set xtics (\(tics.joined(separator: ", ")))\nset xrange [1:\(String(format: "%.1f", max(end, 10.5)))]\n"
    }

    /// A divisor and unit for rates, chosen by the largest value: ops/s, k ops/s or M ops/s.
    static func rateUnit(max v: Double) -> (divisor: Double, unit: String) {
        if v >= 1e6 { return (1e6, "M ops/s") }
        if v >= 1e3 { return (1e3, "k ops/s") }
        return (1, "ops/s")
    }

    /// Fixed colours by position (order, node, GFP class), so the same thing has the same
    /// colour in every plot of a report.
    static let colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
                          "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#000080", "#ad494a"]

    static func colour(_ i: Int) -> String { colours[((i % colours.count) + colours.count) % colours.count] }
}
