import KernelMM

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
