import KernelMM
import Topology

/// A validated stress config (Configs/*.yaml): everything a run needs, with every value checked
/// and every name resolved. Produced by `ConfigLoader`; nothing runs on a config that failed.
public struct StressConfig: Sendable, Equatable {
    /// Letters, digits, `.`, `_`, `-`: becomes the folder under Results/.
    public var name: String
    /// The file it came from (nil when built in code).
    public var file: String?
    public var topology: TopologySpec
    public var memory: MemoryConfig
    public var locks: LockSettings
    public var remoteCost: RemoteCostMode
    public var caches: [CacheSpec]
    public var run: RunControl
    public var workloads: [WorkloadSpec]
    /// Nodes of the modelled machine (set by the loader from the topology).
    public var nodeCount: Int = 1
    /// `expect:` — what the run must show, checked after it.
    public var expectations: [Expectation] = []
    /// `vary:` — the variants to run one after another (empty: a plain run).
    public var variants: [Variant] = []
    /// `faults:` — misuse to inject and count (nil: none).
    public var faults: FaultSettings? = nil
    /// `sweep:` — the grid `numastress sweep` runs when no `--grid` is given (empty: none).
    public var sweep: [SweepAxis] = []

    public init(name: String, file: String? = nil, topology: TopologySpec = TopologySpec(), memory: MemoryConfig = MemoryConfig(),
                locks: LockSettings = LockSettings(), remoteCost: RemoteCostMode = .measured, caches: [CacheSpec] = [],
                run: RunControl = RunControl(), workloads: [WorkloadSpec] = []) {
        self.name = name; self.file = file; self.topology = topology; self.memory = memory; self.locks = locks
        self.remoteCost = remoteCost; self.caches = caches; self.run = run; self.workloads = workloads
    }
}

/// `topology: { synthetic: "...", distances: [[...]] }` or `{ xml: FILE }` or `host`.
public struct TopologySpec: Sendable, Equatable {
    public var source: TopologySource = .host
    public var distances: [[Int]]? = nil
    public init(source: TopologySource = .host, distances: [[Int]]? = nil) { self.source = source; self.distances = distances }
}

/// `locks: { zone: spin|mutex, node_partial: spin|mutex }`.
public struct LockSettings: Sendable, Equatable {
    public var zone: LockPolicy = .spin
    public var nodePartial: LockPolicy = .spin
    public init(zone: LockPolicy = .spin, nodePartial: LockPolicy = .spin) { self.zone = zone; self.nodePartial = nodePartial }
}

/// How remote-node cost is reported: `measured` (touch memory of each node from each CPU),
/// `model` (measured local cost × distance/10), `inject` (the modelled extra cost is really
/// spent after each remote access, so lock hold times stretch on a one-node host).
public enum RemoteCostMode: String, Sendable, Equatable, CaseIterable {
    case measured, model, inject
}

/// `caches: [ { name, size, align, flags: [SLAB_...], ctor: true } ]`.
public struct CacheSpec: Sendable, Equatable {
    public var name: String
    public var size: Int
    public var align: Int = 0
    public var flags: SlabFlags = []
    /// Give the cache a constructor that writes a pattern into each new object.
    public var ctor: Bool = false
    /// `kmem_cache_args.sheaf_capacity` (Linux 6.18): objects per percpu sheaf, 0 for none.
    public var sheafCapacity: Int = 0
    public init(name: String, size: Int, align: Int = 0, flags: SlabFlags = [], ctor: Bool = false, sheafCapacity: Int = 0) {
        self.name = name; self.size = size; self.align = align; self.flags = flags; self.ctor = ctor; self.sheafCapacity = sheafCapacity
    }
}

/// `run: { duration: 5s | operations: N, warmup: 1s, seed: 42, repetitions: 1, deterministic: false,
/// sample_rate: 64, slub_debug: false|true|"FZPU,cache", validate_every: N, on_slab_error: continue|abort,
/// sheaves: opt_in|all,
/// max_cpus: N }`.
public struct RunControl: Sendable, Equatable {
    /// Measured phase length in nanoseconds (ignored when `operations` is set).
    public var durationNS: UInt64 = 5_000_000_000
    /// Operations per CPU in the measured phase, instead of a duration.
    public var operations: Int? = nil
    public var warmupNS: UInt64 = 1_000_000_000
    public var seed: UInt64 = 42
    public var repetitions: Int = 1
    /// All logical CPUs on one thread in a seeded interleaving: identical counters every run.
    public var deterministic: Bool = false
    /// Time one operation in N on average for the latency histograms, at drawn gaps
    /// (`SampleInterval`; 1 = every operation).
    public var sampleRate: Int = 64
    /// SLUB debugging per cache, as the kernel's `slub_debug=` option sets it (`true`: F, Z, P
    /// and U for every cache).
    public var slubDebugOptions: SlubDebugOptions = .off
    /// Whether any cache is debugged (then the ownership bitmap and the validation passes run).
    public var slubDebug: Bool {
        get { slubDebugOptions != .off }
        set { slubDebugOptions = newValue ? .full : .off }
    }
    /// Operations per CPU between `validate_slab_cache()` passes over every cache during the
    /// measured phase (one pass always runs at its end while debugging); nil for none between.
    public var validateEvery: Int? = nil
    public var onSlabError: SlabErrorPolicy = .continue
    /// Which caches have percpu sheaves: `opt_in` (Linux 6.18, those with `sheaf_capacity`) or
    /// `all` (Linux 7.0, every cache without debug flags, kmalloc caches included).
    public var sheaves: SheafMode = .optIn
    public init() {}
}

public enum SlabErrorPolicy: String, Sendable, Equatable { case `continue`, abort }

/// One workload: a group of CPUs running a seeded mix of operations.
public struct WorkloadSpec: Sendable, Equatable {
    public var name: String
    public var cpus: CPUSelector
    /// Operations drawn by weight; a consumer (`from:`) has none of its own.
    public var mix: [OpSpec]
    /// Mask for process-context operations (default GFP_KERNEL).
    public var gfp: GFP = .kernel
    /// Share of operations run as atomic context with GFP_ATOMIC (0…1).
    public var atomicShare: Double = 0
    public var lifetime: Lifetime = .immediate
    /// Workload whose CPUs free what this one allocates (producer → consumer).
    public var handoff: String? = nil
    /// Workload whose handed-off objects this one frees (a consumer).
    public var from: String? = nil
    public var touch: TouchSpec? = nil
    /// `kernel` (the modelled allocators) or `malloc` (the process's malloc/free, for peer
    /// comparison on the same object traffic).
    public var allocator: AllocatorChoice = .kernel
    /// A recorded kmem trace this workload replays instead of drawing operations (`numastress
    /// replay`); each of its CPUs runs the stream of the trace CPUs mapped onto it.
    public var replay: ReplayPlan? = nil
    /// Keep the trace's own timing between operations instead of running flat out.
    public var replayPace = false

    public init(name: String, cpus: CPUSelector, mix: [OpSpec] = []) { self.name = name; self.cpus = cpus; self.mix = mix }
}

public enum AllocatorChoice: String, Sendable, Equatable, CaseIterable { case kernel, malloc }

/// `all`, `node:N`, `package:N`, or a cpulist like `3-7,12` (logical CPU ids).
public enum CPUSelector: Sendable, Equatable, CustomStringConvertible {
    case all
    case node(Int)
    case package(Int)
    case list([Int])

    public var description: String {
        switch self {
        case .all: return "all"
        case .node(let n): return "node:\(n)"
        case .package(let p): return "package:\(p)"
        case .list(let l): return l.map(String.init).joined(separator: ",")
        }
    }
}

/// What an operation allocates (and frees, by its lifetime or through a handoff).
public enum OpKind: String, Sendable, Equatable, CaseIterable {
    case kmalloc, kmemCacheAlloc = "kmem_cache_alloc", allocPages = "alloc_pages", vmalloc
    /// Consumer forms (`op: kfree, from: producer`): free what a producer hands off.
    case kfree, kmemCacheFree = "kmem_cache_free", freePages = "free_pages", vfree
    /// An anonymous mapping in the workload's address space (pages arrive on first touch), and
    /// its undoing (which shoots translations down on the CPUs that touched it).
    case mmap, munmap

    public var isFree: Bool { [.kfree, .kmemCacheFree, .freePages, .vfree, .munmap].contains(self) }
}

public struct OpSpec: Sendable, Equatable {
    public var kind: OpKind
    public var weight: Double = 1
    /// Bytes for kmalloc and vmalloc.
    public var size: Distribution = .fixed(64)
    /// Page order for alloc_pages.
    public var order: Distribution = .fixed(0)
    /// Cache name for kmem_cache_alloc (must be one of `caches`).
    public var cache: String? = nil
    /// mmap: protection, NUMA policy, 2 MiB pages.
    public var prot: Protection = .readWrite
    public var policy: MemPolicy = .firstTouch
    public var huge: Bool = false
    public init(kind: OpKind, weight: Double = 1, size: Distribution = .fixed(64), order: Distribution = .fixed(0), cache: String? = nil) {
        self.kind = kind; self.weight = weight; self.size = size; self.order = order; self.cache = cache
    }
}

/// `64`, `{ uniform: [16, 512] }`, `{ weighted: [[64, 3], [256, 1]] }`.
public enum Distribution: Sendable, Equatable {
    case fixed(Int)
    case uniform(Int, Int)
    case weighted([(value: Int, weight: Double)])

    public static func == (a: Distribution, b: Distribution) -> Bool {
        switch (a, b) {
        case (.fixed(let x), .fixed(let y)): return x == y
        case (.uniform(let a1, let a2), .uniform(let b1, let b2)): return a1 == b1 && a2 == b2
        case (.weighted(let x), .weighted(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.value == $1.value && $0.weight == $1.weight }
        default: return false
        }
    }

    public var minValue: Int {
        switch self {
        case .fixed(let v): return v
        case .uniform(let lo, _): return lo
        case .weighted(let l): return l.map(\.value).min() ?? 0
        }
    }

    public var maxValue: Int {
        switch self {
        case .fixed(let v): return v
        case .uniform(_, let hi): return hi
        case .weighted(let l): return l.map(\.value).max() ?? 0
        }
    }
}

/// How long an object lives: freed at once, or kept in a window of N and freed in FIFO, LIFO
/// or random order as new ones arrive.
public enum Lifetime: Sendable, Equatable {
    case immediate
    case keep(Int, LifetimeOrder)
}

public enum LifetimeOrder: String, Sendable, Equatable { case fifo, lifo, random }

/// `touch: { bytes: 64, pattern: 0x5a }`: write this many bytes of each new object (at most
/// the object's own size: a 32-byte kmalloc object gets 32).
public struct TouchSpec: Sendable, Equatable {
    public var bytes: Int
    public var pattern: UInt8 = 0x5a
    public init(bytes: Int, pattern: UInt8 = 0x5a) { self.bytes = bytes; self.pattern = pattern }
}

extension StressConfig {
    /// Applies a command-line override to the config and to each of its variants alike.
    public mutating func override(_ body: (inout StressConfig) throws -> Void) rethrows {
        try body(&self)
        for i in variants.indices { try body(&variants[i].config) }
    }
}

/// One variant of a `vary:` config: its name (usable as a prefix in `expect:`), the settings
/// that make it (`locks.zone=mutex`) and the whole config it runs.
public struct Variant: Sendable, Equatable {
    public var name: String
    public var settings: String
    public var config: StressConfig
}
