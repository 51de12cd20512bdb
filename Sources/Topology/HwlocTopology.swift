import CHwloc
import CNuma
import Foundation

/// Owner of one `hwloc_topology_t`. Models nothing of the kernel: it is the door to the real
/// machine description. hwloc pointers never leave this file; callers get `Machine` values.
final class HwlocTopology: @unchecked Sendable {
    let handle: hwloc_topology_t
    let source: TopologySource

    init(_ source: TopologySource) throws {
        var topo: hwloc_topology_t?
        guard hwloc_topology_init(&topo) == 0, let topo else { throw TopologyError("hwloc_topology_init failed") }
        // Keep memory-only nodes and everything the source describes; I/O objects are not needed.
        hwloc_topology_set_io_types_filter(topo, HWLOC_TYPE_FILTER_KEEP_NONE)
        switch source {
        case .host:
            break
        case .synthetic(let desc):
            // hwloc builds whatever it is asked; a typo like core:99999 would take minutes.
            if let n = Self.syntheticPUs(desc), n > Self.maxCPUs {
                hwloc_topology_destroy(topo)
                throw TopologyError("synthetic topology \"\(desc)\" has \(n) PUs; at most \(Self.maxCPUs) (NR_CPUS) are supported")
            }
            if let wide = Self.syntheticArities(desc)?.max(), wide > Self.maxArity {
                hwloc_topology_destroy(topo)
                throw TopologyError("synthetic topology \"\(desc)\" has a level of \(wide) under one parent; at most \(Self.maxArity) are supported (split it, e.g. pack:8 core:\(max(wide / 8, 1)))")
            }
            if let arities = Self.syntheticArities(desc), Self.syntheticBuildCost(arities) > Self.maxBuildCost {
                hwloc_topology_destroy(topo)
                let wide = arities.max() ?? 1
                let split = Self.splitHint(wide)
                throw TopologyError("synthetic topology \"\(desc)\" is too flat to build quickly: hwloc compares each object's cpuset with every sibling's, about \(String(format: "%.1e", Self.syntheticBuildCost(arities))) bitmap words here, at most \(String(format: "%.1e", Self.maxBuildCost)); split the widest level in two, e.g. \(wide) as group:\(split.0) over \(split.1) each")
            }
            if desc.trimmingCharacters(in: .whitespaces).isEmpty || hwloc_topology_set_synthetic(topo, desc) != 0 {
                hwloc_topology_destroy(topo)
                throw TopologyError("invalid synthetic topology \"\(desc)\" (expected e.g. \"pack:2 [numa] core:4 pu:2\")")
            }
        case .xml(let path):
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue else {
                hwloc_topology_destroy(topo)
                throw TopologyError("topology XML file not found: \(path)")
            }
            // hwloc prints its own XML parser complaints to stderr; keep the one-line contract.
            setenv("HWLOC_XML_VERBOSE", "0", 1)
            if hwloc_topology_set_xml(topo, path) != 0 {
                hwloc_topology_destroy(topo)
                throw TopologyError("cannot read topology XML \(path): \(String(cString: strerror(errno)))")
            }
        }
        if hwloc_topology_load(topo) != 0 {
            hwloc_topology_destroy(topo)
            throw TopologyError("cannot load \(source) topology (malformed input?)")
        }
        self.handle = topo
        self.source = source
        // Distances and zonelists grow with the square of the node count.
        if count(HWLOC_OBJ_NUMANODE) > Self.maxNodes {
            throw TopologyError("\(source) has \(count(HWLOC_OBJ_NUMANODE)) NUMA nodes; at most \(Self.maxNodes) (MAX_NUMNODES) are supported")
        }
        if case .xml(let path) = source, count(HWLOC_OBJ_PU) == 0 {
            throw TopologyError("topology XML \(path) describes no processing units")
        }
    }

    deinit { hwloc_topology_destroy(handle) }

    /// CONFIG_NR_CPUS of distribution kernels.
    static let maxCPUs = 8192
    /// MAX_NUMNODES of distribution kernels (CONFIG_NODES_SHIFT=10).
    static let maxNodes = 1024

    /// Children per parent at each level of a synthetic description, `type:N` or a bare `N`
    /// (hwloc reads "4 2" as four packages of two PUs); Int.max for a number too long to read,
    /// nil when a level has no number.
    static func syntheticArities(_ desc: String) -> [Int]? {
        var arities: [Int] = []
        for token in desc.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
            let start = token.firstIndex(of: ":").map { token.index(after: $0) } ?? token.startIndex
            if start == token.startIndex, !(token.first?.isNumber ?? false) { continue }   // [numa], attributes
            let digits = token[start...].prefix { $0.isNumber }
            guard !digits.isEmpty else { return nil }
            arities.append(Int(digits) ?? .max)
        }
        return arities
    }

    /// The product of the arities: the PUs a synthetic description asks for.
    static func syntheticPUs(_ desc: String) -> Int? {
        syntheticArities(desc)?.reduce(1) { p, n in
            let (q, overflow) = p.multipliedReportingOverflow(by: max(n, 1))
            return overflow ? .max : q
        }
    }

    /// Siblings under one parent: hwloc inserts each object by comparing it with its siblings'
    /// cpusets, so a level of N siblings costs about N² bitmap operations (a flat core:8192 took
    /// over a minute, 4 s at 4096). Real machines nest their CPUs in far narrower levels.
    static let maxArity = 1024

    /// What loading a synthetic shape costs hwloc, in bitmap words compared: it inserts each
    /// object by walking down from the root, comparing its cpuset with every sibling at each
    /// level on the way (`hwloc__insert_object_by_cpuset`), and a cpuset has PUs/64 words. So a
    /// level of N objects costs N × (sum of the arities above and at it) × words. Measured on
    /// the development VM: about 2 ns per word, so "pack:64 [numa] core:128 pu:1" (8192 PUs,
    /// 4 × 10⁸) loads in under a second of CPU, "pack:1024 [numa] core:8 pu:1" (2.3 × 10⁹) in
    /// five, and "group:32 pack:32 [numa] core:8 pu:1", the same machine, in half a second.
    static func syntheticBuildCost(_ arities: [Int]) -> Double {
        let words = Double((arities.reduce(1) { $0.multipliedReportingOverflow(by: max($1, 1)).overflow ? .max : $0 * max($1, 1) } + 63) / 64)
        var objects = 1.0, path = 0.0, cost = 0.0
        for a in arities {
            objects *= Double(max(a, 1))
            path += Double(max(a, 1))
            cost += objects * path * words
        }
        return cost
    }

    /// About three seconds of hwloc time on the development VM.
    static let maxBuildCost = 1.5e9

    /// Two factors of `n`, as near its square root as divides it (for the refusal's hint).
    static func splitHint(_ n: Int) -> (Int, Int) {
        var a = Int(Double(n).squareRoot())
        while a > 1 && n % a != 0 { a -= 1 }
        return (max(a, 1), n / max(a, 1))
    }

    func count(_ type: hwloc_obj_type_t) -> Int { Int(hwloc_get_nbobjs_by_type(handle, type)) }

    func objects(_ type: hwloc_obj_type_t) -> [hwloc_obj_t] {
        (0..<count(type)).compactMap { hwloc_get_obj_by_type(handle, type, UInt32($0)) }
    }

    /// The machine as values.
    func machine() -> Machine {
        var notes: [String] = []
        let nodeObjs = objects(HWLOC_OBJ_NUMANODE)
        var nodes = nodeObjs.map { obj in
            NUMANode(logicalIndex: Int(obj.pointee.logical_index), osIndex: Int(obj.pointee.os_index),
                     memoryBytes: obj.pointee.attr.pointee.numanode.local_memory,
                     pus: [])
        }
        var pus: [PU] = []
        let holders = smallestHolders(nodeObjs)
        for obj in objects(HWLOC_OBJ_PU) {
            let li = Int(obj.pointee.logical_index)
            var node = owningNode(of: obj, among: nodeObjs, holders: holders)
            var assigned = false
            if node == nil, !nodeObjs.isEmpty {
                node = nearestNode(to: obj) ?? 0
                assigned = true
                notes.append("PU L#\(li) (P#\(obj.pointee.os_index)) is listed by no NUMA node; assigned to nearest node \(node!)")
            }
            pus.append(PU(logicalIndex: li, osIndex: Int(obj.pointee.os_index),
                          core: ancestorIndex(obj, HWLOC_OBJ_CORE) ?? li,
                          package: ancestorIndex(obj, HWLOC_OBJ_PACKAGE) ?? 0,
                          node: node ?? 0, nodeAssigned: assigned))
        }
        // Each package's and core's PUs, from the PUs' own ancestors: one pass, where asking
        // every object for the PUs inside its cpuset took packages × PUs steps (8192 cores: hours).
        var packagePUs = Array(repeating: [Int](), count: count(HWLOC_OBJ_PACKAGE))
        var corePUs = Array(repeating: [Int](), count: count(HWLOC_OBJ_CORE))
        for obj in objects(HWLOC_OBJ_PU) {
            let li = Int(obj.pointee.logical_index)
            if let p = ancestorIndex(obj, HWLOC_OBJ_PACKAGE), packagePUs.indices.contains(p) { packagePUs[p].append(li) }
            if let c = ancestorIndex(obj, HWLOC_OBJ_CORE), corePUs.indices.contains(c) { corePUs[c].append(li) }
        }
        let packages = objects(HWLOC_OBJ_PACKAGE).map { obj in
            Package(logicalIndex: Int(obj.pointee.logical_index), osIndex: Int(obj.pointee.os_index),
                    pus: packagePUs[Int(obj.pointee.logical_index)])
        }
        let cores = objects(HWLOC_OBJ_CORE).map { obj in
            Core(logicalIndex: Int(obj.pointee.logical_index), osIndex: Int(obj.pointee.os_index),
                 package: ancestorIndex(obj, HWLOC_OBJ_PACKAGE) ?? 0,
                 pus: corePUs[Int(obj.pointee.logical_index)])
        }
        if nodes.isEmpty {
            // hwloc always has one node; keep the invariant explicit anyway.
            nodes = [NUMANode(logicalIndex: 0, osIndex: 0, memoryBytes: 0, pus: [])]
        }
        for pu in pus { nodes[pu.node].pus.append(pu.logicalIndex) }
        for n in nodes where n.isMemoryOnly {
            notes.append("node \(n.osIndex) (L#\(n.logicalIndex)) has memory but no CPUs")
        }
        var distances = distanceMatrix(nodeObjs: nodeObjs)
        if distances.origin == .assumed, nodes.count > 1 {
            notes.append("no NUMA distances in the source: assumed 10 local / 20 remote")
        } else if let p = DistanceMatrix.problem(distances.values, nodes: nodes.count) {
            // An XML file can hold any latency figures; only a SLIT table means what the model
            // reads into it (and keeps injected remote costs bounded).
            notes.append("NUMA distances in the source are not a SLIT table (\(p)): assumed 10 local / 20 remote")
            distances = .assumed(nodes: nodes.count)
        }
        var machine = Machine(source: source.description, packages: packages, nodes: nodes, cores: cores,
                              pus: pus, caches: caches(), distances: distances, notes: notes)
        let attributes = memoryAttributes(nodes: nodes, pus: pus)
        if !attributes.isEmpty { machine.memoryAttributes = attributes }
        return machine
    }

    /// The node a PU belongs to (`cpu_to_node()`), as a logical index. A node's hwloc cpuset
    /// says which CPUs are near it, not which are its own: a CPU-less node gets the cpuset of
    /// the package its HMAT initiator sits in, or the whole machine's, so several nodes can
    /// contain a PU. On the host the kernel knows (`numa_node_of_cpu`); elsewhere the node with
    /// the smallest cpuset containing the PU wins, then the first in logical order.
    private func owningNode(of pu: hwloc_obj_t, among nodeObjs: [hwloc_obj_t], holders: [Int: Int]) -> Int? {
        let os = pu.pointee.os_index
        if source.isHost, numa_available() >= 0 {
            let n = numa_node_of_cpu(Int32(os))
            if n >= 0, let obj = nodeObjs.first(where: { $0.pointee.os_index == UInt32(n) }) {
                return Int(obj.pointee.logical_index)
            }
        }
        return holders[Int(os)]
    }

    /// For every PU (by OS index), the node whose cpuset holds it with the fewest PUs, the first
    /// in logical order among equals: one pass over the nodes' cpusets, where asking every node
    /// about every PU took nodes × PUs steps (1024 nodes of 8 PUs: 8 M).
    private func smallestHolders(_ nodeObjs: [hwloc_obj_t]) -> [Int: Int] {
        let lastPU = objects(HWLOC_OBJ_PU).map { Int($0.pointee.os_index) }.max() ?? -1
        var best: [Int: (weight: Int32, node: Int)] = [:]
        for obj in nodeObjs.sorted(by: { $0.pointee.logical_index < $1.pointee.logical_index }) {
            guard let set = obj.pointee.cpuset else { continue }
            let weight = hwloc_bitmap_weight(set)
            var i = hwloc_bitmap_first(set)
            while i >= 0 && Int(i) <= lastPU {
                if let b = best[Int(i)], b.weight <= weight {} else { best[Int(i)] = (weight, Int(obj.pointee.logical_index)) }
                i = hwloc_bitmap_next(set, i)
            }
        }
        return best.mapValues(\.node)
    }

    private func ancestorIndex(_ obj: hwloc_obj_t, _ type: hwloc_obj_type_t) -> Int? {
        hwloc_get_ancestor_obj_by_type(handle, type, obj).map { Int($0.pointee.logical_index) }
    }

    /// The first NUMA node attached to an ancestor of `obj`: the node that shares the smallest
    /// part of the hierarchy with it.
    private func nearestNode(to obj: hwloc_obj_t) -> Int? {
        var cur = obj.pointee.parent
        while let o = cur {
            if let mem = o.pointee.memory_first_child {
                var m: hwloc_obj_t? = mem
                while let x = m {
                    if x.pointee.type == HWLOC_OBJ_NUMANODE { return Int(x.pointee.logical_index) }
                    m = x.pointee.memory_first_child
                }
            }
            cur = o.pointee.parent
        }
        return nil
    }

    private func distanceMatrix(nodeObjs: [hwloc_obj_t]) -> DistanceMatrix {
        let n = nodeObjs.count
        var nr: UInt32 = 1
        var dist: UnsafeMutablePointer<hwloc_distances_s>?
        let kind = UInt(HWLOC_DISTANCES_KIND_MEANS_LATENCY.rawValue)
        if hwloc_distances_get_by_type(handle, HWLOC_OBJ_NUMANODE, &nr, &dist, kind, 0) == 0, nr >= 1, let d = dist {
            defer { hwloc_distances_release(handle, d) }
            let m = Int(d.pointee.nbobjs)
            if m == n {
                var values = Array(repeating: Array(repeating: 0, count: n), count: n)
                for i in 0..<m {
                    for j in 0..<m {
                        guard let a = d.pointee.objs[i], let b = d.pointee.objs[j] else { continue }
                        values[Int(a.pointee.logical_index)][Int(b.pointee.logical_index)] = Int(clamping: d.pointee.values[i * m + j])
                    }
                }
                return DistanceMatrix(values: values, origin: .hwloc)
            }
        }
        if source.isHost, numa_available() >= 0 {
            let values = nodeObjs.map { a in
                nodeObjs.map { b in Int(numa_distance(Int32(a.pointee.os_index), Int32(b.pointee.os_index))) }
            }
            if values.allSatisfy({ $0.allSatisfy { $0 > 0 } }) { return DistanceMatrix(values: values, origin: .libnuma) }
        }
        return .assumed(nodes: n)
    }

    /// Latency and bandwidth per (initiator, node) where the platform reports them (ACPI HMAT),
    /// through `hwloc_memattr_get_initiators()`; empty when it does not (most machines, every
    /// synthetic shape). `pus` are the machine's PUs, to name initiator cpusets by node.
    func memoryAttributes(nodes: [NUMANode], pus: [PU]) -> [MemoryAttribute] {
        let nodeObjs = objects(HWLOC_OBJ_NUMANODE)
        var result: [MemoryAttribute] = []
        for (name, unit) in MemoryAttribute.names {
            var id: hwloc_memattr_id_t = 0
            guard hwloc_memattr_get_by_name(handle, name, &id) == 0 else { continue }
            var values: [MemoryAttributeValue] = []
            for target in nodeObjs {
                var nr: UInt32 = 64
                var locations = [hwloc_location](repeating: hwloc_location(), count: Int(nr))
                var raw = [UInt64](repeating: 0, count: Int(nr))
                guard hwloc_memattr_get_initiators(handle, id, target, 0, &nr, &locations, &raw) == 0 else { continue }
                for k in 0..<min(Int(nr), locations.count) {
                    let loc = locations[k]
                    var set: hwloc_const_cpuset_t?
                    if loc.type == HWLOC_LOCATION_TYPE_CPUSET { set = loc.location.cpuset }
                    else if loc.type == HWLOC_LOCATION_TYPE_OBJECT, let o = loc.location.object { set = o.pointee.cpuset }
                    guard let set else { continue }
                    let cpus = pus.filter { hwloc_bitmap_isset(set, UInt32($0.osIndex)) != 0 }.map(\.logicalIndex)
                    // Name the initiator by the nodes whose CPUs it covers entirely.
                    let whole = nodes.filter { !$0.pus.isEmpty && Set($0.pus).isSubset(of: cpus) }.map(\.osIndex)
                    let li = Int(target.pointee.logical_index)
                    values.append(MemoryAttributeValue(node: li, nodeOS: Int(target.pointee.os_index),
                                                       initiatorNodes: whole.sorted(), initiatorCPUs: cpus, value: raw[k]))
                }
            }
            if !values.isEmpty { result.append(MemoryAttribute(name: name, unit: unit, values: values)) }
        }
        return result
    }

    private func caches() -> [Cache] {
        let types: [(hwloc_obj_type_t, String)] = [
            (HWLOC_OBJ_L1CACHE, "L1d"), (HWLOC_OBJ_L1ICACHE, "L1i"), (HWLOC_OBJ_L2CACHE, "L2"),
            (HWLOC_OBJ_L3CACHE, "L3"), (HWLOC_OBJ_L4CACHE, "L4"),
        ]
        return types.compactMap { type, name in
            let objs = objects(type)
            guard let first = objs.first else { return nil }
            let attr = first.pointee.attr.pointee.cache
            return Cache(name: name, level: Int(attr.depth), sizeBytes: attr.size,
                         lineSize: Int(attr.linesize), count: objs.count)
        }
    }
}
