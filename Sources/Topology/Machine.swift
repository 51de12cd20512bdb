/// A machine's shape as plain values, detached from hwloc: what the modelled kernel builds its
/// `pg_data_t` nodes and `cpu_possible_mask` from (include/linux/mmzone.h, include/linux/cpumask.h).
public struct Machine: Sendable, Codable, Equatable {
    public var source: String
    public var packages: [Package]
    public var nodes: [NUMANode]
    public var cores: [Core]
    public var pus: [PU]
    public var caches: [Cache]
    public var distances: DistanceMatrix
    /// Things the loader had to decide on its own (orphan PUs, assumed distances…).
    public var notes: [String]
    /// Firmware (ACPI HMAT) latency and bandwidth per initiator where hwloc reports them; nil
    /// where the source has none.
    public var memoryAttributes: [MemoryAttribute]? = nil

    public init(source: String, packages: [Package], nodes: [NUMANode], cores: [Core], pus: [PU],
                caches: [Cache], distances: DistanceMatrix, notes: [String]) {
        self.source = source; self.packages = packages; self.nodes = nodes; self.cores = cores
        self.pus = pus; self.caches = caches; self.distances = distances; self.notes = notes
    }

    /// Logical CPU ids (PU logical indexes) local to a node, like `cpumask_of_node()`.
    public func cpus(ofNode node: Int) -> [Int] { pus.filter { $0.node == node }.map(\.logicalIndex) }

    public var totalMemoryBytes: UInt64 { nodes.reduce(0) { $0 + $1.memoryBytes } }

    /// The model's node index (hwloc's logical order, used for every array inside) of the node
    /// the OS numbers `osIndex`, as `numactl --hardware` and configs name it; nil when absent.
    /// The two orders differ where a CPU-less node or sparse numbering makes hwloc's tree walk
    /// meet nodes out of OS order (a memory-only node 2 can come before node 1).
    public func nodeIndex(osIndex: Int) -> Int? { nodes.firstIndex { $0.osIndex == osIndex } }

    /// OS node numbers in the model's node order: the label of each row of a node matrix.
    public var nodeOSIndexes: [Int] { nodes.map(\.osIndex) }
}

/// A processor package (socket): `struct cpuinfo_x86.phys_proc_id`.
public struct Package: Sendable, Codable, Equatable {
    public var logicalIndex: Int
    public var osIndex: Int
    public var pus: [Int]
}

/// A NUMA node: the `pg_data_t` of include/linux/mmzone.h, before it has zones.
public struct NUMANode: Sendable, Codable, Equatable {
    /// hwloc's logical index: the position in `Machine.nodes` and the model's internal node id.
    public var logicalIndex: Int
    /// The OS's node number (`pgdat->node_id`, what numactl prints): the one users see.
    public var osIndex: Int
    public var memoryBytes: UInt64
    /// Logical indexes of the PUs local to this node; empty for a memory-only node.
    public var pus: [Int]
    public var isMemoryOnly: Bool { pus.isEmpty }
}

/// A core: the PUs that share its pipelines (hyperthreads), `topology_sibling_cpumask()`.
public struct Core: Sendable, Codable, Equatable {
    public var logicalIndex: Int
    public var osIndex: Int
    public var package: Int
    public var pus: [Int]
}

/// A processing unit (hardware thread): one logical CPU of the modelled kernel.
public struct PU: Sendable, Codable, Equatable {
    public var logicalIndex: Int
    public var osIndex: Int
    public var core: Int
    public var package: Int
    /// Logical index of the NUMA node the PU belongs to (`cpu_to_node()`).
    public var node: Int
    /// True when no node listed this PU and it was given to the nearest one.
    public var nodeAssigned: Bool
}

/// A CPU cache level with its size, as `/sys/devices/system/cpu/cpu0/cache/index*`.
public struct Cache: Sendable, Codable, Equatable {
    public var name: String
    public var level: Int
    public var sizeBytes: UInt64
    public var lineSize: Int
    public var count: Int
}
