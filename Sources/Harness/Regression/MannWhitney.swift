import Foundation

/// The Mann–Whitney U test (Wilcoxon rank-sum test) of two independent samples, two-sided.
///
/// Why this test: repetitions of a timed run are few (5 to 20) and their noise is not normal
/// (a busy neighbour makes a few repetitions much slower, never faster), so a test on ranks
/// that assumes no distribution fits better than a t-test. It asks whether one sample tends to
/// hold larger values than the other; how large the change is, is judged separately (see
/// `SampleVerdict`).
///
/// p-values: exact (the permutation distribution of the rank sum, ties included) when both
/// samples together hold at most `exactLimit` values; otherwise the normal approximation with
/// the tie correction of the variance and a continuity correction of 1/2.
public struct MannWhitney: Sendable, Equatable {
    /// U of the first sample: the number of pairs (x, y) with x > y, a tie counting 1/2.
    public var u: Double
    /// Two-sided p-value: how likely a rank split at least this uneven is when both samples
    /// come from the same distribution.
    public var p: Double
    /// True when `p` comes from the exact distribution, false for the normal approximation.
    public var exact: Bool

    public static let defaultExactLimit = 40

    public init(_ x: [Double], _ y: [Double], exactLimit: Int = MannWhitney.defaultExactLimit) {
        precondition(!x.isEmpty && !y.isEmpty, "the U test needs values on both sides")
        let ranks = Self.midRanks(x + y)
        let n1 = Double(x.count), n2 = Double(y.count)
        let rankSum = ranks.prefix(x.count).reduce(0, +)
        u = rankSum - n1 * (n1 + 1) / 2
        if x.count + y.count <= exactLimit {
            // Ranks doubled are whole numbers even with ties (a tie's mid-rank ends in .5).
            let doubled = ranks.map { Int(($0 * 2).rounded()) }
            let dist = RankSumDistribution(doubledRanks: doubled, firstSize: x.count)
            let observed = Int((rankSum * 2).rounded())
            p = min(1, 2 * min(dist.probability(atMost: observed), dist.probability(atLeast: observed)))
            exact = true
        } else {
            p = Self.normalP(u: u, n1: n1, n2: n2, ranks: ranks)
            exact = false
        }
    }

    /// Ranks from 1 of the pooled values in their original order; tied values share the mean
    /// of the ranks they span.
    static func midRanks(_ values: [Double]) -> [Double] {
        let order = values.indices.sorted { values[$0] < values[$1] }
        var ranks = Array(repeating: 0.0, count: values.count)
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && values[order[j + 1]] == values[order[i]] { j += 1 }
            let mid = Double(i + j) / 2 + 1
            for k in i...j { ranks[order[k]] = mid }
            i = j + 1
        }
        return ranks
    }

    /// Normal approximation: U has mean n1·n2/2 and, with ties, variance
    /// n1·n2/12 · ((N+1) − Σ(t³−t)/(N(N−1))) over the tie groups t.
    static func normalP(u: Double, n1: Double, n2: Double, ranks: [Double]) -> Double {
        let n = n1 + n2
        var groups: [Double: Double] = [:]
        for r in ranks { groups[r, default: 0] += 1 }
        let tieTerm = groups.values.reduce(0) { $0 + ($1 * $1 * $1 - $1) }
        let variance = n1 * n2 / 12 * ((n + 1) - tieTerm / (n * (n - 1)))
        guard variance > 0 else { return 1 }   // every value equal: nothing tells the samples apart
        let z = max(0, abs(u - n1 * n2 / 2) - 0.5) / variance.squareRoot()
        return min(1, erfc(z / 2.0.squareRoot()))
    }

    /// The smallest two-sided p-value samples of these sizes can give: both split completely,
    /// 2 / C(n1+n2, n1). With fewer repetitions than it takes to get below α, no timing can be
    /// judged, however large the change.
    public static func smallestP(_ n1: Int, _ n2: Int) -> Double {
        guard n1 > 0 && n2 > 0 else { return 1 }
        var c = 1.0
        for k in 0..<min(n1, n2) { c = c * Double(n1 + n2 - k) / Double(k + 1) }
        return min(1, 2 / c)
    }
}
