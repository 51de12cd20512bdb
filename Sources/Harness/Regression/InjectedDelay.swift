import KernelMM

/// `run --inject-delay D`: a power check for a regression gate. Every CPU spends D of busy
/// time after each operation, outside the allocators and outside the timed latency region, so
/// the run is a known slowdown of the same config: comparing it with a baseline without the
/// delay shows whether the gate catches a slowdown of that size. The delay is recorded in the
/// result and left out of the config's identity for that reason.
enum InjectedDelay {
    /// Sets every worker's delay, in TSC ticks (calibrated against the monotonic clock), less
    /// what one read of the counter costs: the spin overshoots its end by about one read, which
    /// on a VM is 10-20 ns, as much as the smallest delays worth asking for.
    static func apply(_ ns: UInt64, to workers: [CPUWorker]) {
        guard ns > 0 else { return }
        let wanted = Double(ns) / Clock.nsPerTick
        let ticks = max(UInt64((wanted - readCostTicks()).rounded()), 1)
        for w in workers { w.delayTicks = ticks }
    }

    /// Ticks one `Clock.ticks()` takes, the smallest mean over a few batches (a preempted
    /// batch is dropped that way).
    static func readCostTicks() -> Double {
        var best = Double.infinity
        for _ in 0..<5 {
            let t0 = Clock.ticks()
            var last = t0
            for _ in 0..<1000 { last = Clock.ticks() }
            best = min(best, Double(last &- t0) / 1000)
        }
        return best
    }
}

extension CPUWorker {
    /// Spins on the TSC for `delayTicks`. Out of line: the per-operation path carries only the
    /// test of a zero word when no delay is asked for. No pause in the loop: on some cores one
    /// pause takes longer than the shortest delays worth asking for.
    @inline(never) func spinInjectedDelay() {
        let end = Clock.ticks() &+ delayTicks
        while Clock.ticks() < end {}
    }
}
