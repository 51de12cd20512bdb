import Foundation
import KernelMM

/// Every fault the injector made, and every debug report of the model, matched: a fault is
/// detected when a report of its kind names its object (or, for context bugs, its CPU); a
/// report no fault explains is the model reporting a bug nobody made. Reports arrive on any
/// CPU's thread (a red zone overrun is caught where the object is freed, a write after free
/// where it is allocated again), so the ledger takes a lock; reports and faults are rare.
final class FaultLedger: DebugReportObserver, @unchecked Sendable {
    struct Fault {
        let kind: FaultKind
        let cpu: Int
        let address: UInt
        /// Where it was injected: workload, operation, cache.
        let site: String
        var detected = false
        /// Why it was not made (the cache has no check for it), when it was not.
        var unchecked: String? = nil
    }

    struct Key: Hashable {
        let report: DebugReport.Kind
        /// The object or page; the CPU for context reports.
        let at: UInt
    }

    private let lock = NSLock()
    private var faults: [Fault] = []
    private var pending: [Key: [Int]] = [:]
    /// Keys of detected faults: a second report of the same bug (e.g. both red zones of one
    /// object) is explained by it.
    private var explained: Set<Key> = []
    private var unexplained: [String] = []
    private var unexplainedCount = 0

    static func key(_ kind: DebugReport.Kind, cpu: Int?, address: UInt) -> Key {
        kind == .sleepInAtomic ? Key(report: kind, at: UInt(cpu ?? -1)) : Key(report: kind, at: address)
    }

    /// Records a fault about to be made; call before making it, since its report may come at once.
    func injected(_ kind: FaultKind, cpu: Int, address: UInt, site: String) {
        let k = Self.key(kind.report, cpu: cpu, address: address)
        lock.lock()
        pending[k, default: []].append(faults.count)
        faults.append(Fault(kind: kind, cpu: cpu, address: address, site: site))
        lock.unlock()
    }

    /// Records a fault the target cache has no check for: a real kernel would let it through
    /// and corrupt memory, so it is not made, and it counts as missed.
    func unchecked(_ kind: FaultKind, cpu: Int, address: UInt, site: String, reason: String) {
        lock.lock()
        faults.append(Fault(kind: kind, cpu: cpu, address: address, site: site, unchecked: reason))
        lock.unlock()
    }

    /// Whether a red-zone or use-after-free fault made in `slab` still waits for its report.
    /// A write after free is caught when its object is allocated again, and that failed check
    /// takes the whole slab out of service (`alloc_debug_processing()`: "Marking all objects
    /// used"), so another pending fault of the slab would never be checked: one at a time.
    func pendingWrite(in slab: Range<UInt>) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return pending.contains { key, list in
            !list.isEmpty && slab.contains(key.at)
                && (key.report == FaultKind.redZone.report || key.report == FaultKind.useAfterFree.report)
        }
    }

    func observe(_ report: DebugReport) {
        // "Slab disabled since SLUB metadata consistency check failed" follows, at every later
        // free into the slab, an allocation check that failed there — itself a report, matched
        // to its fault or counted as unexplained. It says nothing new.
        if report.kind == .slabDisabled { return }
        let k = Self.key(report.kind, cpu: report.cpu, address: report.address)
        lock.lock()
        defer { lock.unlock() }
        if var list = pending[k], !list.isEmpty {
            faults[list.removeFirst()].detected = true
            pending[k] = list.isEmpty ? nil : list
            explained.insert(k)
        } else if !explained.contains(k) {
            unexplainedCount += 1
            if unexplained.count < 20 {
                unexplained.append("\(report.kind) at 0x\(String(report.address, radix: 16))" + (report.cpu.map { " on cpu\($0)" } ?? ""))
            }
        }
    }

    /// The tally, once the run is over and every check that could still catch a fault (the
    /// frees of the drain, the discarding of the slabs) has run.
    func figures(_ settings: FaultSettings, slubDebug: Bool) -> FaultFigures {
        lock.lock()
        defer { lock.unlock() }
        var kinds: [FaultFigures.Kind] = []
        for kind in FaultKind.allCases {
            let of = faults.filter { $0.kind == kind }
            let detected = of.filter(\.detected).count
            kinds.append(FaultFigures.Kind(kind: kind.rawValue, rate: settings.rates[kind] ?? 0, injected: of.count,
                                           detected: detected, missed: of.count - detected))
        }
        let missed = faults.filter { !$0.detected }.prefix(20).map { f in
            "\(f.kind.rawValue) at 0x\(String(f.address, radix: 16)) on cpu\(f.cpu) (\(f.site)): "
                + (f.unchecked ?? "no report named it")
        }
        return FaultFigures(slubDebug: slubDebug, kinds: kinds, missedFaults: Array(missed),
                            unexplained: unexplainedCount, unexplainedReports: unexplained)
    }
}
