/// Counters of one lock, in the spirit of `/proc/lock_stat` (CONFIG_LOCK_STAT): updated by the
/// holder only, so they need no atomics. Wait and hold times go into log2 histograms of TSC
/// ticks; snapshots convert them to nanoseconds.
public struct LockStats {
    public var acquisitions: UInt64 = 0
    /// Acquisitions that found the lock taken.
    public var contended: UInt64 = 0
    /// PAUSE iterations spent spinning (spin policy, or a non-blocking caller on a mutex).
    public var spins: UInt64 = 0
    /// Times a caller slept in the OS (mutex policy).
    public var sleeps: UInt64 = 0
    public var waitTicks: UInt64 = 0
    public var holdTicks: UInt64 = 0
    public var maxWaitTicks: UInt64 = 0
    public var maxHoldTicks: UInt64 = 0
    /// Timestamp of the current acquisition.
    public var acquiredAt: UInt64 = 0

    public static let buckets = 48
}

/// A lock's figures as a report shows them.
public struct LockSnapshot: Sendable, Codable, Equatable {
    public var name: String
    public var policy: LockPolicy
    public var acquisitions: UInt64
    public var contended: UInt64
    public var spins: UInt64
    public var sleeps: UInt64
    public var waitNS: UInt64
    public var holdNS: UInt64
    public var maxWaitNS: UInt64
    public var maxHoldNS: UInt64
    /// `waitHistogram[i]` counts waits in [2^(i-1), 2^i) ns; index 0 is "no wait".
    public var waitHistogram: [UInt64]
    public var holdHistogram: [UInt64]
    /// For the `atomic` policy: the CAS figures behind `acquisitions` (operations), `contended`
    /// (operations that retried) and `spins` (failed CASes). nil for a lock.
    public var atomic: AtomicBuddyFigures? = nil

    public var contendedFraction: Double { acquisitions == 0 ? 0 : Double(contended) / Double(acquisitions) }

    public static func + (a: LockSnapshot, b: LockSnapshot) -> LockSnapshot {
        var r = a
        r.acquisitions += b.acquisitions; r.contended += b.contended; r.spins += b.spins; r.sleeps += b.sleeps
        r.waitNS += b.waitNS; r.holdNS += b.holdNS
        r.maxWaitNS = max(a.maxWaitNS, b.maxWaitNS); r.maxHoldNS = max(a.maxHoldNS, b.maxHoldNS)
        r.waitHistogram = zip(a.waitHistogram, b.waitHistogram).map(+)
        r.holdHistogram = zip(a.holdHistogram, b.holdHistogram).map(+)
        if let x = a.atomic ?? b.atomic { r.atomic = a.atomic.map { $0 + (b.atomic ?? AtomicBuddyFigures()) } ?? x }
        return r
    }
}
