import Foundation
import KernelMM
import Topology

/// still says which value is meant when an editor shows only the text.
struct ConfigReader {
    let file: String
    let baseDirectory: String
    /// Reading one variant of a `vary:` config: its vary and expect sections are the parent's.
    var asVariant = false

    func document(_ root: YNode?) throws -> StressConfig {
        guard let root, !root.isNull else {
            throw ConfigError(file: file, line: 1, column: 1, message: "the config is empty",
                              hint: "a config needs at least name and workloads")
        }
        let top = try fields(root, "", allowed: ConfigKeys.top)
        var config = StressConfig(name: try name(require(top, "name"), "name"), file: file)
        let machine: Machine
        (config.topology, machine) = try topology(top["topology"])
        config.nodeCount = machine.nodes.count
        config.locks = try locks(top["locks"])
        config.memory = try memory(top, nodes: machine.nodes.count)
        config.memory.zoneLock = config.locks.zone
        if let n = top["remote_cost"] { config.remoteCost = try choice(n, "remote_cost", RemoteCostMode.allCases) }
        if let n = top["run"] { config.run = try run(n) }
        if let n = top["caches"] {
            let caches = try caches(n, cpus: machine.pus.count, slubDebug: config.run.slubDebugOptions)
            try checkFit(caches, key: top.key("caches"), memory: config.memory, machine: machine)
            config.caches = caches.map(\.spec)
        }
        config.workloads = try workloads(top, caches: config.caches, memory: config.memory, machine: machine)
        try finishReplays(&config, top: top)
        if let n = top["faults"] { config.faults = try faults(n, config: config) }
        // The run makes the kernel's page-table root and one per mmap workload's address space
        // before the first operation; memory that cannot give them would fail the start.
        let spaces = config.workloads.filter { $0.mix.contains { $0.kind == .mmap } }.count
        do { try config.memory.checkBootPages(1 + spaces, nodes: machine.nodes.count) } catch {
            let at = top["memory"].flatMap { try? fields($0, "memory", allowed: ConfigKeys.memory) }
            throw fail(at?["watermarks"] ?? at?["per_node"] ?? top.key("workloads"), "memory: \(error.message)", hint: Self.bootHint)
        }
        if let n = top["sweep"] { config.sweep = try sweepAxes(n) }
        guard !asVariant else { return config }
        if let n = top["vary"] { config.variants = try variants(n, root: root) }
        if let n = top["expect"] { config.expectations = try expectations(n, config: config) }
        return config
    }

    /// The config's name becomes `Results/<name>/`: a single path component of safe
    /// characters, so that no name can point outside Results/ or into a hidden parent.
    func name(_ n: YNode, _ path: String) throws -> String {
        let s = try string(n, path)
        let hint = "the name becomes a folder under Results/"
        guard !s.isEmpty, s.count <= 100 else { throw fail(n, "\(path): must be 1…100 characters, got \(s.count)", hint: hint) }
        guard s.utf8.allSatisfy(Self.isNameByte) else {
            throw fail(n, "\(path): \"\(s)\" may only contain letters, digits, \".\", \"_\" and \"-\"", hint: hint)
        }
        guard s != ".", s != ".." else { throw fail(n, "\(path): \"\(s)\" is not a usable name", hint: hint) }
        return s
    }

    /// ASCII letters, digits, `.`, `_`, `-` (bytes: every config has thousands of names).
    static func isNameByte(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): return true
        case UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"): return true
        default: return false
        }
    }

    func locks(_ n: YNode?) throws -> LockSettings {
        var l = LockSettings()
        guard let n else { return l }
        let f = try fields(n, "locks", allowed: ConfigKeys.locks)
        if let v = f["zone"] { l.zone = try choice(v, "locks.zone", LockPolicy.allCases) }
        if let v = f["node_partial"] { l.nodePartial = try choice(v, "locks.node_partial", LockPolicy.locks) }
        return l
    }

    func run(_ n: YNode) throws -> RunControl {
        let f = try fields(n, "run", allowed: ConfigKeys.run)
        var r = RunControl()
        if let v = f["duration"] {
            r.durationNS = try boundedDuration(v, "run.duration")
            guard r.durationNS > 0 else { throw fail(v, "run.duration: must be longer than 0", hint: "or give run.operations") }
        }
        if let v = f["operations"] { r.operations = try int(v, "run.operations", min: 1, max: ConfigLimits.maxOperations) }
        if let v = f["warmup"] { r.warmupNS = try boundedDuration(v, "run.warmup") }
        if let v = f["seed"] { r.seed = try seed(v, "run.seed") }
        if let v = f["repetitions"] { r.repetitions = try int(v, "run.repetitions", min: 1) }
        if let v = f["deterministic"] { r.deterministic = try bool(v, "run.deterministic") }
        if let v = f["sample_rate"] { r.sampleRate = try int(v, "run.sample_rate", min: 1, max: ConfigLimits.maxSampleRate) }
        if let v = f["slub_debug"] { r.slubDebugOptions = try slubDebug(v) }
        if let v = f["validate_every"] {
            r.validateEvery = try int(v, "run.validate_every", min: 1, max: ConfigLimits.maxOperations)
            guard r.slubDebug else {
                throw fail(v, "run.validate_every: needs run.slub_debug", hint: "validation passes check the debug caches' objects")
            }
        }
        if let v = f["on_slab_error"] { r.onSlabError = try choice(v, "run.on_slab_error", [SlabErrorPolicy.continue, .abort]) }
        if let v = f["sheaves"] { r.sheaves = try choice(v, "run.sheaves", SheafMode.allCases) }
        return r
    }
}
