import Foundation
import KernelMM
import Topology
import Yams

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
