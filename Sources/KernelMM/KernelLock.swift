import CArch
import Foundation

/// One lock with a selectable policy behind one interface: `spin_lock_irqsave()` (test and
/// test-and-set with PAUSE and exponential backoff, never sleeps) or `mutex_lock()` (a
/// `pthread_mutex_t` in allocated memory that sleeps in the OS under contention).
///
/// A caller that may not sleep (no `__GFP_DIRECT_RECLAIM`) never blocks on the mutex: it spins
/// on trylock. A caller that would sleep while inside an atomic section gets the kernel's
/// "BUG: sleeping function called from invalid context" report and spins instead.
///
/// The class owns the memory; hot paths use `core`, a plain struct of pointers that costs no
/// reference counting to pass around.
public final class KernelLock: @unchecked Sendable {
    public let name: String
    public let core: LockCore
    let log: KernelLog?

    public var policy: LockPolicy { core.policy }

    public init(name: String, policy: LockPolicy, log: KernelLog? = nil) {
        precondition(policy != .atomic, "the atomic policy is not a lock (AtomicBuddy)")
        self.name = name
        self.log = log
        // Each lock word on its own cache line, so that two zones' locks never false-share.
        let raw = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: 64)
        let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        let stats = UnsafeMutablePointer<LockStats>.allocate(capacity: 1)
        stats.initialize(to: LockStats())
        let waitHist = UnsafeMutablePointer<UInt64>.allocate(capacity: LockStats.buckets)
        waitHist.initialize(repeating: 0, count: LockStats.buckets)
        let holdHist = UnsafeMutablePointer<UInt64>.allocate(capacity: LockStats.buckets)
        holdHist.initialize(repeating: 0, count: LockStats.buckets)
        core = LockCore(policy: policy, word: raw.bindMemory(to: UInt32.self, capacity: 1), mutex: mutex,
                        stats: stats, waitHist: waitHist, holdHist: holdHist, owner: nil)
        core.ownerSlot.pointee = Unmanaged.passUnretained(self)
    }

    deinit {
        pthread_mutex_destroy(core.mutex)
        core.mutex.deallocate()
        UnsafeMutableRawPointer(core.word).deallocate()
        core.stats.deallocate(); core.waitHist.deallocate(); core.holdHist.deallocate()
        core.ownerSlot.deallocate()
    }

    @inline(__always) public func lock(mayBlock: Bool, cpu: CPUContext?) { core.lock(mayBlock: mayBlock, cpu: cpu) }
    @inline(__always) public func tryLock(cpu: CPUContext?) -> Bool { core.tryLock(cpu: cpu) }
    @inline(__always) public func unlock(cpu: CPUContext?) { core.unlock(cpu: cpu) }

    /// Runs `body` with the lock held.
    @inline(__always)
    public func withLock<R>(mayBlock: Bool, cpu: CPUContext?, _ body: () throws -> R) rethrows -> R {
        core.lock(mayBlock: mayBlock, cpu: cpu)
        defer { core.unlock(cpu: cpu) }
        return try body()
    }

    func reportSleepInAtomic(_ cpu: CPUContext) { log?.reportSleepInAtomic(cpu, at: name) }

    /// The figures now, in nanoseconds: read under the lock itself (taken without being
    /// counted), so that a background user such as kswapd never races the reader.
    public func snapshot() -> LockSnapshot {
        core.acquireUncounted()
        let s = core.stats.pointee
        let wait = (0..<LockStats.buckets).map { core.waitHist[$0] }
        let hold = (0..<LockStats.buckets).map { core.holdHist[$0] }
        core.releaseUncounted()
        let toNS = { (t: UInt64) in Clock.ns(ticks: t) }
        // Re-bucket tick histograms on nanosecond boundaries via each bucket's lower bound.
        func nsHist(_ h: [UInt64]) -> [UInt64] {
            var out = [UInt64](repeating: 0, count: LockStats.buckets)
            for i in 0..<LockStats.buckets where h[i] > 0 {
                let lowTicks: UInt64 = i == 0 ? 0 : 1 << UInt64(i - 1)
                out[LockCore.bucket(toNS(lowTicks))] += h[i]
            }
            return out
        }
        return LockSnapshot(name: name, policy: policy, acquisitions: s.acquisitions, contended: s.contended,
                            spins: s.spins, sleeps: s.sleeps, waitNS: toNS(s.waitTicks), holdNS: toNS(s.holdTicks),
                            maxWaitNS: toNS(s.maxWaitTicks), maxHoldNS: toNS(s.maxHoldTicks),
                            waitHistogram: nsHist(wait), holdHistogram: nsHist(hold))
    }

    /// Clears the figures (between warm-up and the measured phase).
    public func resetStats() {
        core.acquireUncounted()
        core.stats.pointee = LockStats()
        core.waitHist.update(repeating: 0, count: LockStats.buckets)
        core.holdHist.update(repeating: 0, count: LockStats.buckets)
        core.releaseUncounted()
    }
}

/// The lock itself: policy and pointers to the lock word, the pthread mutex and the figures.
/// Copying it copies pointers only.
public struct LockCore: @unchecked Sendable {
    public let policy: LockPolicy
    @usableFromInline let word: UnsafeMutablePointer<UInt32>
    @usableFromInline let mutex: UnsafeMutablePointer<pthread_mutex_t>
    @usableFromInline let stats: UnsafeMutablePointer<LockStats>
    @usableFromInline let waitHist: UnsafeMutablePointer<UInt64>
    @usableFromInline let holdHist: UnsafeMutablePointer<UInt64>
    /// The owning class, for the rare reports that need its name and log.
    let ownerSlot: UnsafeMutablePointer<Unmanaged<KernelLock>?>

    init(policy: LockPolicy, word: UnsafeMutablePointer<UInt32>, mutex: UnsafeMutablePointer<pthread_mutex_t>,
         stats: UnsafeMutablePointer<LockStats>, waitHist: UnsafeMutablePointer<UInt64>,
         holdHist: UnsafeMutablePointer<UInt64>, owner: Unmanaged<KernelLock>?) {
        self.policy = policy; self.word = word; self.mutex = mutex; self.stats = stats
        self.waitHist = waitHist; self.holdHist = holdHist
        ownerSlot = .allocate(capacity: 1)
        ownerSlot.initialize(to: owner)
    }

    /// Takes the lock. `mayBlock` says whether the caller may sleep (its GFP has
    /// `__GFP_DIRECT_RECLAIM`); `cpu` (when known) is checked for an atomic section and, for
    /// the spin policy, is put into one while the lock is held, as spin_lock disables preemption.
    @inline(__always)
    public func lock(mayBlock: Bool, cpu: CPUContext?) {
        arch_shake(1)
        let t0 = Clock.ticks()
        var contended = false, spins: UInt64 = 0, slept = false
        if policy == .spin {
            if !trySpin() { contended = true; spins = spinUntilAcquired() }
            if let cpu { cpu.hot.pointee.preemptCount += 1 }
        } else {
            // `mutex_lock()` begins with might_sleep(): a caller that claims it may sleep while
            // in atomic context is reported on every call, contended or not.
            let atomic = cpu?.inAtomic == true
            if mayBlock && atomic { reportSleepInAtomic(cpu!) }
            if pthread_mutex_trylock(mutex) != 0 {
                contended = true
                if mayBlock && !atomic { pthread_mutex_lock(mutex); slept = true } else { spins = spinOnTrylock() }
            }
        }
        arch_shake(2)
        let t1 = Clock.ticks()
        stats.pointee.acquisitions &+= 1
        stats.pointee.acquiredAt = t1
        if contended {
            recordContention(wait: t1 &- t0, spins: spins, slept: slept)
        } else {
            waitHist[0] &+= 1
        }
    }

    @inline(never) func recordContention(wait: UInt64, spins: UInt64, slept: Bool) {
        let s = stats
        s.pointee.contended &+= 1
        s.pointee.spins &+= spins
        if slept { s.pointee.sleeps &+= 1 }
        s.pointee.waitTicks &+= wait
        if wait > s.pointee.maxWaitTicks { s.pointee.maxWaitTicks = wait }
        waitHist[Self.bucket(wait)] &+= 1
    }

    /// Tries once; never waits. Counts an acquisition on success.
    @inline(__always)
    public func tryLock(cpu: CPUContext?) -> Bool {
        let ok = policy == .spin ? trySpin() : pthread_mutex_trylock(mutex) == 0
        if ok {
            if policy == .spin, let cpu { cpu.hot.pointee.preemptCount += 1 }
            stats.pointee.acquisitions &+= 1
            stats.pointee.acquiredAt = Clock.ticks()
            waitHist[0] &+= 1
        }
        return ok
    }

    @inline(__always)
    public func unlock(cpu: CPUContext?) {
        arch_shake(3)
        let hold = Clock.ticks() &- stats.pointee.acquiredAt
        stats.pointee.holdTicks &+= hold
        if hold > stats.pointee.maxHoldTicks { stats.pointee.maxHoldTicks = hold }
        holdHist[Self.bucket(hold)] &+= 1
        if policy == .spin {
            arch_store_release_u32(word, 0)
            if let cpu { cpu.hot.pointee.preemptCount -= 1 }
        } else {
            pthread_mutex_unlock(mutex)
        }
    }

    /// Takes the lock without touching the figures (for reading or clearing them).
    func acquireUncounted() {
        if policy == .spin { if !trySpin() { _ = spinUntilAcquired() } } else { pthread_mutex_lock(mutex) }
    }

    func releaseUncounted() {
        if policy == .spin { arch_store_release_u32(word, 0) } else { pthread_mutex_unlock(mutex) }
    }

    @inline(__always) func trySpin() -> Bool {
        var expected: UInt32 = 0
        return arch_cmpxchg_u32(word, &expected, 1)
    }

    /// Test-and-test-and-set: read until free (no cache-line ping-pong), then try; PAUSE with
    /// exponential backoff between reads.
    @inline(never) func spinUntilAcquired() -> UInt64 {
        var spins: UInt64 = 0, backoff = 1
        while true {
            while arch_load_relaxed_u32(word) != 0 {
                for _ in 0..<backoff { arch_cpu_relax() }
                spins &+= UInt64(backoff)
                if backoff < 64 { backoff <<= 1 }
                if spins & 0xFFF == 0 { sched_yield() }  // oversubscribed hosts: let the holder run
            }
            if trySpin() { return spins }
        }
    }

    @inline(never) func spinOnTrylock() -> UInt64 {
        var spins: UInt64 = 0, backoff = 1
        while pthread_mutex_trylock(mutex) != 0 {
            for _ in 0..<backoff { arch_cpu_relax() }
            spins &+= UInt64(backoff)
            if backoff < 64 { backoff <<= 1 } else { sched_yield() }
        }
        return spins
    }

    @inline(never) func reportSleepInAtomic(_ cpu: CPUContext) {
        ownerSlot.pointee?.takeUnretainedValue().reportSleepInAtomic(cpu)
    }

    @inline(__always) static func bucket(_ ticks: UInt64) -> Int {
        min(LockStats.buckets - 1, 64 - ticks.leadingZeroBitCount)
    }
}
