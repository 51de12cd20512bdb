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
        if case .xml(let path) = source, count(HWLOC_OBJ_PU) == 0 {
            throw TopologyError("topology XML \(path) describes no processing units")
        }
    }

    deinit { hwloc_topology_destroy(handle) }

    /// CONFIG_NR_CPUS of distribution kernels.
    static let maxCPUs = 8192

    /// The product of the `type:N` arities of a synthetic description (nil when unreadable).
    static func syntheticPUs(_ desc: String) -> Int? {
        var product = 1
        for token in desc.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
            guard let colon = token.firstIndex(of: ":") else { continue }
            let digits = token[token.index(after: colon)...].prefix { $0.isNumber }
            guard let n = Int(digits) else { return digits.isEmpty ? nil : Int.max }
            let (p, overflow) = product.multipliedReportingOverflow(by: max(n, 1))
            if overflow { return Int.max }
            product = p
        }
        return product
    }

    func count(_ type: hwloc_obj_type_t) -> Int { Int(hwloc_get_nbobjs_by_type(handle, type)) }

    func objects(_ type: hwloc_obj_type_t) -> [hwloc_obj_t] {
        (0..<count(type)).compactMap { hwloc_get_obj_by_type(handle, type, UInt32($0)) }
    }

    /// Logical indexes of the objects of `type` whose cpuset lies inside `set`.
    func members(of set: hwloc_const_cpuset_t?, type: hwloc_obj_type_t) -> [Int] {
        guard let set else { return [] }
        return objects(type).filter { hwloc_bitmap_isincluded($0.pointee.cpuset, set) != 0 }
            .map { Int($0.pointee.logical_index) }
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
        let packages = objects(HWLOC_OBJ_PACKAGE).map { obj in
            Package(logicalIndex: Int(obj.pointee.logical_index), osIndex: Int(obj.pointee.os_index),
                    pus: members(of: obj.pointee.cpuset, type: HWLOC_OBJ_PU))
        }
        let cores = objects(HWLOC_OBJ_CORE).map { obj in
            Core(logicalIndex: Int(obj.pointee.logical_index), osIndex: Int(obj.pointee.os_index),
                 package: ancestorIndex(obj, HWLOC_OBJ_PACKAGE) ?? 0,
                 pus: members(of: obj.pointee.cpuset, type: HWLOC_OBJ_PU))
        }
        var pus: [PU] = []
        for obj in objects(HWLOC_OBJ_PU) {
            let li = Int(obj.pointee.logical_index)
            var node = owningNode(of: obj, among: nodeObjs)
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
        if nodes.isEmpty {
            // hwloc always has one node; keep the invariant explicit anyway.
            nodes = [NUMANode(logicalIndex: 0, osIndex: 0, memoryBytes: 0, pus: [])]
        }
        for pu in pus { nodes[pu.node].pus.append(pu.logicalIndex) }
        for n in nodes where n.isMemoryOnly {
            notes.append("node \(n.osIndex) (L#\(n.logicalIndex)) has memory but no CPUs")
        }
        let distances = distanceMatrix(nodeObjs: nodeObjs)
        if distances.origin == .assumed, nodes.count > 1 {
            notes.append("no NUMA distances in the source: assumed 10 local / 20 remote")
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
    private func owningNode(of pu: hwloc_obj_t, among nodeObjs: [hwloc_obj_t]) -> Int? {
        let os = pu.pointee.os_index
        if source.isHost, numa_available() >= 0 {
            let n = numa_node_of_cpu(Int32(os))
            if n >= 0, let obj = nodeObjs.first(where: { $0.pointee.os_index == UInt32(n) }) {
                return Int(obj.pointee.logical_index)
            }
        }
        let holders = nodeObjs.filter { hwloc_bitmap_isset($0.pointee.cpuset, os) != 0 }
        let best = holders.min { a, b in
            let (wa, wb) = (hwloc_bitmap_weight(a.pointee.cpuset), hwloc_bitmap_weight(b.pointee.cpuset))
            return wa != wb ? wa < wb : a.pointee.logical_index < b.pointee.logical_index
        }
        return best.map { Int($0.pointee.logical_index) }
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
                        values[Int(a.pointee.logical_index)][Int(b.pointee.logical_index)] = Int(d.pointee.values[i * m + j])
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
