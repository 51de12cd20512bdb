import Foundation

/// The kernel log (`printk` into the ring buffer read by `dmesg`), with a counter per kind of
/// report, so that a run can fail on, or a test can assert on, e.g. "sleeping function called
/// from invalid context". Thread-safe; reports are rare, so a plain pthread mutex is enough.
public final class KernelLog: @unchecked Sendable {
    public enum Kind: String, CaseIterable, Sendable, Codable {
        case sleepInAtomic = "sleeping-in-atomic"
        case allocationFailure = "page-allocation-failure"
        case allocationStall = "page-allocation-stall"
        case slabError = "slab-error"
        case badPage = "bad-page"
        case mmFault = "mm-fault"
        case warning = "warning"
    }

    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var lines: [String] = []
    private var counts: [Kind: Int] = [:]
    /// Call sites whose `WARN_ON_ONCE` has fired (the kernel keeps a static flag per site).
    private var warnedSites: Set<String> = []
    /// Lines kept; older ones roll off, as in the ring buffer. Counts never roll off.
    public let capacity: Int
    /// Echo each report to stderr as it happens.
    public var echo: Bool
    /// Told of every debug report as data (`DebugReport`: the fault injector matches them to
    /// the faults it made). Set before the CPUs start and left alone while they run.
    public var observer: (any DebugReportObserver)?
    /// Kinds of report that ask the run to stop (e.g. slab errors when the config says abort).
    public var stopOn: Set<Kind> = []
    private var stopKind: Kind?
    /// The kernel's taint mask (`tainted_mask`, kernel/panic.c): bit n is taint flag n.
    private var taintMask: UInt32 = 0

    /// `TAINT_BAD_PAGE`: set by SLUB after it reports a corrupted object or slab.
    public static let taintBadPage = 5
    /// `TAINT_DIE`: set when a BUG() stops the kernel.
    public static let taintDie = 7

    /// The first report of a `stopOn` kind, once one came.
    public var stopRequested: Kind? {
        pthread_mutex_lock(lock); defer { pthread_mutex_unlock(lock) }
        return stopKind
    }

    public init(capacity: Int = 4096, echo: Bool = false) {
        self.capacity = capacity
        self.echo = echo
        pthread_mutex_init(lock, nil)
    }

    deinit { pthread_mutex_destroy(lock); lock.deallocate() }

    public func report(_ kind: Kind, _ text: String) {
        pthread_mutex_lock(lock)
        counts[kind, default: 0] += 1
        if stopKind == nil && stopOn.contains(kind) { stopKind = kind }
        lines.append(contentsOf: text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init))
        if lines.count > capacity { lines.removeFirst(lines.count - capacity) }
        let echo = self.echo
        pthread_mutex_unlock(lock)
        if echo { FileHandle.standardError.write(Data((text + "\n").utf8)) }
    }

    /// A printk that is not a report of its own (a `FIX` line, a trace line): kept, not counted.
    public func append(_ text: String) {
        pthread_mutex_lock(lock)
        lines.append(contentsOf: text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init))
        if lines.count > capacity { lines.removeFirst(lines.count - capacity) }
        let echo = self.echo
        pthread_mutex_unlock(lock)
        if echo { FileHandle.standardError.write(Data((text + "\n").utf8)) }
    }

    /// `add_taint(flag, …)`.
    public func addTaint(_ flag: Int) {
        pthread_mutex_lock(lock); taintMask |= 1 << UInt32(flag); pthread_mutex_unlock(lock)
    }

    public var tainted: Bool {
        pthread_mutex_lock(lock); defer { pthread_mutex_unlock(lock) }
        return taintMask != 0
    }

    /// `print_tainted()` of Linux 6.12: "Not tainted", or "Tainted: " and one column per taint
    /// flag (P/G, F, S, R, M, B, U, D, A, W, C, I, O, E, L, K, X, T, N): the letter when set,
    /// else a space (for P: 'G', no proprietary module).
    public var taintString: String {
        pthread_mutex_lock(lock); let mask = taintMask; pthread_mutex_unlock(lock)
        if mask == 0 { return "Not tainted" }
        let letters = Array("PFSRMBUDAWCIOELKXTN")
        var out = "Tainted: "
        for (i, c) in letters.enumerated() {
            out.append(mask & (1 << UInt32(i)) != 0 ? c : (i == 0 ? "G" : " "))
        }
        return out
    }

    /// `WARN_ON_ONCE()` at `site`: the first time, a warning into the log; later, nothing.
    public func warnOnce(_ site: String, _ text: @autoclosure () -> String) {
        pthread_mutex_lock(lock)
        let first = warnedSites.insert(site).inserted
        pthread_mutex_unlock(lock)
        if first { report(.warning, text()) }
    }

    /// A debug report: its text into the log as `kind`, its data to the observer.
    public func report(_ kind: Kind, _ text: String, debug: DebugReport) {
        report(kind, text)
        observer?.observe(debug)
    }

    public func count(_ kind: Kind) -> Int {
        pthread_mutex_lock(lock); defer { pthread_mutex_unlock(lock) }
        return counts[kind, default: 0]
    }

    public var allCounts: [Kind: Int] {
        pthread_mutex_lock(lock); defer { pthread_mutex_unlock(lock) }
        return counts
    }

    public var text: String {
        pthread_mutex_lock(lock); defer { pthread_mutex_unlock(lock) }
        return lines.joined(separator: "\n")
    }
}
