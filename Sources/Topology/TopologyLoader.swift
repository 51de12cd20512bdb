/// Loads a machine shape from any source. Entry point of the Topology layer.
public enum TopologyLoader {
    /// Loads `source` and returns its shape; `distances` replaces the discovered matrix. Its rows
    /// and columns are in ascending OS node number, as `numactl --hardware` prints the table,
    /// and are put into the model's node order here.
    public static func load(_ source: TopologySource, distances: [[Int]]? = nil) throws -> Machine {
        var machine = try HwlocTopology(source).machine()
        if let distances {
            let given = try DistanceMatrix.validated(distances, nodes: machine.nodes.count)
            let os = machine.nodeOSIndexes
            let rank = os.map { id in os.sorted().firstIndex(of: id)! }
            machine.distances = DistanceMatrix(values: rank.map { r in rank.map { c in given.values[r][c] } }, origin: .config)
            machine.notes.removeAll { $0.hasPrefix("no NUMA distances") }
        }
        return machine
    }
}
