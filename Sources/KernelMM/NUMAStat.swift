/// A node's NUMA allocation counters as `/sys/devices/system/node/nodeN/numastat` shows them
/// (drivers/base/node.c): the sums over the node's zones of what `zone_statistics()` counted.
///
/// - numa_hit: allocations served by this node that preferred it.
/// - numa_miss: allocations served by this node that preferred another node.
/// - numa_foreign: allocations that preferred this node and were served by another.
/// - interleave_hit: interleave-policy pages placed on this node as the policy chose.
/// - local_node / other_node: allocations served by this node for a CPU on it / elsewhere.
public struct NUMAStat: Sendable, Equatable, Codable {
    public var numaHit: UInt64 = 0
    public var numaMiss: UInt64 = 0
    public var numaForeign: UInt64 = 0
    public var interleaveHit: UInt64 = 0
    public var localNode: UInt64 = 0
    public var otherNode: UInt64 = 0

    public init() {}

    /// The node's sums over its zones' events.
    public init(zones: [ZoneEvents]) {
        for e in zones {
            numaHit += e.numaHit; numaMiss += e.numaMiss; numaForeign += e.numaForeign
            interleaveHit += e.interleaveHit; localNode += e.numaLocal; otherNode += e.numaOther
        }
    }

    /// The sysfs file's text: one `name value` line per counter, in the kernel's order.
    public var text: String {
        """
        numa_hit \(numaHit)
        numa_miss \(numaMiss)
        numa_foreign \(numaForeign)
        interleave_hit \(interleaveHit)
        local_node \(localNode)
        other_node \(otherNode)

        """
    }
}

extension Kernel {
    /// `nodeN/numastat` of one modelled node.
    public func numastat(node: Int) -> NUMAStat {
        NUMAStat(zones: nodes[node].zones.map { events(zone: $0.index) })
    }
}
