import Histogram
import KernelMM

extension OpKind {
    /// Dense index for per-CPU tables.
    var index: Int {
        switch self {
        case .kmalloc: return 0
        case .kmemCacheAlloc: return 1
        case .allocPages: return 2
        case .vmalloc: return 3
        case .kfree: return 4
        case .kmemCacheFree: return 5
        case .freePages: return 6
        case .vfree: return 7
        case .mmap: return 8
        case .munmap: return 9
        }
    }

    static let byIndex: [OpKind] = [.kmalloc, .kmemCacheAlloc, .allocPages, .vmalloc, .kfree, .kmemCacheFree, .freePages, .vfree, .mmap, .munmap]

    /// The free that undoes an allocation.
    var freeKind: OpKind {
        switch self {
        case .kmalloc: return .kfree
        case .kmemCacheAlloc: return .kmemCacheFree
        case .allocPages: return .freePages
        case .vmalloc: return .vfree
        case .mmap: return .munmap
        default: return self
        }
    }
}

/// A CPU's own figures for the run, touched only by that CPU's thread and read after it stops.
///
/// The per-operation counters are plain words in memory the stats own (one increment, no
/// array uniqueness check); sampled latencies go to a `LatencyRecorder`, which allocates only
/// the parts of each cell's histogram that samples land in — not 30 full-range histograms
/// (216 KB each once written), which made a logical CPU cost megabytes on a machine of hundreds.
final class CPUStats: @unchecked Sendable {
    /// `[cell]` operation counts and `[cell]` failures.
    let opCounts: UnsafeMutablePointer<UInt64>
    let failureCounts: UnsafeMutablePointer<UInt64>
    let latencies: LatencyRecorder
    /// Allocations by memory node (the row of the locality matrix for this CPU's node).
    let locality: UnsafeMutablePointer<UInt64>
    @exclusivity(unchecked) var handoffSent: UInt64 = 0
    @exclusivity(unchecked) var handoffFull: UInt64 = 0
    @exclusivity(unchecked) var handoffReceived: UInt64 = 0
    @exclusivity(unchecked) var atomicOps: UInt64 = 0
    @exclusivity(unchecked) var ops: UInt64 = 0
    /// Reads of published mappings that were already unmapped.
    @exclusivity(unchecked) var sharedMisses: UInt64 = 0
    let nodes: Int
    static let cellCount = OpKind.byIndex.count * classes

    /// The largest latency a histogram takes (60 s); a longer one is not recorded.
    static let highestTrackable: UInt64 = 60_000_000_000
    /// What merged figures start from: the full range, three significant digits.
    static var emptyHistogram: Histogram<UInt64> {
        Histogram<UInt64>(highestTrackableValue: highestTrackable, numberOfSignificantValueDigits: .three)
    }

    init(nodes: Int) {
        precondition(GFPClass.allCases.count == Self.classes, "CPUStats.classes must follow GFPClass")
        self.nodes = nodes
        opCounts = .allocate(capacity: Self.cellCount)
        opCounts.initialize(repeating: 0, count: Self.cellCount)
        failureCounts = .allocate(capacity: Self.cellCount)
        failureCounts.initialize(repeating: 0, count: Self.cellCount)
        latencies = LatencyRecorder(cells: Self.cellCount)
        locality = .allocate(capacity: max(nodes, 1))
        locality.initialize(repeating: 0, count: max(nodes, 1))
    }

    deinit { opCounts.deallocate(); failureCounts.deallocate(); locality.deallocate(); latencies.deallocate() }

    func reset() {
        opCounts.update(repeating: 0, count: Self.cellCount)
        failureCounts.update(repeating: 0, count: Self.cellCount)
        latencies.reset()
        locality.update(repeating: 0, count: max(nodes, 1))
        handoffSent = 0; handoffFull = 0; handoffReceived = 0; atomicOps = 0; ops = 0; sharedMisses = 0
    }

    /// GFP classes per operation kind (`GFPClass.allCases.count`, a literal on the per-operation
    /// path: the generic `allCases` array costs more than the operation's bookkeeping).
    static let classes = 3

    @inline(__always) func cell(_ kind: OpKind, _ cls: GFPClass) -> Int { kind.index &* Self.classes &+ cls.rawValue }

    /// One sampled latency in TSC ticks (outlined: one operation in `sample_rate`, on average, comes here,
    /// so the conversion to nanoseconds is done here rather than in the caller's path).
    @inline(never) func record(_ cell: Int, ticks: UInt64) { latencies.record(cell, Clock.ns(ticks: ticks)) }

    /// Adds a cell's sampled latencies to a merged histogram.
    func addLatencies(_ cell: Int, into h: inout Histogram<UInt64>) { latencies.add(cell, into: &h) }
}
