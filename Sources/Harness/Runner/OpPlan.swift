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

    /// The size (kmalloc, vmalloc, mmap) or order (alloc_pages) of the next operation; nothing
    /// is drawn for kmem_cache_alloc, so the generator's sequence is what it always was. `kind`
    /// is this plan's kind, passed in so that a copy of the path specialized for it folds the
    /// switch instead of branching on the stored kind again.
    @inline(__always) func drawArgument(as kind: OpKind, _ rng: inout SplitMix) -> Int {
        switch kind {
        case .kmalloc, .vmalloc, .mmap: return size.draw(&rng)
        case .allocPages: return order.draw(&rng)
        default: return 0
        }
    }
}

/// Which kind a copy of the per-operation path (`CPUWorker.produce`, `release`, `free`) handles:
/// a constant for the two slab kinds (each gets its own specialized copy, with no switch on the
/// kind left in it), the kind the plan or record holds for the rest.
protocol OpKindChoice { static func kind(_ held: OpKind) -> OpKind }

enum KmallocChoice: OpKindChoice {
    @inline(__always) static func kind(_: OpKind) -> OpKind { .kmalloc }
}

enum CacheAllocChoice: OpKindChoice {
    @inline(__always) static func kind(_: OpKind) -> OpKind { .kmemCacheAlloc }
}

enum HeldChoice: OpKindChoice {
    @inline(__always) static func kind(_ held: OpKind) -> OpKind { held }
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
        return t[CumulativeSearch.first(above: x, count: count) { t[$0].cumulative }].value
    }
}

/// The first entry of a cumulative weight table above a drawn point, by binary search: the same
/// pick as a scan from the front (so seeded runs replay), in O(log n) for tables of thousands.
/// (Weighted sizes and orders; the operation draw itself is a `WeightedPick`.)
enum CumulativeSearch {
    @inline(__always)
    static func first(above x: Double, count: Int, _ cumulative: (Int) -> Double) -> Int {
        var lo = 0, hi = count - 1
        while lo < hi {
            let mid = (lo + hi) >> 1
            if x < cumulative(mid) { hi = mid } else { lo = mid + 1 }
        }
        return lo
    }
}
