import CArch

/// `might_sleep()` (kernel/sched/core.c `__might_resched`) and `might_alloc()`
/// (include/linux/sched/mm.h): the CONFIG_DEBUG_ATOMIC_SLEEP checks at the top of every entry
/// that may sleep. They fire on every call from atomic context, whether or not this call
/// would really have slept, which is what makes them catch a bug on the quiet path too.
///
/// Deliberate differences from Linux 6.12: `__might_resched` prints at most one report a
/// second (a static `prev_jiffy`); the model reports every call, so that each injected fault
/// has its report. An entry that calls another checked entry on the caller's behalf (kmalloc →
/// the page allocator, vmalloc → its pages) checks once, at the outer entry, instead of
/// relying on the rate limit to hide the second report.
extension CPUContext {
    /// The condition of `might_alloc(gfp)`, for fast paths that outline the report themselves.
    @inlinable @inline(__always)
    public func sleepForbidden(_ gfp: GFP) -> Bool { gfp.allowsBlocking && hot.pointee.preemptCount > 0 }

    /// `might_alloc(gfp)`: an allocation that may enter direct reclaim must not be in atomic
    /// context. Inline and branch-light: it sits on every allocation fast path.
    @inlinable @inline(__always)
    public func mightAlloc(_ gfp: GFP, log: KernelLog, at site: StaticString) {
        if _slowPath(gfp.allowsBlocking && hot.pointee.preemptCount > 0) { log.reportSleepInAtomic(self, at: "\(site)") }
    }

    /// `might_sleep()`: the caller is about to do something that may sleep.
    @inlinable @inline(__always)
    public func mightSleep(log: KernelLog, at site: StaticString) {
        if _slowPath(hot.pointee.preemptCount > 0) { log.reportSleepInAtomic(self, at: "\(site)") }
    }
}

extension KernelLog {
    /// The report `__might_resched()` prints, into the log and (as data) to the observer.
    @usableFromInline @inline(never)
    func reportSleepInAtomic(_ cpu: CPUContext, at site: String) {
        report(.sleepInAtomic, """
            BUG: sleeping function called from invalid context at \(site)
            in_atomic(): 1, irqs_disabled(): \(cpu.inInterrupt ? 1 : 0), non_block: 0, pid: \(arch_gettid()), name: cpu\(cpu.id)
            preempt_count: \(cpu.preemptCount), expected: 0
            """, debug: DebugReport(kind: .sleepInAtomic, cpu: cpu.id, address: 0))
    }
}
