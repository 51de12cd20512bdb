/// SplitMix64: a small, fast, seedable generator, so a seed replays the same operations.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    @inline(__always) mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in 0..<n.
    @inline(__always) mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }

    /// Uniform in [0, 1).
    @inline(__always) mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

extension Distribution {
    func draw(_ rng: inout SplitMix) -> Int {
        switch self {
        case .fixed(let v): return v
        case .uniform(let lo, let hi): return lo + rng.below(hi - lo + 1)
        case .weighted(let list):
            let total = list.reduce(0) { $0 + $1.weight }
            var x = rng.unit() * total
            for e in list { x -= e.weight; if x < 0 { return e.value } }
            return list.last?.value ?? 0
        }
    }
}
