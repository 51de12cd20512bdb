/// One report of the model's debug checks as data, beside its text in the kernel log: what
/// check fired, on which CPU, about which address. The kernel has no such hook — its reports
/// are text for a human — but a harness that injects misuse (the way mm/slub_kunit.c and
/// KFENCE's tests provoke a bug and then look for its report) must match each report to the
/// bug that caused it, and text is no contract.
public struct DebugReport: Sendable, Equatable {
    public enum Kind: Sendable, Equatable, Hashable {
        /// A SLUB debug report (`slab_bug()`, `object_err()`, `cache_from_obj()`'s warning).
        case slab(SlabErrorKind)
        /// `check_slab()`'s "Slab disabled since SLUB metadata consistency check failed": a
        /// free into a slab an earlier failed allocation check took out of service (Linux
        /// 6.12 reports it at every later free there). A consequence of that earlier report,
        /// never a bug of its own.
        case slabDisabled
        /// `__might_resched()`: "sleeping function called from invalid context".
        case sleepInAtomic
        /// `bad_page()`: "Bad page state", e.g. freed with another order than allocated.
        case badPage
    }

    public let kind: Kind
    /// The CPU the report was made on, when the reporting code knows it.
    public let cpu: Int?
    /// The object or page the report is about (0 for context reports).
    public let address: UInt

    public init(kind: Kind, cpu: Int?, address: UInt) { self.kind = kind; self.cpu = cpu; self.address = address }
}

/// Receives every `DebugReport` as it is made, on the reporting thread (reports are rare: it
/// may take a lock). Set on `Kernel.debugObserver` before the CPUs start.
public protocol DebugReportObserver: AnyObject, Sendable {
    func observe(_ report: DebugReport)
}
