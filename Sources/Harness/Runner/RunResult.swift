import KernelMM
import Topology

/// Everything a run measured, as written to result.json (schema `numastress.result/2`: snake_case
/// keys, described in docs/RESULTS.md and docs/result.schema.json).
/// Every cost figure says whether it was measured or modelled.
public struct RunResult: Codable, Sendable {
    public static let schema = "numastress.result/2"

    public var schema = RunResult.schema
    /// False when the run was interrupted (Ctrl-C) or stopped on an error: figures cover what ran.
    public var complete: Bool
    public var stopReason: String?
    /// The signal that ended the run early (SIGINT, SIGTERM, SIGHUP), when one did.
    public var stopSignal: String? = nil
    /// Set when the drain after the run gave up before every object was freed.
    public var drain: String? = nil
    public var config: ConfigEcho
    public var host: HostInfo
    public var topology: TopologyReport
    public var run: RunInfo
    public var throughput: Throughput
    public var operations: [OperationFigures]
    public var locks: [LockSnapshot]
    public var zones: [ZoneFigures]
    public var caches: [CacheFigures]
    public var numa: NUMAFigures
    public var handoff: HandoffFigures
    public var kernelLog: [String: Int]
    public var invariants: InvariantReport
    public var repetitions: [RepetitionFigures]
    /// TLB figures: totals and per CPU, and the shootdowns of each address space.
    public var tlb: TLBFigures?
    /// Free blocks per order of each zone sampled over the measured phase (not in deterministic
    /// runs, whose counters must not depend on timing).
    public var freeTimeline: FreeTimeline? = nil
    /// `validate_slab_cache()` passes over the debug caches (with `slub_debug`), nil otherwise.
    public var validation: ValidationFigures? = nil
    /// What each GFP class went through: allocations, failures, reserves, sleeps, reclaim and
    /// the allocation latency of all its operations together.
    public var gfpClasses: [GFPClassFigures]? = nil
    /// Each node's kswapd: wake-ups and balance passes.
    public var kswapd: [KswapdFigures]? = nil
    /// Fragmentation, compaction, migration and THP events over every zone, by their
    /// /proc/vmstat names (`ZoneVMEvent`), at the end of the measured phase.
    public var vmstat: [String: UInt64]? = nil
    /// The config's `expect:` lines, each with its measured sides and verdict.
    public var expectations: [ExpectationOutcome]? = nil
    /// The `vary:` variant this result is (nil for a plain run).
    public var variant: String? = nil
    /// `numastress replay`: what the trace held and what of it was replayed.
    public var replay: ReplayFigures? = nil
    /// `faults:`: injected, detected and missed misuse per kind.
    public var faults: FaultFigures? = nil

    public struct GFPClassFigures: Codable, Sendable {
        public var gfpClass: String
        public var allocs: UInt64
        public var failures: UInt64
        /// Succeeded only because ALLOC_MIN_RESERVE/ALLOC_NON_BLOCK lowered the min watermark.
        public var reserveAllocs: UInt64
        public var sleeps: UInt64
        public var sleptNS: UInt64
        public var directReclaims: UInt64
        public var nofailStalled: UInt64
        /// Allocation latency over every allocating operation of the class (sampled).
        public var samples: UInt64
        public var p50NS: UInt64
        public var p90NS: UInt64
        public var p99NS: UInt64
        public var p999NS: UInt64
        public var maxNS: UInt64
    }

    public struct KswapdFigures: Codable, Sendable {
        public var node: Int
        public var wakeups: UInt64
        public var passes: UInt64
    }

    public struct FreeTimeline: Codable, Sendable {
        public var intervalNS: UInt64
        /// Time of each sample since the measured phase began.
        public var tNS: [UInt64]
        public var zones: [ZoneSeries]
    }

    public struct ZoneSeries: Codable, Sendable {
        public var node: Int
        public var zone: String
        /// `[sample][order]`: free blocks of that order.
        public var blocks: [[Int]]
        /// `[sample][migrate type]`: free pages on each type's lists, in `MigrateType` order
        /// (Unmovable, Movable, Reclaimable, HighAtomic, Isolate). Absent in results written
        /// before it was sampled.
        public var freeByType: [[Int]]?
    }

    public struct TLBFigures: Codable, Sendable {
        public var totals: TLB.Counters
        public var perCPU: [TLB.Counters]
        public var spaces: [SpaceFigures]
        public var lazyPurges: Int
    }

    public struct SpaceFigures: Codable, Sendable {
        public var name: String
        public var shootdowns: UInt64
        /// Mean and worst time the unmapping CPU waited for all acknowledgements.
        public var meanWaitNS: Double
        public var maxWaitNS: UInt64
        /// Mean number of other CPUs each shootdown went to.
        public var meanTargets: Double
        public var pageTablePages: Int
    }

    public struct ConfigEcho: Codable, Sendable {
        public var name: String
        public var file: String?
        /// The config file's text, as run.
        public var text: String?
        /// The normalised config with the command line's overrides, and its hash (compare refuses
        /// results of different configs). Absent in older results.
        public var identity: ConfigIdentity? = nil
    }

    public struct HostInfo: Codable, Sendable {
        public var hostname: String
        public var kernel: String
        public var pus: Int
        public var nodes: Int
        public var gitRevision: String
        public var mapping: String
        /// The malloc the process really used (`glibc`, or a preloaded jemalloc/tcmalloc/
        /// mimalloc found in /proc/self/maps): what `allocator: malloc` workloads measured.
        public var malloc: String? = nil
    }

    public struct RunInfo: Codable, Sendable {
        /// Names this run in every CSV row and in sweeps: config name, UTC start and a random
        /// suffix (absent in results older than schema 2).
        public var id: String? = nil
        public var started: String
        public var mode: String
        public var seed: UInt64
        public var warmupNS: UInt64
        public var elapsedNS: UInt64
        public var sampleRate: Int
        public var remoteCost: String
        public var zoneLock: String
        public var nodePartialLock: String
        /// Schedule shaking, when on: seed, chance and how many shakes happened.
        public var shake: String? = nil
        /// Process CPU time over the measured phase.
        public var cpuNS: UInt64? = nil
        /// `--inject-delay`: busy time spent after every operation (a power check), when set.
        public var injectDelayNS: UInt64? = nil
    }

    public struct Throughput: Codable, Sendable {
        public var totalOps: UInt64
        public var opsPerSec: Double
        public var perCPU: [CPUFigures]
        public var perWorkload: [String: UInt64]
    }

    public struct CPUFigures: Codable, Sendable {
        public var cpu: Int
        public var node: Int
        public var hostPU: Int
        public var ops: UInt64
        public var opsPerSec: Double
        public var atomicOps: UInt64
    }

    public struct OperationFigures: Codable, Sendable {
        public var op: String
        public var gfpClass: String
        public var count: UInt64
        public var failures: UInt64
        public var samples: UInt64
        public var p50NS: UInt64
        public var p90NS: UInt64
        public var p99NS: UInt64
        public var p999NS: UInt64
        public var maxNS: UInt64
        public var meanNS: Double
    }

    public struct ZoneFigures: Codable, Sendable {
        public var node: Int
        public var zone: String
        public var pages: Int
        public var freePagesEnd: Int
        public var watermarks: Watermarks
        public var events: ZoneEvents
        public var reclaimPasses: UInt64
        /// Free blocks per order at the end of the measured phase (`buddyinfo`).
        public var freeBlocksPerOrder: [Int]
        public var hostNode: Int?
    }

    public struct CacheFigures: Codable, Sendable {
        public var info: SlabAllocator.CacheInfo
        public var flags: String
        public var errors: [String: Int]
        /// `[freeing node][slab node]`.
        public var remoteFrees: [[UInt64]]
        /// Problems counted as the kernel's slab self-tests count them (each BUG and FIX line).
        public var slabErrors: Int? = nil
    }

    /// Validation passes run (one at the end of the measured phase, and every
    /// `run.validate_every` operations of a CPU) and the `slab_errors` they counted.
    public struct ValidationFigures: Codable, Sendable {
        public var passes: UInt64
        public var errors: UInt64
    }

    public struct NUMAFigures: Codable, Sendable {
        public var distances: [[Int]]
        public var distanceOrigin: String
        /// Allocations by `[CPU node][memory node]`.
        public var localityMatrix: [[UInt64]]
        public var accessCost: AccessCostMatrix?
        /// Which figure a run's "remote cost" means: measured, modelled, or modelled and injected.
        public var costLabel: String
        /// Remote frees summed over caches, `[freeing node][slab node]`.
        public var remoteFrees: [[UInt64]]
        /// Where each node's arena really is on the host (`move_pages` query after prefault);
        /// absent when nothing was checked (one-node host, no prefault).
        public var binding: [NodeBindingCheck]? = nil
    }

    public struct HandoffFigures: Codable, Sendable {
        public var sent: UInt64
        public var received: UInt64
        public var full: UInt64
    }

    public struct InvariantReport: Codable, Sendable {
        public var passed: Bool
        public var violations: [String]
        /// False when the checks could not run (the drain gave up): `passed` then says nothing.
        public var checked: Bool? = nil
    }

    public struct RepetitionFigures: Codable, Sendable {
        public var totalOps: UInt64
        public var elapsedNS: UInt64
        public var opsPerSec: Double
        // For compare's statistics (Regression/RepetitionRecord.swift); absent in older results.
        public var cpuNS: UInt64? = nil
        public var latency: [RepetitionLatency]? = nil
        public var ratios: [String: Double]? = nil
    }
}


extension RunResult.RunInfo {
    static func makeID(config: String) -> String {
        "\(config)-\(ResultWriter.timestamp())-\(String(UInt32.random(in: 0 ... .max), radix: 16))"
    }
}
