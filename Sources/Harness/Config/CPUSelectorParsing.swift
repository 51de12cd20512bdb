import Topology

/// Reading and resolving CPU selectors, the config's `cpumask`: `all`, `node:N` (like
/// `cpumask_of_node()`), `package:N` (`topology_core_cpumask()` of a socket) or a cpulist in the
/// kernel's `cpulist_parse()` syntax (`3-7,12`). CPU ids are logical: PU logical indexes. A node
/// is named by its OS number, as `numactl --hardware` and `numactl --cpunodebind` name it; hwloc's
/// logical order can differ from it (CPU-less nodes, sparse numbering), so it is looked up.
extension CPUSelector {
    /// Parses the selector text; only syntax is checked here, the machine comes later.
    public static func parse(_ text: String) throws(ConfigValueError) -> CPUSelector {
        let s = text.trimmingWhitespace()
        let hint = "write all, node:N, package:N or a cpulist like 0-3,8"
        if s == "all" { return .all }
        for (prefix, make) in [("node:", CPUSelector.node), ("package:", CPUSelector.package)] where s.hasPrefix(prefix) {
            guard let n = Int(String(s.dropFirst(prefix.count)).trimmingWhitespace()), n >= 0 else {
                throw ConfigValueError("expected \(prefix)N with N a number ≥ 0, got \"\(text)\"", hint: hint)
            }
            return make(n)
        }
        guard !s.isEmpty else { throw ConfigValueError("empty CPU selector", hint: hint) }
        var ids = Set<Int>()
        for part in s.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false).map { Int($0.description.trimmingWhitespace()) }
            guard (1...2).contains(bounds.count), let lo = bounds.first!, let hi = bounds.last!, lo >= 0 else {
                throw ConfigValueError("expected a CPU selector, got \"\(text)\"", hint: hint)
            }
            guard lo <= hi else { throw ConfigValueError("CPU range \(lo)-\(hi) runs backwards in \"\(text)\"") }
            // Refuse absurd ids before building a set of them; no machine has this many PUs.
            guard hi < Self.maxCPUs else { throw ConfigValueError("CPU id \(hi) is beyond any machine (limit \(Self.maxCPUs - 1))") }
            ids.formUnion(lo...hi)
        }
        return .list(ids.sorted())
    }

    /// Logical CPU ids the selector names on `machine`, in ascending order; ids the machine does
    /// not have are left out (`check(in:)` says whether anything is).
    public func resolve(in machine: Machine) -> [Int] {
        switch self {
        case .all: return machine.pus.map(\.logicalIndex).sorted()
        case .node(let os): return machine.nodeIndex(osIndex: os).map { machine.cpus(ofNode: $0).sorted() } ?? []
        case .package(let p): return machine.packages.indices.contains(p) ? machine.packages[p].pus.sorted() : []
        case .list(let ids):
            let have = Set(machine.pus.map(\.logicalIndex))
            return ids.filter(have.contains)
        }
    }

    static let maxCPUs = 1 << 16

    /// Resolves, refusing a selector that names something the machine does not have or selects
    /// no CPU at all: a workload there would run nowhere. The hint lists what exists.
    public func check(in machine: Machine) throws(ConfigValueError) -> [Int] {
        let cpus = resolve(in: machine)
        let hint = Self.inventory(machine)
        switch self {
        case .node(let n) where machine.nodeIndex(osIndex: n) == nil:
            // A config for the host's own nodes meets hosts of every size: say what this one has.
            let count = machine.nodes.count
            let host = machine.source == "host" ? " on this host (it has \(count) NUMA node\(count == 1 ? "" : "s"))" : ""
            throw ConfigValueError("node \(n) does not exist\(host)", hint: hint)
        case .node(let n) where cpus.isEmpty:
            throw ConfigValueError("node \(n) has no CPUs (memory-only node)", hint: hint)
        case .package(let p) where !machine.packages.indices.contains(p):
            throw ConfigValueError("package \(p) does not exist", hint: hint)
        case .list(let ids) where cpus.count != ids.count:
            let missing = ids.filter { !cpus.contains($0) }
            throw ConfigValueError("CPU\(missing.count == 1 ? "" : "s") \(TopologyReport.ranges(missing)) do\(missing.count == 1 ? "es" : "") not exist", hint: hint)
        default:
            guard !cpus.isEmpty else { throw ConfigValueError("\(self) selects no CPU", hint: hint) }
            return cpus
        }
    }

    /// "nodes 0-1, packages 0-1, cpus 0-7", with memory-only nodes named; nodes by OS number.
    static func inventory(_ m: Machine) -> String {
        func list(_ what: String, _ n: Int) -> String { n == 1 ? "\(what) 0" : "\(what)s 0-\(n - 1)" }
        let ids = m.nodeOSIndexes
        var parts = [(ids.count == 1 ? "node " : "nodes ") + TopologyReport.ranges(ids)]
        let memOnly = m.nodes.filter(\.isMemoryOnly).map(\.osIndex)
        if !memOnly.isEmpty { parts[0] += " (\(TopologyReport.ranges(memOnly)) memory-only)" }
        if !m.packages.isEmpty { parts.append(list("package", m.packages.count)) }
        parts.append("cpus " + TopologyReport.ranges(m.pus.map(\.logicalIndex)))
        return parts.joined(separator: ", ")
    }
}
