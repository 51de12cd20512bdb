import Histogram

/// A percentile of a latency histogram, interpolated between the values the clock can give.
///
/// Why: on some machines the cycle counter moves in steps of about 10 ns as read, so a fast
/// operation's timings take only a few distinct values (40, 49, 60 ns…) and its plain median
/// jumps a whole step (+22 %) when the distribution shifts by a nanosecond or two. Treating each
/// recorded value as the middle of a class that reaches halfway to its neighbours, and placing
/// the percentile linearly inside its class (the median of grouped data), gives a figure that
/// moves smoothly with the distribution; with fine-grained values it equals the plain one to
/// within a nanosecond.
enum InterpolatedPercentile {
    static func of(_ h: Histogram<UInt64>, _ percentile: Double) -> Double? {
        let values = h.recordedValues().map { (v: Double($0.value), n: Double($0.count)) }.filter { $0.n > 0 }
        guard !values.isEmpty else { return nil }
        let target = percentile / 100 * values.reduce(0) { $0 + $1.n }
        var below = 0.0
        for (k, c) in values.enumerated() {
            if below + c.n >= target || k == values.count - 1 {
                let lowGap = k > 0 ? c.v - values[k - 1].v : (k + 1 < values.count ? values[k + 1].v - c.v : 0)
                let highGap = k + 1 < values.count ? values[k + 1].v - c.v : lowGap
                let lower = c.v - lowGap / 2, width = (lowGap + highGap) / 2
                return lower + max(0, min(1, (target - below) / c.n)) * width
            }
            below += c.n
        }
        return nil
    }
}
