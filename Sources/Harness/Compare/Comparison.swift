/// `numastress compare BASELINE RESULT`: the verdict on every figure the two results share.
///
/// - Counters of deterministic runs must match exactly (`CHANGED` otherwise): the interleaving
///   is drawn from the seed, so any difference is a change in the code's behaviour.
/// - Timings (throughput per CPU-second, p50 and p99 latency per operation class) are judged
///   over repetitions with `SampleRule`: REGRESSION when the medians moved the wrong way by more
///   than the threshold and a Mann–Whitney U test finds the shift significant. Tails (p99) have
///   their own, wider threshold: between identical runs on a shared machine they move by far
///   more than medians do (docs/PERFORMANCE.md, "Regression gate").
/// - Ratios that do not depend on speed (`StableRatios`) are judged the same way in concurrent
///   runs, against `ratioTolerance`: there, a raw counter means nothing.
///
/// Rows that cannot be judged say why; none is dropped silently.
public struct Comparison: Sendable {
    public enum Kind: String, Sendable { case counter, timing, ratio }
    public enum Verdict: Sendable, Equatable {
        case ok, regression, changed, improved, missing
        case notJudged(String)

        public var label: String {
            switch self {
            case .ok: return "ok"
            case .regression: return "REGRESSION"
            case .changed: return "CHANGED"
            case .improved: return "improved"
            case .missing: return "missing"
            case .notJudged: return "not judged"
            }
        }
        public var fails: Bool { self == .regression || self == .changed || self == .missing }
        public var isJudged: Bool { if case .notJudged = self { return false } else { return true } }
    }

    public struct Row: Sendable {
        public var metric: String
        public var kind: Kind
        /// The baseline's and this result's value: medians over repetitions for timings and ratios.
        public var baseline: Double?
        public var now: Double?
        public var verdict: Verdict
        /// Relative change, now against baseline (for ratios, against at least `ratioFloor`).
        public var change: Double?
        /// Two-sided p-value of the U test, for judged timings and ratios.
        public var p: Double? = nil

        init(metric: String, kind: Kind, baseline: Double?, now: Double?, verdict: Verdict, change: Double? = nil, p: Double? = nil) {
            self.metric = metric; self.kind = kind; self.baseline = baseline; self.now = now; self.verdict = verdict; self.p = p
            if let change { self.change = change }
            else if let b = baseline, let n = now, b != 0 { self.change = (n - b) / b }
        }
    }

    public struct Options: Sendable {
        /// Allowed worsening of throughput and median latencies (0.1 = 10 %).
        public var maxRegression = 0.1
        /// Allowed worsening of tail (p99) latencies (1.0 = 100 %: a doubling).
        public var maxTailRegression = 1.0
        /// Allowed change of a speed-independent ratio, relative (0.25 = 25 %), and at least
        /// `ratioTolerance × ratioFloor` in absolute terms.
        public var ratioTolerance = 0.25
        /// Significance level of the U test.
        public var alpha = SampleRule.defaultAlpha
        /// Only metrics whose name contains one of these (all when empty).
        public var metrics: [String] = []
        /// Judge timings (false: counters and ratios only, e.g. against a baseline recorded on
        /// another machine).
        public var timings = true
        public init() {}
    }

    /// A ratio below this many events per operation (or share) counts as this much when its
    /// change is worked out, so that with the default tolerance a change must also exceed 0.05
    /// in absolute terms: remote frees per operation in quickstart, an accident of which CPU
    /// holds which slab when, moved between 0.01 and 0.06 from run to run.
    public static let ratioFloor = 0.2
    /// Fewer timed operations than this per repetition make percentiles too coarse to judge.
    public static let minSamples: UInt64 = 100

    public var rows: [Row]
    public let options: Options
    public var failed: Bool { rows.contains { $0.verdict.fails } }
    public var notJudged: [Row] { rows.filter { !$0.verdict.isJudged } }

    /// Compares `now` with `baseline`. `maxRegression` is a fraction (0.1 = 10 %).
    public init(baseline: RunResult, now: RunResult, maxRegression: Double, metrics: [String] = []) {
        var o = Options()
        o.maxRegression = maxRegression
        o.metrics = metrics
        self.init(baseline: baseline, now: now, options: o)
    }

    public init(baseline: RunResult, now: RunResult, options: Options) {
        self.options = options
        var rows: [Row] = []
        let deterministic = baseline.run.mode == "deterministic" && now.run.mode == "deterministic"
        if deterministic {
            rows += Self.counterRows(ComparedFigures.counters(baseline), ComparedFigures.counters(now))
        }
        if options.timings {
            let rule = SampleRule(alpha: options.alpha, threshold: options.maxRegression)
            let tail = SampleRule(alpha: options.alpha, threshold: options.maxTailRegression)
            let b = ComparedFigures.timings(baseline), n = ComparedFigures.timings(now)
            let isTail = { (k: String) in k.hasSuffix(".p99_ns") }
            rows += Self.sampleRows(b.filter { !isTail($0.key) }, n.filter { !isTail($0.key) }, kind: .timing, rule: rule)
            rows += Self.sampleRows(b.filter { isTail($0.key) }, n.filter { isTail($0.key) }, kind: .timing, rule: tail)
        }
        if !deterministic {
            let rule = SampleRule(alpha: options.alpha, threshold: options.ratioTolerance, floor: Self.ratioFloor)
            rows += Self.sampleRows(ComparedFigures.ratios(baseline, other: now), ComparedFigures.ratios(now, other: baseline),
                                   kind: .ratio, rule: rule)
        }
        self.rows = rows.filter { r in options.metrics.isEmpty || options.metrics.contains { r.metric.contains($0) } }
            .sorted { $0.metric < $1.metric }
    }

    static func counterRows(_ b: [String: Double], _ n: [String: Double]) -> [Row] {
        Set(b.keys).union(n.keys).map { key in
            let bv = b[key], nv = n[key]
            let verdict: Verdict = bv == nil || nv == nil ? .missing : (bv == nv ? .ok : .changed)
            return Row(metric: key, kind: .counter, baseline: bv, now: nv, verdict: verdict)
        }
    }

    static func sampleRows(_ b: [String: ComparedFigures.Sample], _ n: [String: ComparedFigures.Sample],
                           kind: Kind, rule: SampleRule) -> [Row] {
        Set(b.keys).union(n.keys).map { key in
            guard let bs = b[key], let ns = n[key] else {
                let one = b[key] ?? n[key]!
                return Row(metric: key, kind: kind, baseline: b[key].flatMap { SampleRule.median($0.values) },
                           now: n[key].flatMap { SampleRule.median($0.values) },
                           verdict: one.unusable != nil ? .notJudged(one.unusable!) : .missing)
            }
            if let why = bs.unusable ?? ns.unusable {
                let side = bs.unusable != nil ? "baseline" : "this result"
                return Row(metric: key, kind: kind, baseline: SampleRule.median(bs.values), now: SampleRule.median(ns.values),
                           verdict: .notJudged("\(side): \(why)"))
            }
            let j = rule.judge(baseline: bs.values, now: ns.values, higherIsBetter: bs.higherIsBetter)
            let verdict: Verdict
            switch j.outcome {
            case .ok: verdict = .ok
            case .regression: verdict = .regression
            case .improved: verdict = .improved
            case .notJudged(let why): verdict = .notJudged(why)
            }
            return Row(metric: key, kind: kind, baseline: j.baselineMedian, now: j.nowMedian, verdict: verdict, change: j.change, p: j.p)
        }
    }
}
