import KernelMM

/// The per-node numastat counters of a result, as the `numastat` tool lays them out: one row
/// per counter, one column per node. Built from the zones' events in result.json, so a
/// summary, a report and the sysfs files all say the same.
extension RunResult {
    /// `nodeN/numastat` of every modelled node.
    public var numastat: [NUMAStat] {
        let nodes = (r: zones.map(\.node).max() ?? -1, m: numa.localityMatrix.count)
        return (0..<max(nodes.r + 1, nodes.m)).map { n in NUMAStat(zones: zones.filter { $0.node == n }.map(\.events)) }
    }

    /// `(counter name, value per node)` rows in the kernel's order.
    public var numastatRows: [(name: String, values: [UInt64])] {
        let s = numastat
        return [("numa_hit", s.map(\.numaHit)), ("numa_miss", s.map(\.numaMiss)), ("numa_foreign", s.map(\.numaForeign)),
                ("interleave_hit", s.map(\.interleaveHit)), ("local_node", s.map(\.localNode)), ("other_node", s.map(\.otherNode))]
    }

    /// Slab frees by another CPU than the slab's owner, in all and across nodes (off the
    /// diagonal of `numa.remoteFrees`).
    public var crossCPUFrees: (all: UInt64, crossNode: UInt64) {
        var all: UInt64 = 0, cross: UInt64 = 0
        for (i, row) in numa.remoteFrees.enumerated() {
            for (j, v) in row.enumerated() { all += v; if i != j { cross += v } }
        }
        return (all, cross)
    }
}
