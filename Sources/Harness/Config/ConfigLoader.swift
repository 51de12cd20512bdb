import Foundation
import KernelMM
import Topology
import Yams

/// KernelMM has its own `Node` (pg_data_t); here a node is always a YAML node.
typealias YNode = Yams.Node
/// Glibc has a KernelMM.PAGE_SIZE too; the modelled kernel's is meant.
private let pageSize = KernelMM.PAGE_SIZE

/// Reads Configs/*.yaml into a `StressConfig`: the YAML is composed into a node tree (which
/// keeps line and column of every key and value), then walked section by section, so that every
/// refusal says where it is, `file:line:column: error: ...`, the way a compiler does. The first
/// error stops the load: nothing runs on a config that is partly understood.
public enum ConfigLoader {
    /// Loads a config file; relative paths inside it are relative to its folder.
    public static func load(path: String) throws -> StressConfig {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            let why = FileManager.default.fileExists(atPath: path) ? "cannot read it as UTF-8 text" : "no such file"
            throw ConfigError(file: path, line: 1, column: 1, message: "cannot read config: \(why)")
        }
        let base = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return try parse(yaml: text, file: path, baseDirectory: base)
    }

    /// Parses config text; `file` names it in errors, `baseDirectory` anchors relative paths.
    public static func parse(yaml: String, file: String, baseDirectory: String) throws -> StressConfig {
        let root: YNode?
        do { root = try Yams.compose(yaml: yaml) } catch let e as YamlError {
            throw syntaxError(e, yaml: yaml, file: file)
        } catch {
            throw ConfigError(file: file, line: 1, column: 1, message: "invalid YAML: \(error)")
        }
        return try ConfigReader(file: file, baseDirectory: baseDirectory).document(root)
    }

    /// Yams' marks are already 1-based (it adds 1 to libyaml's 0-based marks).
    static func syntaxError(_ e: YamlError, yaml: String, file: String) -> ConfigError {
        func at(_ m: (line: Int, column: Int), _ message: String, _ context: YamlError.Context?) -> ConfigError {
            ConfigError(file: file, line: m.line, column: m.column, message: "invalid YAML: \(message)",
                        hint: context.map { "\($0.text) at \($0.mark.line):\($0.mark.column)" })
        }
        switch e {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            return at((mark.line, mark.column), problem, context)
        case let .duplicatedKeysInMapping(duplicates, context):
            let keys = duplicates.map { "\"\($0)\"" }.joined(separator: ", ")
            return at((context.mark.line, context.mark.column), "duplicate key \(keys)", nil)
        case let .reader(problem, offset, _, _):
            // Yams gives the offset in Characters; columns count Unicode scalars, as libyaml's do.
            let end = yaml.index(yaml.startIndex, offsetBy: offset ?? 0, limitedBy: yaml.endIndex) ?? yaml.endIndex
            let lines = yaml[..<end].unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false)
            return at((lines.count, (lines.last?.count ?? 0) + 1), problem, nil)
        default:
            return ConfigError(file: file, line: 1, column: 1, message: "invalid YAML: \(e)")
        }
    }
}

/// The keys each mapping accepts, in the order the hints list them.
enum ConfigKeys {
    static let top = ["name", "topology", "memory", "locks", "remote_cost", "caches", "run", "workloads", "vary", "expect"]
    static let topology = ["host", "synthetic", "xml", "distances"]
    static let memory = ["per_node", "zones", "max_order", "prefault", "watermarks", "pcp", "oom_wait", "kswapd"]
    static let locks = ["zone", "node_partial"]
    static let cache = ["name", "size", "align", "flags", "ctor"]
    static let run = ["duration", "operations", "warmup", "seed", "repetitions", "deterministic", "sample_rate",
                      "slub_debug", "on_slab_error"]
    static let workload = ["name", "cpus", "op", "size", "order", "cache", "prot", "policy", "huge", "mix", "gfp", "atomic_share", "lifetime",
                           "handoff", "from", "touch", "allocator"]
    static let mixEntry = ["op", "weight", "size", "order", "cache", "prot", "policy", "huge"]
}

/// Walks one config's node tree. Each method reads one section and throws a located
/// `ConfigError`; `path` (`workloads[1].mix[0].size`) starts each message, so the message alone
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
            let caches = try caches(n, cpus: machine.pus.count, slubDebug: config.run.slubDebug)
            try checkFit(caches, key: top.key("caches"), memory: config.memory, machine: machine)
            config.caches = caches.map(\.spec)
        }
        config.workloads = try workloads(top, caches: config.caches, memory: config.memory, machine: machine)
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
        guard s.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-".unicodeScalars.contains($0)) }) else {
            throw fail(n, "\(path): \"\(s)\" may only contain letters, digits, \".\", \"_\" and \"-\"", hint: hint)
        }
        guard s != ".", s != ".." else { throw fail(n, "\(path): \"\(s)\" is not a usable name", hint: hint) }
        return s
    }

    func locks(_ n: YNode?) throws -> LockSettings {
        var l = LockSettings()
        guard let n else { return l }
        let f = try fields(n, "locks", allowed: ConfigKeys.locks)
        if let v = f["zone"] { l.zone = try choice(v, "locks.zone", LockPolicy.allCases) }
        if let v = f["node_partial"] { l.nodePartial = try choice(v, "locks.node_partial", LockPolicy.allCases) }
        return l
    }

    func run(_ n: YNode) throws -> RunControl {
        let f = try fields(n, "run", allowed: ConfigKeys.run)
        var r = RunControl()
        if let v = f["duration"] {
            r.durationNS = try duration(v, "run.duration")
            guard r.durationNS > 0 else { throw fail(v, "run.duration: must be longer than 0", hint: "or give run.operations") }
        }
        if let v = f["operations"] { r.operations = try int(v, "run.operations", min: 1) }
        if let v = f["warmup"] { r.warmupNS = try duration(v, "run.warmup") }
        if let v = f["seed"] { r.seed = UInt64(try int(v, "run.seed", min: 0)) }
        if let v = f["repetitions"] { r.repetitions = try int(v, "run.repetitions", min: 1) }
        if let v = f["deterministic"] { r.deterministic = try bool(v, "run.deterministic") }
        if let v = f["sample_rate"] { r.sampleRate = try int(v, "run.sample_rate", min: 1) }
        if let v = f["slub_debug"] { r.slubDebug = try bool(v, "run.slub_debug") }
        if let v = f["on_slab_error"] { r.onSlabError = try choice(v, "run.on_slab_error", [SlabErrorPolicy.continue, .abort]) }
        return r
    }
}

// MARK: - Typed reading of YAML nodes

extension ConfigReader {
    /// One YAML mapping of the config by key, keeping the key nodes so that errors can point at them.
    struct Fields {
        let node: YNode
        let path: String
        let entries: [(name: String, key: YNode, value: YNode)]

        subscript(_ name: String) -> YNode? { entries.first { $0.name == name }?.value }
        func key(_ name: String) -> YNode? { entries.first { $0.name == name }?.key }
        func child(_ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }
    }
}

extension YNode {
    /// A plain `~`, `null` or empty value: YAML's way of writing nothing.
    fileprivate var isNull: Bool {
        guard case .scalar(let s) = self, s.style == .plain || s.style == .any else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(s.string)
    }

    /// What a node is, for "expected X, got Y".
    fileprivate var summary: String {
        switch self {
        case .scalar(let s): return isNull ? "nothing" : "\"\(s.string)\""
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }
}

extension ConfigReader {
    func fail(_ node: YNode?, _ message: String, hint: String? = nil) -> ConfigError {
        let m = node?.mark
        return ConfigError(file: file, line: m?.line ?? 1, column: m?.column ?? 1, message: message, hint: hint)
    }

    func fail(_ node: YNode?, _ path: String, _ e: ConfigValueError) -> ConfigError {
        fail(node, "\(path): \(e.message)", hint: e.hint)
    }

    /// A mapping whose keys are all in `allowed`; an unknown key is an error at that key.
    func fields(_ n: YNode, _ path: String, allowed: [String], hint extra: String? = nil) throws -> Fields {
        let label = path.isEmpty ? "the config" : path
        guard case .mapping(let map) = n else {
            throw fail(n, "\(label): expected a mapping with keys \(allowed.joined(separator: ", ")), got \(n.summary)")
        }
        var entries: [(String, YNode, YNode)] = []
        for (k, v) in map {
            guard case .scalar(let ks) = k, allowed.contains(ks.string) else {
                let name = k.scalar?.string ?? k.summary
                let close = allowed.first { Self.similar($0, name) }.map { "did you mean \($0)? " } ?? ""
                throw fail(k, "unknown key \"\(name)\"" + (path.isEmpty ? "" : " in \(path)"),
                           hint: (extra.map { $0 + "; " } ?? "") + close + "allowed keys: " + allowed.joined(separator: ", "))
            }
            entries.append((ks.string, k, v))
        }
        return Fields(node: n, path: path, entries: entries)
    }

    /// Same letters ignoring case and `_`, or one edit apart: `perNode` for `per_node`.
    static func similar(_ a: String, _ b: String) -> Bool {
        let x = Array(a.lowercased().filter { $0 != "_" }), y = Array(b.lowercased().filter { $0 != "_" })
        if x == y { return true }
        guard x.count >= 3, y.count >= 3 else { return false }
        var prev = Array(0...y.count)  // Levenshtein, one row at a time
        for i in 1...x.count {
            var cur = [i]
            for j in 1...y.count { cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))) }
            prev = cur
        }
        return prev[y.count] <= 1
    }

    func require(_ f: Fields, _ name: String) throws -> YNode {
        guard let v = f[name] else {
            throw fail(f.node, (f.path.isEmpty ? "" : "\(f.path): ") + "missing required key \"\(name)\"")
        }
        return v
    }

    func scalar(_ n: YNode, _ path: String, expected: String) throws -> String {
        guard case .scalar(let s) = n, !n.isNull else { throw fail(n, "\(path): expected \(expected), got \(n.summary)") }
        return s.string
    }

    func string(_ n: YNode, _ path: String) throws -> String { try scalar(n, path, expected: "a string") }

    func sequence(_ n: YNode, _ path: String, expected: String) throws -> [YNode] {
        guard case .sequence(let s) = n else { throw fail(n, "\(path): expected \(expected), got \(n.summary)") }
        return Array(s)
    }

    /// Decimal or `0x` hex integer within `min…max`.
    func int(_ n: YNode, _ path: String, min lo: Int = .min, max hi: Int? = nil) throws -> Int {
        let t = try scalar(n, path, expected: "an integer")
        let hex = t.hasPrefix("0x") ? Int(t.dropFirst(2), radix: 16) : nil
        guard let v = Int(t) ?? hex else { throw fail(n, "\(path): expected an integer, got \"\(t)\"") }
        if let hi, !(lo...hi).contains(v) { throw fail(n, "\(path): must be \(lo)…\(hi), got \(v)") }
        if v < lo { throw fail(n, "\(path): must be at least \(lo), got \(v)") }
        return v
    }

    func number(_ n: YNode, _ path: String) throws -> Double {
        let t = try scalar(n, path, expected: "a number")
        guard let v = Double(t), v.isFinite else { throw fail(n, "\(path): expected a number, got \"\(t)\"") }
        return v
    }

    func bool(_ n: YNode, _ path: String) throws -> Bool {
        let t = try scalar(n, path, expected: "true or false")
        guard t == "true" || t == "false" else { throw fail(n, "\(path): expected true or false, got \"\(t)\"") }
        return t == "true"
    }

    func size(_ n: YNode, _ path: String) throws -> Int {
        let t = try scalar(n, path, expected: "a size like 256MiB")
        do { return try Units.size(t) } catch { throw fail(n, path, error) }
    }

    func duration(_ n: YNode, _ path: String) throws -> UInt64 {
        let t = try scalar(n, path, expected: "a duration like 5s")
        do { return try Units.duration(t) } catch { throw fail(n, path, error) }
    }

    func choice<E: RawRepresentable>(_ n: YNode, _ path: String, _ cases: [E]) throws -> E where E.RawValue == String {
        let names = cases.map(\.rawValue)
        let expected = names.count == 2 ? "\(names[0]) or \(names[1])" : "one of " + names.joined(separator: ", ")
        let t = try scalar(n, path, expected: expected)
        guard names.contains(t), let v = E(rawValue: t) else { throw fail(n, "\(path): expected \(expected), got \"\(t)\"") }
        return v
    }
}

// MARK: - Topology, memory, caches

extension ConfigReader {
    /// `host`, or `{ host: true | synthetic: S | xml: PATH, distances: [[...]] }`; loaded at once,
    /// because CPU selectors and the memory check need the machine's shape.
    func topology(_ n: YNode?) throws -> (TopologySpec, Machine) {
        var spec = TopologySpec()
        var at = n, distances: YNode? = nil
        if let n, case .mapping = n {
            let f = try fields(n, "topology", allowed: ConfigKeys.topology)
            let sources = f.entries.filter { ["host", "synthetic", "xml"].contains($0.name) }
            guard sources.count == 1 else {
                if sources.isEmpty { throw fail(n, "topology: needs one of host: true, synthetic or xml") }
                throw fail(sources[1].key, "topology: give only one of host, synthetic and xml")
            }
            let (kind, _, v) = sources[0]
            at = v
            let path = "topology.\(kind)"
            switch kind {
            case "host":
                guard try bool(v, path) else { throw fail(v, "\(path): only true makes sense here", hint: "use synthetic or xml for another shape") }
            case "synthetic":
                let s = try string(v, path)
                guard !s.trimmingWhitespace().isEmpty else { throw fail(v, "\(path): empty description", hint: "e.g. \"pack:2 [numa] core:4 pu:1\"") }
                spec.source = .synthetic(s)
            default:
                spec.source = .xml(path: try xmlPath(v, path))
            }
            if let d = f["distances"] { spec.distances = try matrix(d, "topology.distances"); distances = d }
        } else if let n {
            guard try scalar(n, "topology", expected: "host or a mapping") == "host" else {
                throw fail(n, "topology: expected host or a mapping with one of host, synthetic, xml, got \(n.summary)",
                           hint: "e.g. topology: { synthetic: \"pack:2 [numa] core:4 pu:1\" }")
            }
        }
        do {
            return (spec, try TopologyLoader.load(spec.source, distances: spec.distances))
        } catch {
            let message = (error as? TopologyError)?.message ?? "\(error)"
            // A bad matrix or a bad shape? Loading the shape alone tells; only on this error path.
            if let distances, (try? TopologyLoader.load(spec.source)) != nil {
                throw fail(distances, "topology.distances: \(message)")
            }
            throw fail(at, "topology: \(message)")
        }
    }

    /// An XML path relative to the config's folder, checked to exist so that the error names
    /// the resolved path rather than hwloc's "failed to load".
    func xmlPath(_ n: YNode, _ path: String) throws -> String {
        let p = try string(n, path)
        let url = p.hasPrefix("/") ? URL(fileURLWithPath: p) : URL(fileURLWithPath: baseDirectory).appendingPathComponent(p)
        let full = url.standardizedFileURL.path
        guard FileManager.default.fileExists(atPath: full) else {
            throw fail(n, "\(path): no such file \(full)", hint: "relative paths are relative to the config's folder")
        }
        return full
    }

    func matrix(_ n: YNode, _ path: String) throws -> [[Int]] {
        try sequence(n, path, expected: "a list of rows like [[10, 21], [21, 10]]").enumerated().map { i, row in
            try sequence(row, "\(path)[\(i)]", expected: "a row like [10, 21]").enumerated().map { j, v in
                try int(v, "\(path)[\(i)][\(j)]", min: 0)
            }
        }
    }

    /// `memory:` on top of `MemoryConfig()` defaults, validated for `nodes` nodes (which checks the
    /// host too). A validation failure is placed at the value that causes it.
    func memory(_ top: Fields, nodes: Int) throws -> MemoryConfig {
        var m = MemoryConfig()
        var f: Fields? = nil, zones: Fields? = nil
        if let n = top["memory"] {
            let mf = try fields(n, "memory", allowed: ConfigKeys.memory)
            f = mf
            if let v = mf["per_node"] { m.perNodeBytes = try size(v, "memory.per_node") }
            if let v = mf["zones"] {
                let z = try fields(v, "memory.zones", allowed: ["DMA", "DMA32"], hint: "ZONE_NORMAL takes what DMA and DMA32 leave")
                zones = z
                if let d = z["DMA"] { m.dmaBytes = try size(d, "memory.zones.DMA") }
                if let d = z["DMA32"] { m.dma32Bytes = try size(d, "memory.zones.DMA32") }
            }
            if let v = mf["max_order"] { m.maxOrder = try int(v, "memory.max_order") }
            if let v = mf["prefault"] { m.prefault = try bool(v, "memory.prefault") }
            if let v = mf["watermarks"] {
                let w = try fields(v, "memory.watermarks", allowed: ["min", "low", "high"])
                func pages(_ k: String) throws -> Int { try int(require(w, k), "memory.watermarks.\(k)", min: 0) }
                m.watermarks = Watermarks(min: try pages("min"), low: try pages("low"), high: try pages("high"))
            }
            if let v = mf["pcp"] {
                let p = try fields(v, "memory.pcp", allowed: ["batch", "high"])
                if let b = p["batch"] { m.pcpBatch = try int(b, "memory.pcp.batch", min: 1) }
                if let h = p["high"] { m.pcpHigh = try int(h, "memory.pcp.high", min: 1) }
            }
            if let v = mf["oom_wait"] { m.oomWaitNS = try duration(v, "memory.oom_wait") }
            if let v = mf["kswapd"] { m.kswapd = try bool(v, "memory.kswapd") }
        }
        do { try m.validate(nodes: nodes) } catch {
            let message = (error as? MemoryConfigError)?.message ?? "\(error)"
            // validate() checks in this order; the first failing condition names the value.
            let ok = { (b: Int) in b >= 0 && b % pageSize == 0 }
            let (at, hint): (YNode?, String?) =
                !(m.perNodeBytes > 0 && ok(m.perNodeBytes)) ? (f?["per_node"], nil)
                : !ok(m.dmaBytes) ? (zones?["DMA"], nil)
                : !ok(m.dma32Bytes) ? (zones?["DMA32"], nil)
                : m.normalBytes < 0 ? (f?["zones"] ?? f?["per_node"], "ZONE_NORMAL takes what DMA and DMA32 leave: shrink zones or raise per_node")
                : !(1...20).contains(m.maxOrder) ? (f?["max_order"], nil)
                : m.watermarks.map { !(0 <= $0.min && $0.min <= $0.low && $0.low <= $0.high) } == true ? (f?["watermarks"], nil)
                : (f?["per_node"], "lower memory.per_node or use a topology with fewer nodes")
            throw fail(at ?? top.key("memory") ?? top["topology"], "memory: \(message)", hint: hint)
        }
        return m
    }

    /// `caches:` with each cache's slab layout worked out, which also refuses sizes and
    /// alignments SLUB could not lay out.
    func caches(_ n: YNode, cpus: Int, slubDebug: Bool) throws -> [(spec: CacheSpec, layout: SlabLayout)] {
        var out: [(spec: CacheSpec, layout: SlabLayout)] = []
        var seen: [String: YNode] = [:]
        for (i, item) in try sequence(n, "caches", expected: "a list of { name, size, ... }").enumerated() {
            let path = "caches[\(i)]"
            let f = try fields(item, path, allowed: ConfigKeys.cache)
            let nameNode = try require(f, "name")
            let name = try self.name(nameNode, "\(path).name")
            if let first = seen[name] {
                throw fail(nameNode, "\(path).name: cache \"\(name)\" is already defined", hint: "first defined at line \(first.mark?.line ?? 1)")
            }
            seen[name] = nameNode
            let sizeNode = try require(f, "size")
            var spec = CacheSpec(name: name, size: try size(sizeNode, "\(path).size"))
            guard (1...(32 << 10)).contains(spec.size) else {
                throw fail(sizeNode, "\(path).size: must be 1 B…32 KiB, got \(Units.format(spec.size))", hint: "larger objects come from alloc_pages or vmalloc")
            }
            if let v = f["align"] {
                spec.align = try int(v, "\(path).align", min: 0)
                guard spec.align & (spec.align - 1) == 0 else {
                    throw fail(v, "\(path).align: must be a power of two, got \(spec.align)", hint: "0 means the default (word size)")
                }
            }
            if let v = f["flags"] {
                for (j, fl) in try sequence(v, "\(path).flags", expected: "a list like [SLAB_HWCACHE_ALIGN]").enumerated() {
                    let t = try string(fl, "\(path).flags[\(j)]")
                    guard let flag = SlabFlags.named(t) else {
                        throw fail(fl, "\(path).flags[\(j)]: unknown flag \"\(t)\"", hint: "flags: " + SlabFlags.names.map(\.0).joined(separator: ", "))
                    }
                    spec.flags.insert(flag)
                }
            }
            if let v = f["ctor"] { spec.ctor = try bool(v, "\(path).ctor") }
            do {
                let layout = try SlabLayout(size: spec.size, align: spec.align, flags: slubDebug ? spec.flags.union(.debug) : spec.flags,
                                            hasCtor: spec.ctor, cpus: cpus)
                out.append((spec, layout))
            } catch {
                throw fail(item, "\(path): \((error as? SlabError)?.message ?? "\(error)")")
            }
        }
        return out
    }

    /// Every CPU takes one slab of each cache from its own node before the first free, so a
    /// node must hold a slab of each cache's order for each of its CPUs (the busiest node counts).
    func checkFit(_ caches: [(spec: CacheSpec, layout: SlabLayout)], key: YNode?, memory: MemoryConfig, machine: Machine) throws {
        let cpus = machine.nodes.map(\.pus.count).max() ?? machine.pus.count
        let perCPU = caches.reduce(0) { $0 + (pageSize << $1.layout.order) }
        guard perCPU * cpus > memory.perNodeBytes else { return }
        throw fail(key, "caches: one slab per cache per CPU needs \(Units.format(perCPU)) × \(cpus) CPUs = \(Units.format(perCPU * cpus)) per node, more than memory.per_node (\(Units.format(memory.perNodeBytes)))",
                   hint: "raise memory.per_node or use fewer or smaller caches")
    }
}

// MARK: - Workloads

extension ConfigReader {
    /// A parsed workload with the nodes its cross-checks point at.
    struct WorkloadEntry {
        var spec: WorkloadSpec
        var fields: Fields
        /// For each operation of `spec.mix`: the mapping it came from (the workload itself for `op:`).
        var opFields: [Fields]
    }

    /// What the operations of all workloads are checked against.
    struct OpContext {
        var caches: [CacheSpec]
        var maxOrder: Int
        var nodes: Int = 1
        /// OS node numbers in the model's node order: configs name nodes as numactl does.
        var nodeOS: [Int] = [0]
        var cacheHint: String {
            caches.isEmpty ? "no caches are defined: add one under caches" : "caches: " + caches.map(\.name).joined(separator: ", ")
        }
    }
}

extension ConfigReader {
    func workloads(_ top: Fields, caches: [CacheSpec], memory: MemoryConfig, machine: Machine) throws -> [WorkloadSpec] {
        let n = try require(top, "workloads")
        let items = try sequence(n, "workloads", expected: "a list of workloads")
        guard !items.isEmpty else { throw fail(n, "workloads: needs at least one workload") }
        let ctx = OpContext(caches: caches, maxOrder: memory.maxOrder, nodes: machine.nodes.count, nodeOS: machine.nodeOSIndexes)
        var entries: [WorkloadEntry] = []
        for (i, item) in items.enumerated() {
            let e = try workload(item, "workloads[\(i)]", ctx: ctx, machine: machine)
            if let first = entries.first(where: { $0.spec.name == e.spec.name }) {
                throw fail(e.fields["name"], "workloads[\(i)].name: workload \"\(e.spec.name)\" is already defined",
                           hint: "first defined at line \(first.fields["name"]?.mark?.line ?? 1)")
            }
            entries.append(e)
        }
        try link(entries, ctx: ctx)
        return entries.map(\.spec)
    }

    func workload(_ n: YNode, _ path: String, ctx: OpContext, machine: Machine) throws -> WorkloadEntry {
        let f = try fields(n, path, allowed: ConfigKeys.workload)
        let name = try self.name(require(f, "name"), "\(path).name")
        var w = WorkloadSpec(name: name, cpus: .all)
        if let v = f["cpus"] {
            // A bare number is one CPU; anything else is selector text.
            if case .scalar(let s) = v, let id = Int(s.string) {
                guard id >= 0 else { throw fail(v, "\(path).cpus: CPU ids are ≥ 0, got \(id)") }
                w.cpus = .list([id])
            } else {
                do { w.cpus = try CPUSelector.parse(try string(v, "\(path).cpus")) } catch let e as ConfigValueError { throw fail(v, "\(path).cpus", e) }
            }
            do { _ = try w.cpus.check(in: machine) } catch { throw fail(v, "\(path).cpus", error) }
        }
        var opFields: [Fields] = []
        switch (f["op"], f["mix"]) {
        case (.some, .some):
            throw fail(f.key("mix"), "\(path): give either op or mix, not both")
        case (nil, nil):
            throw fail(n, "\(path): needs op (one operation) or mix (weighted operations)")
        case (.some, nil):
            w.mix = [try op(f, path, ctx: ctx)]
            opFields = [f]
        case (nil, .some(let m)):
            for k in ["size", "order", "cache", "prot", "policy", "huge"] where f[k] != nil {
                throw fail(f.key(k), "\(path): \(k) goes inside each mix entry when mix is used")
            }
            let list = try sequence(m, "\(path).mix", expected: "a list of { op, weight, ... }")
            guard !list.isEmpty else { throw fail(m, "\(path).mix: needs at least one operation") }
            for (j, item) in list.enumerated() {
                let ef = try fields(item, "\(path).mix[\(j)]", allowed: ConfigKeys.mixEntry)
                w.mix.append(try op(ef, ef.path, ctx: ctx))
                opFields.append(ef)
            }
        }
        if let v = f["gfp"] {
            let t = try string(v, "\(path).gfp")
            do { w.gfp = try GFP.parse(t) } catch { throw fail(v, "\(path).gfp: \((error as? GFPError)?.message ?? "\(error)")") }
        }
        if let v = f["atomic_share"] {
            w.atomicShare = try number(v, "\(path).atomic_share")
            guard (0...1).contains(w.atomicShare) else { throw fail(v, "\(path).atomic_share: must be 0…1, got \(w.atomicShare)") }
        }
        if let v = f["lifetime"] { w.lifetime = try lifetime(v, "\(path).lifetime") }
        if let v = f["handoff"] { w.handoff = try string(v, "\(path).handoff") }
        if let v = f["from"] { w.from = try string(v, "\(path).from") }
        if let v = f["touch"] { w.touch = try touch(v, "\(path).touch") }
        if let v = f["allocator"] { w.allocator = try choice(v, "\(path).allocator", [AllocatorChoice.kernel, .malloc]) }
        return WorkloadEntry(spec: w, fields: f, opFields: opFields)
    }

    /// One operation from `f`: a mix entry, or the workload itself with `op:`. Each parameter
    /// belongs to some operations only; one given to another is most likely a mistake.
    func op(_ f: Fields, _ path: String, ctx: OpContext) throws -> OpSpec {
        let opNode = try require(f, "op")
        let kind = try choice(opNode, f.child("op"), OpKind.allCases)
        var op = OpSpec(kind: kind)
        let hint = "kmalloc and vmalloc take size, alloc_pages takes order, kmem_cache_alloc takes cache; frees take what they are handed"
        func stray(_ key: String) -> ConfigError { fail(f.key(key), "\(path): \(key) does not apply to \(kind.rawValue)", hint: hint) }
        if let v = f["weight"] {
            op.weight = try number(v, f.child("weight"))
            guard op.weight > 0 else { throw fail(v, "\(f.child("weight")): must be more than 0, got \(op.weight)") }
        }
        if let v = f["size"] {
            guard kind == .kmalloc || kind == .vmalloc || kind == .mmap else { throw stray("size") }
            op.size = try distribution(v, f.child("size")) { n, p in
                let bytes = try size(n, p)
                guard bytes > 0 else { throw fail(n, "\(p): \(kind.rawValue) size must be at least 1 byte") }
                // Above this kmalloc_large() fails every time: no block is that big.
                let largest = pageSize << ctx.maxOrder
                guard kind != .kmalloc || bytes <= largest else {
                    throw fail(n, "\(p): kmalloc of \(Units.format(bytes)) can never succeed: the largest block is \(Units.format(largest)) (order \(ctx.maxOrder))",
                               hint: "use vmalloc for large sizes")
                }
                return bytes
            }
        }
        if let v = f["order"] {
            guard kind == .allocPages else { throw stray("order") }
            op.order = try distribution(v, f.child("order")) { n, p in try int(n, p, min: 0, max: ctx.maxOrder) }
        }
        if let v = f["cache"] {
            guard kind == .kmemCacheAlloc || kind == .kmemCacheFree else { throw stray("cache") }
            let name = try string(v, f.child("cache"))
            guard ctx.caches.contains(where: { $0.name == name }) else {
                throw fail(v, "\(f.child("cache")): no cache named \"\(name)\"", hint: ctx.cacheHint)
            }
            op.cache = name
        }
        if let v = f["prot"] {
            guard kind == .mmap else { throw stray("prot") }
            op.prot = try choice(v, f.child("prot"), [Protection.readWrite, .readOnly])
        }
        if let v = f["huge"] {
            guard kind == .mmap else { throw stray("huge") }
            op.huge = try bool(v, f.child("huge"))
        }
        if let v = f["policy"] {
            guard kind == .mmap else { throw stray("policy") }
            op.policy = try policy(v, f.child("policy"), nodeOS: ctx.nodeOS)
        }
        if kind == .kmemCacheAlloc, op.cache == nil {
            throw fail(opNode, "\(path): kmem_cache_alloc needs cache: naming one of caches", hint: ctx.cacheHint)
        }
        return op
    }

    /// `first_touch` (or `local`), `interleave` (all nodes) or `interleave:0,2`, `bind:N`,
    /// `preferred:N`: the mbind modes. N is the OS node number; the policy holds the model's index.
    func policy(_ n: YNode, _ path: String, nodeOS: [Int]) throws -> MemPolicy {
        let t = try string(n, path)
        let nodes = nodeOS.count
        let hint = "first_touch, interleave, interleave:0,1, bind:N, preferred:N (nodes \(TopologyReport.ranges(nodeOS)))"
        func node(_ s: Substring) throws -> Int {
            guard let v = Int(s.trimmingCharacters(in: .whitespaces)), let i = nodeOS.firstIndex(of: v) else {
                throw fail(n, "\(path): no node \"\(s)\"", hint: hint)
            }
            return i
        }
        let parts = t.split(separator: ":", maxSplits: 1)
        switch (parts.first.map(String.init), parts.count) {
        case ("first_touch", 1), ("local", 1): return .firstTouch
        case ("interleave", 1): return .interleave(Array(0..<nodes))
        case ("interleave", 2): return .interleave(try parts[1].split(separator: ",").map(node))
        case ("bind", 2): return .bind(try node(parts[1]))
        case ("preferred", 2): return .preferred(try node(parts[1]))
        default: throw fail(n, "\(path): unknown policy \"\(t)\"", hint: hint)
        }
    }

    /// `64`, `{ uniform: [lo, hi] }` or `{ weighted: [[value, weight], ...] }`; `value` reads
    /// and checks one value at its own node.
    func distribution(_ n: YNode, _ path: String, value: (YNode, String) throws -> Int) throws -> Distribution {
        let shapes = "a value, { uniform: [lo, hi] } or { weighted: [[value, weight], ...] }"
        guard case .mapping = n else {
            guard case .scalar = n else { throw fail(n, "\(path): expected \(shapes), got \(n.summary)") }
            return .fixed(try value(n, path))
        }
        let f = try fields(n, path, allowed: ["uniform", "weighted"])
        guard f.entries.count == 1 else { throw fail(n, "\(path): expected \(shapes)") }
        let (kind, _, v) = f.entries[0]
        let p = f.child(kind)
        if kind == "uniform" {
            let bounds = try sequence(v, p, expected: "[lo, hi]")
            guard bounds.count == 2 else { throw fail(v, "\(p): expected [lo, hi], got \(bounds.count) values") }
            let lo = try value(bounds[0], "\(p)[0]"), hi = try value(bounds[1], "\(p)[1]")
            guard lo <= hi else { throw fail(v, "\(p): lo \(lo) is above hi \(hi)") }
            return .uniform(lo, hi)
        }
        let pairs = try sequence(v, p, expected: "a list of [value, weight] pairs")
        guard !pairs.isEmpty else { throw fail(v, "\(p): needs at least one [value, weight] pair") }
        return .weighted(try pairs.enumerated().map { i, pair in
            let two = try sequence(pair, "\(p)[\(i)]", expected: "[value, weight]")
            guard two.count == 2 else { throw fail(pair, "\(p)[\(i)]: expected [value, weight], got \(two.count) values") }
            let weight = try number(two[1], "\(p)[\(i)][1]")
            guard weight > 0 else { throw fail(two[1], "\(p)[\(i)][1]: weight must be more than 0, got \(weight)") }
            return (try value(two[0], "\(p)[\(i)][0]"), weight)
        })
    }

    /// `immediate` or `{ keep: N, order: fifo|lifo|random }`.
    func lifetime(_ n: YNode, _ path: String) throws -> Lifetime {
        guard case .mapping = n else {
            guard try scalar(n, path, expected: "immediate or { keep: N, order: fifo }") == "immediate" else {
                throw fail(n, "\(path): expected immediate or { keep: N, order: fifo|lifo|random }, got \(n.summary)")
            }
            return .immediate
        }
        let f = try fields(n, path, allowed: ["keep", "order"])
        let keep = try int(require(f, "keep"), "\(path).keep", min: 1)
        let order = try f["order"].map { try choice($0, "\(path).order", [LifetimeOrder.fifo, .lifo, .random]) } ?? .fifo
        return .keep(keep, order)
    }

    /// `64` (bytes) or `{ bytes: 64, pattern: 0x5a }`.
    func touch(_ n: YNode, _ path: String) throws -> TouchSpec {
        let bytesNode: YNode, f: Fields?
        if case .mapping = n {
            let m = try fields(n, path, allowed: ["bytes", "pattern"])
            bytesNode = try require(m, "bytes"); f = m
        } else { bytesNode = n; f = nil }
        let p = f == nil ? path : "\(path).bytes"
        var t = TouchSpec(bytes: try size(bytesNode, p))
        guard t.bytes > 0 else { throw fail(bytesNode, "\(p): must be at least 1 byte") }
        if let v = f?["pattern"] { t.pattern = UInt8(try int(v, "\(path).pattern", min: 0, max: 255)) }
        return t
    }
}

// MARK: - Producer → consumer links

extension OpKind {
    /// The free that undoes an allocation, and the allocation a free undoes.
    fileprivate var counterpart: OpKind {
        switch self {
        case .kmalloc: return .kfree
        case .kmemCacheAlloc: return .kmemCacheFree
        case .allocPages: return .freePages
        case .vmalloc: return .vfree
        case .kfree: return .kmalloc
        case .kmemCacheFree: return .kmemCacheAlloc
        case .freePages: return .allocPages
        case .vfree: return .vmalloc
        case .mmap: return .munmap
        case .munmap: return .mmap
        }
    }
}

extension Distribution {
    fileprivate var minValue: Int {
        switch self {
        case .fixed(let v): return v
        case .uniform(let lo, _): return lo
        case .weighted(let l): return l.map(\.value).min() ?? 0
        }
    }
}

extension ConfigReader {
    /// A producer names its consumer (`handoff:`) and the consumer names it back (`from:`): the
    /// consumer frees, on its own CPUs, what the producer allocates, as a NIC's TX completion
    /// frees the skb that RX allocated. Both ends must agree, and the frees must match the
    /// allocations, or objects would pile up with nobody to free them.
    func link(_ entries: [WorkloadEntry], ctx: OpContext) throws {
        let names = "workloads: " + entries.map(\.spec.name).joined(separator: ", ")
        func find(_ name: String) -> WorkloadEntry? { entries.first { $0.spec.name == name } }
        for (i, e) in entries.enumerated() {
            let w = e.spec, path = "workloads[\(i)]"
            let ops = Array(zip(w.mix, e.opFields))
            if w.from == nil, let (op, f) = ops.first(where: { $0.0.kind.isFree }) {
                throw fail(f["op"], "\(path): \(op.kind.rawValue) frees what another workload hands off, so it needs from: WORKLOAD",
                           hint: "the producer names this workload in handoff:")
            }
            if let src = w.from, let at = e.fields["from"] {
                guard src != w.name else { throw fail(at, "\(path).from: a workload cannot take from itself") }
                guard let s = find(src) else { throw fail(at, "\(path).from: no workload named \"\(src)\"", hint: names) }
                guard s.spec.handoff == w.name else {
                    throw fail(at, "\(path).from: workload \"\(src)\" does not hand off to \"\(w.name)\"", hint: "add handoff: \(w.name) to workload \(src)")
                }
                for (op, f) in ops {
                    guard op.kind.isFree else {
                        throw fail(f["op"], "\(path): a consumer (from: \(src)) only frees, but \(op.kind.rawValue) allocates",
                                   hint: "put allocations in a workload of their own")
                    }
                    let alloc = op.kind.counterpart
                    guard s.spec.mix.contains(where: { $0.kind == alloc }) else {
                        throw fail(f["op"], "\(path): \(op.kind.rawValue) frees \(alloc.rawValue) objects, but \"\(src)\" never calls \(alloc.rawValue)")
                    }
                    if let c = op.cache, !s.spec.mix.contains(where: { $0.kind == alloc && $0.cache == c }) {
                        throw fail(f["cache"], "\(path): \"\(src)\" never allocates from cache \"\(c)\"")
                    }
                }
            }
            if let dst = w.handoff, let at = e.fields["handoff"] {
                guard dst != w.name else { throw fail(at, "\(path).handoff: a workload cannot hand off to itself") }
                guard w.from == nil else { throw fail(at, "\(path).handoff: a consumer only frees, so it has nothing to hand off") }
                guard let d = find(dst) else { throw fail(at, "\(path).handoff: no workload named \"\(dst)\"", hint: names) }
                guard d.spec.from == w.name else {
                    throw fail(at, "\(path).handoff: workload \"\(dst)\" does not take from \"\(w.name)\"", hint: "add from: \(w.name) to workload \(dst)")
                }
                for op in w.mix where !d.spec.mix.contains(where: { $0.kind == op.kind.counterpart }) {
                    throw fail(at, "\(path).handoff: \"\(dst)\" has no \(op.kind.counterpart.rawValue) for what \(op.kind.rawValue) allocates",
                               hint: "add op \(op.kind.counterpart.rawValue) to workload \(dst)")
                }
            }
        }
    }
}
