/// The exact distribution of the rank sum of the first sample when the pooled values are split
/// at random into samples of the given sizes: the permutation distribution the U test refers
/// to. Ties are handled exactly because the ranks used are the pooled sample's own mid-ranks.
///
/// Counted by dynamic programming over the pooled values: `ways[k][s]` is the number of ways
/// to pick k of the values seen so far with doubled rank sum s. Sizes up to a few dozen values
/// take well under a millisecond.
struct RankSumDistribution {
    /// `probability[s]`: chance that the doubled rank sum of the first sample is s.
    private let probability: [Double]

    init(doubledRanks: [Int], firstSize: Int) {
        let total = doubledRanks.reduce(0, +)
        var ways = Array(repeating: Array(repeating: 0.0, count: total + 1), count: firstSize + 1)
        ways[0][0] = 1
        for r in doubledRanks {
            // Downwards, so each value is picked at most once.
            for k in stride(from: firstSize, through: 1, by: -1) {
                for s in stride(from: total, through: r, by: -1) where ways[k - 1][s - r] != 0 {
                    ways[k][s] += ways[k - 1][s - r]
                }
            }
        }
        let splits = ways[firstSize].reduce(0, +)
        probability = ways[firstSize].map { $0 / splits }
    }

    func probability(atMost s: Int) -> Double {
        guard s >= 0 else { return 0 }
        return probability[...min(s, probability.count - 1)].reduce(0, +)
    }

    func probability(atLeast s: Int) -> Double {
        guard s < probability.count else { return 0 }
        return probability[max(s, 0)...].reduce(0, +)
    }
}
