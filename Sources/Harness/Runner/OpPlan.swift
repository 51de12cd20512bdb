import KernelMM

/// A workload's operation and its settings flattened to plain values before the run, so the
/// per-operation path copies no arrays or strings (no reference counting per operation).
struct OpPlan {
    var kind: OpKind
    var size: DrawPlan
    var order: DrawPlan
    var cacheIndex: Int
    /// Index into the part's `ops` (mmap needs its protection and policy from there).
    var index: Int
}

/// `Distribution` as plain values: weighted tables live in memory the worker owns.
struct DrawPlan {
    var lo: Int
    var hi: Int
    /// Uniform draws consume the generator even when lo == hi (replays stay identical).
    var uniform: Bool
    /// Weighted: `count` (value, cumulative weight) pairs; nil for fixed and uniform.
    var table: UnsafeMutablePointer<(value: Int, cumulative: Double)>?
    var count: Int

    /// The table, when there is one, is allocated here and freed by `release()`.
    init(_ d: Distribution) {
        switch d {
        case .fixed(let v): lo = v; hi = v; uniform = false; table = nil; count = 0
        case .uniform(let a, let b): lo = a; hi = b; uniform = true; table = nil; count = 0
        case .weighted(let list):
            lo = 0; hi = 0; uniform = false; count = list.count
            let t = UnsafeMutablePointer<(value: Int, cumulative: Double)>.allocate(capacity: max(list.count, 1))
            var sum = 0.0
            for (i, e) in list.enumerated() { sum += e.weight; t[i] = (e.value, sum) }
            table = t
        }
    }

    func release() { table?.deallocate() }

    @inline(__always) func draw(_ rng: inout SplitMix) -> Int {
        guard let t = table else { return uniform ? lo + rng.below(hi - lo + 1) : lo }
        let x = rng.unit() * t[count - 1].cumulative
        for i in 0..<count where x < t[i].cumulative { return t[i].value }
        return t[count - 1].value
    }
}
