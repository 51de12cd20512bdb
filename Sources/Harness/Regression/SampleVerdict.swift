/// The verdict on one figure measured once per repetition in two results: a REGRESSION when
/// the change is both significant (Mann–Whitney U test, p < α) and larger than the threshold;
/// IMPROVED symmetrically; otherwise ok. Significance alone is not enough (with many
/// repetitions a 1 % shift is significant and harmless); size alone is not enough (on a noisy
/// machine one slow repetition moves a median by more than 10 %).
public struct SampleRule: Sendable, Equatable {
    /// Significance level: the chance of calling a change significant when there is none, for
    /// one figure.
    public var alpha: Double
    /// Smallest relative change of the medians that matters (0.1 = 10 %).
    public var threshold: Double
    /// Medians below this are taken as this when the change is worked out, so that a ratio
    /// going from 0.0001 to 0.0002 per operation is not a 100 % change.
    public var floor: Double

    public static let defaultAlpha = 0.05

    public init(alpha: Double = SampleRule.defaultAlpha, threshold: Double, floor: Double = 0) {
        self.alpha = alpha; self.threshold = threshold; self.floor = floor
    }

    public enum Outcome: Sendable, Equatable {
        case ok, regression, improved
        case notJudged(String)
    }

    public struct Judgement: Sendable, Equatable {
        public var outcome: Outcome
        public var baselineMedian: Double?
        public var nowMedian: Double?
        /// Relative change of the medians, now against baseline.
        public var change: Double?
        public var p: Double?
    }

    /// Judges `now` against `baseline` (one value per repetition each).
    public func judge(baseline: [Double], now: [Double], higherIsBetter: Bool) -> Judgement {
        let mb = Self.median(baseline), mn = Self.median(now)
        var j = Judgement(outcome: .ok, baselineMedian: mb, nowMedian: mn, change: nil, p: nil)
        guard let mb, let mn else {
            j.outcome = .notJudged(baseline.isEmpty ? "no repetitions in the baseline" : "no repetitions in this result")
            return j
        }
        let denominator = Swift.max(abs(mb), floor)
        j.change = denominator > 0 ? (mn - mb) / denominator : (mn == mb ? 0 : (mn > mb ? .infinity : -.infinity))
        let reachable = MannWhitney.smallestP(baseline.count, now.count)
        guard reachable < alpha else {
            j.outcome = .notJudged("\(baseline.count) vs \(now.count) repetition(s): the U test cannot reach p < \(Self.fmt(alpha)) (record both with --repetitions 5)")
            return j
        }
        let test = MannWhitney(now, baseline)
        j.p = test.p
        let worse = higherIsBetter ? -j.change! : j.change!
        if test.p < alpha && worse > threshold { j.outcome = .regression }
        else if test.p < alpha && -worse > threshold { j.outcome = .improved }
        return j
    }

    public static func median(_ xs: [Double]) -> Double? {
        guard !xs.isEmpty else { return nil }
        let s = xs.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    static func fmt(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : "\(v)" }
}
