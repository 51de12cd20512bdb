import KernelMM

/// When the next operation is timed: `run.sample_rate` N times one operation in N on average,
/// at gaps drawn uniformly from 1…2N−1 (harness plumbing, no kernel counterpart).
///
/// Why drawn and not fixed: workloads are periodic — a kmalloc-64 slab holds 64 objects, a
/// FIFO window of K frees its object K operations later — and a fixed gap that shares a factor
/// with such a period times the same phase of it every time, so a slow path that comes once a
/// slab is always or never in the percentiles. Drawn gaps land on every phase.
///
/// The gaps come from their own generator, seeded from the run's seed and the CPU, so drawing
/// them moves nothing the operations draw: seeded runs keep their counters.
struct SampleInterval {
    private var rng: SplitMix
    /// 2N−1: the gap is 1 + a draw below it (N = 1: every operation, no draw needed).
    private let span: Int

    init(rate: Int, seed: UInt64, cpu: Int) {
        span = max(2 * rate - 1, 1)
        rng = SplitMix(seed: (seed ^ 0x5A4D_504C_4547_4150) &+ UInt64(cpu) &* 0xD1B5_4A32_D192_ED03)
    }

    /// The number of operations up to and including the next timed one (at least 1).
    mutating func next() -> Int { span == 1 ? 1 : 1 + rng.below(span) }
}
