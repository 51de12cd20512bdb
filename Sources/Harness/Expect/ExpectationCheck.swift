/// Checks a config's `expect:` lines against what its run (or its variants' runs) measured.
public enum ExpectationCheck {
    /// A plain run: every line once, against its figures.
    public static func check(_ config: StressConfig, result: RunResult) -> [ExpectationOutcome] {
        let figures = Figures(result, userCaches: config.caches.map(\.name))
        return config.expectations.map { $0.check(current: nil) { _ in figures } }
    }

    /// Variants: a line whose figures all name a variant is checked once; a line without
    /// variant names is checked in each variant. A variant that did not run has no figures,
    /// so lines that need it fail as "not measured".
    public static func check(_ config: StressConfig, variants: [(name: String, result: RunResult)]) -> [ExpectationOutcome] {
        var figures: [String: Figures] = [:]
        for (name, r) in variants {
            let caches = config.variants.first { $0.name == name }?.config.caches.map(\.name) ?? config.caches.map(\.name)
            figures[name] = Figures(r, userCaches: caches)
        }
        return config.expectations.flatMap { e -> [ExpectationOutcome] in
            if e.isCrossVariant { return [e.check(current: nil) { $0.flatMap { figures[$0] } }] }
            return config.variants.map { v in e.check(current: v.name) { $0.flatMap { figures[$0] } } }
        }
    }

    /// Lines for the summary, `PASS  atomic.sleeps == 0   (0 == 0)`, and the verdict line
    /// (`expectations: all 5 PASS` or `expectations: 1 of 5 FAILED`).
    public static func lines(_ outcomes: [ExpectationOutcome]) -> String {
        let each = outcomes.map { o in
            (o.passed ? "PASS  " : "FAIL  ") + (o.variant.map { "[\($0)] " } ?? "") + o.text + "   (\(o.measured))\n"
        }.joined()
        let failed = outcomes.filter { !$0.passed }.count
        return each + (failed == 0 ? "expectations: all \(outcomes.count) PASS\n" : "expectations: \(failed) of \(outcomes.count) FAILED\n")
    }

    static func format(_ x: Double?) -> String {
        guard let x else { return "?" }
        if x == x.rounded() && abs(x) < 1e15 { return String(Int64(x)) }
        return String(format: "%.4g", x)
    }
}

import Foundation

extension ExpectationOutcome {
    /// Both sides as measured, `4332 > 0`, or why the line could not be decided.
    public var measured: String {
        note ?? "\(ExpectationCheck.format(lhs)) \(comparison ?? "vs") \(ExpectationCheck.format(rhs))"
    }
}
