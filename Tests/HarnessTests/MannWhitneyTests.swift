import Testing
@testable import Harness

/// The U test on fixed samples. Expected values were computed outside this code base with
/// SciPy 1.17 (`scipy.stats.mannwhitneyu`, method "exact" or "asymptotic"); the tied samples'
/// exact p-values by enumerating every split of the pooled ranks in Python
/// (itertools.combinations), and 2/C(n1+n2, n1) by hand.
@Suite struct MannWhitneyTests {
    func close(_ a: Double, _ b: Double, _ tol: Double = 1e-9) -> Bool { abs(a - b) <= tol * max(1, abs(b)) }

    @Test("Exact p-values without ties match SciPy's exact method")
    func exactNoTies() {
        let cases: [([Double], [Double], u: Double, p: Double)] = [
            ([1, 2, 3, 4, 5], [6, 7, 8, 9, 10], 0, 0.007936507936507936),       // 2/252
            ([1.1, 2.3, 3.5, 4.2, 5.9], [2.0, 4.4, 6.1, 7.3, 8.8], 5, 0.15079365079365079),
            ([10, 11, 12, 13], [14, 15, 16, 17], 0, 0.02857142857142857),       // 2/70
            ([1, 2, 3], [4, 5, 6], 0, 0.1),                                      // 2/20
            ([3.1, 4.5, 2.2], [5.5, 6.1, 7.0, 8.2, 9.9, 1.0], 3, 0.16666666666666666),
            ([1.3, 2.9, 3.1, 4.8, 5.2, 6.6, 7.1, 8.4, 9.0, 10.5],
             [2.1, 4.1, 5.9, 7.7, 8.8, 9.5, 11.2, 12.6, 13.3, 14.0], 27, 0.08920955205784928),
        ]
        for c in cases {
            let t = MannWhitney(c.0, c.1)
            #expect(t.exact)
            #expect(t.u == c.u, "U of \(c.0) vs \(c.1)")
            #expect(close(t.p, c.p), "p of \(c.0) vs \(c.1): \(t.p), expected \(c.p)")
            // The test is symmetric: swapping the samples gives U' = n1·n2 − U and the same p.
            let s = MannWhitney(c.1, c.0)
            #expect(s.u == Double(c.0.count * c.1.count) - c.u)
            #expect(close(s.p, c.p))
        }
    }

    @Test("Exact p-values with ties are the permutation distribution of the mid-ranks")
    func exactWithTies() {
        let a = MannWhitney([24, 24, 25, 24, 26], [27, 27, 28, 26, 27])
        #expect(a.exact && a.u == 0.5)
        #expect(close(a.p, 0.015873015873015872))   // 4 of 252 splits at least as uneven, ×2
        let b = MannWhitney([5, 5, 5, 6, 6], [5, 6, 6, 6, 7])
        #expect(b.u == 6.5)
        #expect(close(b.p, 0.36507936507936506))
        // Nothing to tell apart: every value equal.
        #expect(MannWhitney([3, 3, 3], [3, 3, 3, 3]).p == 1)
    }

    @Test("Large samples use the normal approximation with tie and continuity corrections, as SciPy's asymptotic method")
    func normalApproximation() {
        let x: [Double] = [11, 12, 11, 7, 12, 11, 9, 11, 11, 11, 10, 11, 9, 10, 9, 11, 10, 9, 8, 9, 10, 9, 13, 12, 5]
        let y: [Double] = [7, 11, 10, 11, 11, 15, 9, 10, 15, 12, 12, 10, 8, 11, 11, 9, 10, 11, 9, 11, 11, 11, 10, 12, 13, 12, 9, 12, 10, 13]
        let t = MannWhitney(x, y)
        #expect(!t.exact)
        #expect(t.u == 291.5)
        #expect(close(t.p, 0.15118806482565447, 1e-7))
        let xs = (0..<21).map { Double($0) * 0.5 }, ys = (0..<22).map { Double($0) * 0.5 + 3.3 }
        let u = MannWhitney(xs, ys)
        #expect(!u.exact && u.u == 105)
        #expect(close(u.p, 0.002294457105037918, 1e-7))
        #expect(MannWhitney([2, 2, 2], [2, 2, 2], exactLimit: 0).p == 1)
    }

    @Test("The smallest reachable p-value is 2 / C(n1+n2, n1)")
    func smallestP() {
        #expect(close(MannWhitney.smallestP(3, 3), 0.1))
        #expect(close(MannWhitney.smallestP(4, 4), 2.0 / 70))
        #expect(close(MannWhitney.smallestP(5, 5), 2.0 / 252))
        #expect(close(MannWhitney.smallestP(3, 5), 2.0 / 56))
        #expect(MannWhitney.smallestP(1, 1) == 1)
        #expect(MannWhitney.smallestP(0, 5) == 1)
    }

    @Test("A verdict needs both significance and a change beyond the threshold")
    func sampleRule() {
        let rule = SampleRule(threshold: 0.10)
        let base: [Double] = [100, 101, 99, 100.5, 99.5]
        // 20 % slower, every repetition: significant and large.
        let slow = rule.judge(baseline: base, now: base.map { $0 * 0.8 }, higherIsBetter: true)
        #expect(slow.outcome == .regression)
        #expect(close(slow.p!, 2.0 / 252) && close(slow.change!, -0.2))
        // Significant but small (3 %): ok.
        #expect(rule.judge(baseline: base, now: base.map { $0 * 0.97 }, higherIsBetter: true).outcome == .ok)
        // Large median change but not significant (samples overlap): ok.
        let noisy = rule.judge(baseline: [100, 60, 140, 100, 95], now: [80, 130, 50, 85, 120], higherIsBetter: true)
        #expect(noisy.outcome == .ok && noisy.p! > 0.05)
        // Faster: improved; for a lower-is-better figure the same move is a regression.
        #expect(rule.judge(baseline: base, now: base.map { $0 * 1.2 }, higherIsBetter: true).outcome == .improved)
        #expect(rule.judge(baseline: base, now: base.map { $0 * 1.2 }, higherIsBetter: false).outcome == .regression)
        // Too few repetitions to ever reach p < 0.05: said, not judged.
        if case .notJudged(let why) = rule.judge(baseline: [1, 2, 3], now: [7, 8, 9], higherIsBetter: true).outcome {
            #expect(why.contains("3 vs 3") && why.contains("--repetitions 5"))
        } else { Issue.record("3 vs 3 repetitions were judged") }
        // The floor keeps a move between tiny ratios from counting as a large change.
        let floored = SampleRule(threshold: 0.10, floor: 0.01)
        let tiny = floored.judge(baseline: [0.0001, 0.00011, 0.0001, 0.00009, 0.0001], now: [0.0002, 0.00021, 0.0002, 0.00019, 0.0002],
                                 higherIsBetter: false)
        #expect(tiny.outcome == .ok && close(tiny.change!, 0.01))
    }
}
