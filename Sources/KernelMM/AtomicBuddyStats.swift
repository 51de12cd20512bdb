import CArch

/// The contention figures of a lock-free zone (`locks: { zone: atomic }`), the counterpart of a
/// lock's `lock_stat` figures: per operation on the free areas, its CAS attempts and failures
/// (each failure is a retry), the longest run of failures on one word, the scans that found
/// nothing and started again because a release completed meanwhile (restarts), and the claims
/// that had to be undone because an ancestor was taken meanwhile (aborted).
///
/// One 64-byte slot per CPU, written by that CPU only (relaxed loads and stores: no RMW on a
/// shared line, so counting adds no contention of its own); slot 0 is for callers without a CPU.
public struct AtomicBuddyStats: @unchecked Sendable {
    static let fields = 8
    enum Field: Int { case operations, contended, attempts, failures, longestChain, restarts, aborted }
    let slots: Int
    let words: UnsafeMutablePointer<UInt64>

    init(slots: Int) {
        self.slots = Swift.max(slots, 1)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: self.slots * Self.fields * 8, alignment: 64)
        words = raw.bindMemory(to: UInt64.self, capacity: self.slots * Self.fields)
        words.initialize(repeating: 0, count: self.slots * Self.fields)
    }

    func deallocate() { UnsafeMutableRawPointer(words).deallocate() }

    /// Adds one finished operation's tally to the slot of `cpu` (nil: slot 0).
    @inline(__always)
    func record(_ t: CASTally, cpu: Int?) {
        let s = words + ((cpu.map { $0 + 1 } ?? 0) % slots) * Self.fields
        func add(_ f: Field, _ v: UInt64) {
            arch_store_relaxed_u64(s + f.rawValue, arch_load_relaxed_u64(s + f.rawValue) &+ v)
        }
        add(.operations, 1)
        add(.attempts, t.attempts)
        if t.failures > 0 || t.restarts > 0 || t.aborted > 0 { recordContention(t, s) }
    }

    @inline(never)
    func recordContention(_ t: CASTally, _ s: UnsafeMutablePointer<UInt64>) {
        func add(_ f: Field, _ v: UInt64) {
            arch_store_relaxed_u64(s + f.rawValue, arch_load_relaxed_u64(s + f.rawValue) &+ v)
        }
        add(.contended, 1)
        add(.failures, t.failures)
        add(.restarts, t.restarts)
        add(.aborted, t.aborted)
        let longest = s + Field.longestChain.rawValue
        if t.longestChain > arch_load_relaxed_u64(longest) { arch_store_relaxed_u64(longest, t.longestChain) }
    }

    /// The figures of every slot together.
    public func snapshot() -> AtomicBuddyFigures {
        var f = AtomicBuddyFigures()
        for i in 0..<slots {
            let s = words + i * Self.fields
            func v(_ x: Field) -> UInt64 { arch_load_relaxed_u64(s + x.rawValue) }
            f.operations += v(.operations); f.contended += v(.contended)
            f.casAttempts += v(.attempts); f.casFailures += v(.failures)
            f.longestRetryChain = Swift.max(f.longestRetryChain, v(.longestChain))
            f.restarts += v(.restarts); f.abortedClaims += v(.aborted)
        }
        return f
    }

    /// Clears the figures (between warm-up and the measured phase).
    public func reset() {
        for i in 0..<(slots * Self.fields) { arch_store_relaxed_u64(words + i, 0) }
    }
}

/// A lock-free zone's figures as a report shows them (see `AtomicBuddyStats`).
public struct AtomicBuddyFigures: Sendable, Codable, Equatable {
    /// Allocations and releases on the free areas (a PCP refill or drain counts each block).
    public var operations: UInt64 = 0
    /// Operations that saw at least one failed CAS, restart or aborted claim.
    public var contended: UInt64 = 0
    public var casAttempts: UInt64 = 0
    /// Failed CASes: each one is a retry.
    public var casFailures: UInt64 = 0
    /// The longest run of consecutive failed CASes on one word in one operation.
    public var longestRetryChain: UInt64 = 0
    /// Allocations whose scan found nothing while a release completed, and that scanned again.
    public var restarts: UInt64 = 0
    /// Claims undone because a larger block around them was taken meanwhile.
    public var abortedClaims: UInt64 = 0
    public init() {}

    /// Failed CASes per operation.
    public var retriesPerOperation: Double { operations == 0 ? 0 : Double(casFailures) / Double(operations) }

    public static func + (a: AtomicBuddyFigures, b: AtomicBuddyFigures) -> AtomicBuddyFigures {
        var r = a
        r.operations += b.operations; r.contended += b.contended
        r.casAttempts += b.casAttempts; r.casFailures += b.casFailures
        r.longestRetryChain = Swift.max(a.longestRetryChain, b.longestRetryChain)
        r.restarts += b.restarts; r.abortedClaims += b.abortedClaims
        return r
    }
}
