/// Loads a machine shape from any source. Entry point of the Topology layer.
public enum TopologyLoader {
    /// Loads `source` and returns its shape; `distances` replaces the discovered matrix.
    public static func load(_ source: TopologySource, distances: [[Int]]? = nil) throws -> Machine {
        var machine = try HwlocTopology(source).machine()
        if let distances {
            machine.distances = try DistanceMatrix.validated(distances, nodes: machine.nodes.count)
            machine.notes.removeAll { $0.hasPrefix("no NUMA distances") }
        }
        return machine
    }
}
