import Foundation
import KernelMM
import Topology

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
                let d = try int(v, "\(path)[\(i)][\(j)]")
                // The shape needs the machine, which is loaded after this; each value does not.
                if let p = DistanceMatrix.problem(d, from: i, to: j) {
                    throw fail(v, "\(path): \(p)", hint: "SLIT distances: 10 on the diagonal, 11…255 elsewhere, e.g. 21 for one hop")
                }
                return d
            }
        }
    }

    static let bootHint = "raise memory.per_node or lower memory.watermarks; each workload that maps memory has an address space of its own"

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
            if let v = mf["oom_wait"] { m.oomWaitNS = try boundedDuration(v, "memory.oom_wait") }
            if let v = mf["kswapd"] { m.kswapd = try bool(v, "memory.kswapd") }
            if let v = mf["compaction"] { m.compaction = try bool(v, "memory.compaction") }
        }
        do { try m.validate(nodes: nodes) } catch {
            let (at, hint): (YNode?, String?)
            switch error.field {
            case .perNode?: (at, hint) = (f?["per_node"], nil)
            case .dma?: (at, hint) = (zones?["DMA"], nil)
            case .dma32?: (at, hint) = (zones?["DMA32"], nil)
            case .zones?: (at, hint) = (f?["zones"] ?? f?["per_node"], "ZONE_NORMAL takes what DMA and DMA32 leave: shrink zones or raise per_node")
            case .maxOrder?: (at, hint) = (f?["max_order"], nil)
            case .watermarks?: (at, hint) = (f?["watermarks"], nil)
            case .pcpBatch?, .pcpHigh?: (at, hint) = (f?["pcp"], nil)
            case .boot?: (at, hint) = (f?["watermarks"] ?? f?["per_node"], Self.bootHint)
            case .host?, nil: (at, hint) = (f?["per_node"], "lower memory.per_node or use a topology with fewer nodes")
            }
            throw fail(at ?? top.key("memory") ?? top["topology"], "memory: \(error.message)", hint: hint)
        }
        return m
    }
}
