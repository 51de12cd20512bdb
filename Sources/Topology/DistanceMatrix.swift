/// The NUMA distance table, SLIT-style (10 = local), as `node_distance()` and `numa_distance()`
/// report it. Rows are the "from" node, columns the "to" node, in the model's (hwloc logical)
/// node order; `Machine.nodeOSIndexes` labels them. Asymmetric tables are kept as they are.
public struct DistanceMatrix: Sendable, Codable, Equatable {
    /// Where the figures came from, so that a report never passes off a guess as a measurement.
    public enum Origin: String, Sendable, Codable {
        case hwloc      // hwloc NUMALatency (ACPI SLIT on Linux hosts, or the XML file)
        case libnuma    // numa_distance() on the host
        case config     // an override from a config file
        case assumed    // nothing known: 10 local, 20 remote
    }

    public var values: [[Int]]
    public var origin: Origin

    public init(values: [[Int]], origin: Origin) {
        self.values = values
        self.origin = origin
    }

    /// 10 on the diagonal, 20 elsewhere: what Linux assumes without a SLIT (`LOCAL_DISTANCE`,
    /// `REMOTE_DISTANCE`).
    public static func assumed(nodes: Int) -> DistanceMatrix {
        DistanceMatrix(values: (0..<nodes).map { i in (0..<nodes).map { $0 == i ? 10 : 20 } },
                       origin: .assumed)
    }

    public var count: Int { values.count }

    public subscript(from: Int, to: Int) -> Int { values[from][to] }

    /// ACPI SLIT bounds, as Linux's `slit_valid()` and its one-byte `node_distance()` have them:
    /// 10 from a node to itself, 11…255 to any other (255 meaning unreachable).
    public static let local = 10
    public static let farthest = 255

    /// What is wrong with `value` at row `from`, column `to` of a SLIT table; nil when it is fine.
    /// Bounded values also keep the modelled remote cost (local × distance/10) finite: a run with
    /// `remote_cost: inject` spends it for real.
    public static func problem(_ value: Int, from: Int, to: Int) -> String? {
        if from == to {
            return value == local ? nil : "local distance [\(from)][\(to)] must be \(local), got \(value)"
        }
        return (local + 1...farthest).contains(value) ? nil
            : "remote distance [\(from)][\(to)] must be \(local + 1)…\(farthest), got \(value)"
    }

    /// The first problem of a whole table for `nodes` nodes, shape first.
    public static func problem(_ values: [[Int]], nodes: Int) -> String? {
        guard values.count == nodes, values.allSatisfy({ $0.count == nodes }) else {
            return "must be \(nodes)x\(nodes) for \(nodes) node(s), got \(values.count) row(s)"
        }
        for (i, row) in values.enumerated() {
            for (j, v) in row.enumerated() { if let p = problem(v, from: i, to: j) { return p } }
        }
        return nil
    }

    /// Checks an override before it replaces a discovered table.
    public static func validated(_ values: [[Int]], nodes: Int) throws -> DistanceMatrix {
        if let p = problem(values, nodes: nodes) { throw TopologyError("distance matrix: " + p) }
        return DistanceMatrix(values: values, origin: .config)
    }

    /// Nodes ordered nearest first from `node`: its zonelist's node order (`zonelistOrders`).
    public func fallbackOrder(from node: Int, ids: [Int]? = nil, hasCPUs: [Bool]? = nil) -> [Int] {
        zonelistOrders(ids: ids, hasCPUs: hasCPUs)[node]
    }

    /// `MAX_NUMNODES` of an x86-64 kernel with the default CONFIG_NODES_SHIFT (6): the scale
    /// that keeps `node_load` below one unit of distance in `find_next_best_node()`.
    static let maxNumNodes = 64

    /// The node order of every node's zonelist, as `__build_all_zonelists()` makes them
    /// (mm/page_alloc.c, Linux 6.12): nodes in OS-number order, each list by repeated
    /// `find_next_best_node()`. A candidate's value is its distance, plus one when its number
    /// is below ours ("prefer the next node"), plus one when it has CPUs
    /// (PENALTY_FOR_NODE_WITH_CPUS: among equals a memory-only node comes first), times
    /// MAX_NUMNODES, plus `node_load[n]`; the lowest value wins, the lower OS number on a tie.
    /// `build_zonelists()` raises `node_load` of the first node of each new distance group,
    /// and the array carries over from one node's list to the next, so nodes at equal distance
    /// are taken round-robin across the lists instead of the same one first everywhere.
    /// `ids[n]` is node n's OS number (identity when omitted); `hasCPUs` defaults to all.
    public func zonelistOrders(ids: [Int]? = nil, hasCPUs: [Bool]? = nil) -> [[Int]] {
        let id = ids ?? Array(0..<count)
        let cpus = hasCPUs ?? Array(repeating: true, count: count)
        let byOS = (0..<count).sorted { id[$0] < id[$1] }
        var load = Array(repeating: 0, count: count)
        var orders = Array(repeating: [Int](), count: count)
        for local in byOS {
            var used = Set([local])
            var order = [local]
            var prev = local
            while order.count < count {
                var best = -1, bestValue = Int.max
                for n in byOS where !used.contains(n) {
                    var value = values[local][n] + (id[n] < id[local] ? 1 : 0) + (cpus[n] ? 1 : 0)
                    value = value * Self.maxNumNodes + load[n]
                    if value < bestValue { bestValue = value; best = n }
                }
                if values[local][best] != values[local][prev] { load[best] += 1 }
                used.insert(best)
                order.append(best)
                prev = best
            }
            orders[local] = order
        }
        return orders
    }
}
