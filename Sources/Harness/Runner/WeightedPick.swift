import KernelMM

/// A workload's weighted operation draw in integers: the pick `rng.unit() * total` against the
/// cumulative weights always made, found without a floating-point conversion and without a
/// branch on the drawn value. Harness plumbing, no kernel counterpart.
///
/// Why: the per-operation draw sat on the critical path of every operation — a 53-bit draw
/// converted to a double, two multiplies, then a search whose compare-and-branch mispredicts
/// about once per level when the mix is random. The threshold of each entry is found once,
/// before the run: the smallest 53-bit draw `m` for which the floating-point expression no
/// longer falls below that entry's cumulative weight. The expression is monotone in `m`, so
/// "m ≥ threshold" holds exactly when the old comparison failed, and every seeded run draws
/// the operations it drew before.
struct WeightedPick {
    /// `count - 1` nondecreasing thresholds (the last entry takes what is left).
    private let thresholds: UnsafeMutablePointer<UInt64>
    let count: Int

    /// The draw is the generator's top 53 bits (as `SplitMix.unit()` takes them).
    static let drawBits = 53

    init(cumulative: [Double]) {
        count = cumulative.count
        thresholds = .allocate(capacity: max(count - 1, 1))
        guard let total = cumulative.last else { return }
        for i in 0..<(count - 1) { thresholds[i] = Self.threshold(cumulative[i], total: total) }
    }

    func deallocate() { thresholds.deallocate() }

    /// The point the floating-point draw compares, for a 53-bit draw `m` (exactly as before).
    @inline(__always) static func point(_ m: UInt64, total: Double) -> Double {
        Double(m) / Double(UInt64(1) << drawBits) * total
    }

    /// The smallest `m` whose point is not below `c` (2^53, never drawn, when none is).
    static func threshold(_ c: Double, total: Double) -> UInt64 {
        var lo: UInt64 = 0, hi: UInt64 = 1 << drawBits
        while lo < hi {
            let mid = lo + (hi - lo) / 2
            if point(mid, total: total) < c { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// The entry for the next draw; consumes one generator step whatever the mix.
    @inline(__always) func pick(_ rng: inout SplitMix) -> Int {
        let m = rng.next() >> UInt64(64 - Self.drawBits)
        return index(m)
    }

    /// How many thresholds `m` reaches, by a select-only halving: both values are below 2^63,
    /// so the sign of `m - threshold` is the comparison, taken as a mask.
    @inline(__always) func index(_ m: UInt64) -> Int {
        var base = 0, len = count &- 1
        while len > 0 {
            let half = len &>> 1
            let below = Int(truncatingIfNeeded: (Int64(bitPattern: m) &- Int64(bitPattern: thresholds[base &+ half])) &>> 63)
            let reached = ~below   // all ones when m >= the threshold
            base &+= (half &+ 1) & reached
            len = half &+ ((len &- half &- half &- 1) & reached)
        }
        return base
    }
}
