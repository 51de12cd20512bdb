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

/// One (operation, GFP class) cell of a CPU's figures.
struct OpCell {
    var ops: UInt64 = 0
    var failures: UInt64 = 0
    /// Sampled latencies in nanoseconds.
    var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
}

/// A CPU's own figures for the run, touched only by that CPU's thread and read after it stops.
final class CPUStats: @unchecked Sendable {
    @exclusivity(unchecked) var cells: [OpCell]
    /// Allocations by memory node (the row of the locality matrix for this CPU's node).
    @exclusivity(unchecked) var locality: [UInt64]
    @exclusivity(unchecked) var handoffSent: UInt64 = 0
    @exclusivity(unchecked) var handoffFull: UInt64 = 0
    @exclusivity(unchecked) var handoffReceived: UInt64 = 0
    @exclusivity(unchecked) var atomicOps: UInt64 = 0
    @exclusivity(unchecked) var ops: UInt64 = 0
    /// Reads of published mappings that were already unmapped.
    @exclusivity(unchecked) var sharedMisses: UInt64 = 0
    let nodes: Int

    init(nodes: Int) {
        self.nodes = nodes
        cells = Array(repeating: OpCell(), count: OpKind.byIndex.count * GFPClass.allCases.count)
        locality = Array(repeating: 0, count: nodes)
    }

    func reset() {
        cells = Array(repeating: OpCell(), count: cells.count)
        locality = Array(repeating: 0, count: nodes)
        handoffSent = 0; handoffFull = 0; handoffReceived = 0; atomicOps = 0; ops = 0; sharedMisses = 0
    }

    @inline(__always) func cell(_ kind: OpKind, _ cls: GFPClass) -> Int { kind.index * GFPClass.allCases.count + cls.rawValue }
}
