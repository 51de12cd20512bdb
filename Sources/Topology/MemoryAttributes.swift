/// A firmware-reported memory attribute of a NUMA node as seen from a set of CPUs: hwloc's
/// memory attributes (`hwloc_memattr_*`), which on Linux come from the ACPI HMAT through
/// /sys/devices/system/node/nodeN/access0/initiators (the kernel's `node_set_perf_attrs()`).
/// These are the platform's claims, not measurements; reports label them so. Linux exposes only
/// the best ("access class 0") initiators of each node, so a node usually has one row per
/// attribute, from the CPUs nearest to it.
public struct MemoryAttributeValue: Sendable, Codable, Equatable {
    /// Target node, by the model's index and by OS number.
    public var node: Int
    public var nodeOS: Int
    /// Nodes (OS numbers) whose CPUs make up the initiator; PUs (logical) when they are a part
    /// of a node only.
    public var initiatorNodes: [Int]
    public var initiatorCPUs: [Int]
    public var value: UInt64
}

/// One attribute (Latency in ns, Bandwidth in MiB/s, or their Read/Write variants) over all nodes.
public struct MemoryAttribute: Sendable, Codable, Equatable {
    public var name: String
    public var unit: String
    public var values: [MemoryAttributeValue]

    /// The attributes read, in this order; hwloc's own Capacity and Locality are left out since
    /// they come from the node sizes and cpusets, not from firmware.
    public static let names: [(name: String, unit: String)] = [
        ("Latency", "ns"), ("Bandwidth", "MiB/s"), ("ReadLatency", "ns"), ("WriteLatency", "ns"),
        ("ReadBandwidth", "MiB/s"), ("WriteBandwidth", "MiB/s"),
    ]
}
