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

    /// Checks an override before it replaces a discovered table.
    public static func validated(_ values: [[Int]], nodes: Int) throws -> DistanceMatrix {
        guard values.count == nodes, values.allSatisfy({ $0.count == nodes }) else {
            throw TopologyError("distance matrix must be \(nodes)x\(nodes) for \(nodes) node(s), got \(values.count) row(s)")
        }
        for (i, row) in values.enumerated() {
            if row[i] != 10 { throw TopologyError("distance matrix: local distance [\(i)][\(i)] must be 10, got \(row[i])") }
            for (j, v) in row.enumerated() where j != i && v <= 10 {
                throw TopologyError("distance matrix: remote distance [\(i)][\(j)] must be above 10, got \(v)")
            }
        }
        return DistanceMatrix(values: values, origin: .config)
    }

    /// Nodes ordered nearest first from `node`: the order `build_zonelists()` gets from repeated
    /// `find_next_best_node()` calls. Among equal distances that function adds one to nodes
    /// numbered below us ("prefer the next node"), so ties go to the following nodes first,
    /// then wrap around; the remaining tie falls to the lower id. The kernel compares node ids,
    /// which are OS numbers: `ids[n]` is node n's (identity when omitted), so that a CPU-less
    /// node hwloc lists out of order still takes its place among equals as the kernel gives it.
    /// Memory-only nodes are in every list like any other: only distance decides.
    public func fallbackOrder(from node: Int, ids: [Int]? = nil) -> [Int] {
        let id = ids ?? Array(0..<count)
        func key(_ n: Int) -> (Int, Int, Int) { (values[node][n], id[n] < id[node] ? 1 : 0, id[n]) }
        return (0..<count).sorted { key($0) < key($1) }
    }
}
