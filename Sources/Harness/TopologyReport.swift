import Foundation
import Topology

/// What `numastress topology` prints: a modelled machine, its distances and where its logical
/// CPUs run on the host. The JSON form is versioned (`schema`) and documented in docs/TOPOLOGY-JSON.md.
public struct TopologyReport: Codable, Sendable, Equatable {
    public static let schema = "numastress.topology/1"

    public struct Node: Codable, Sendable, Equatable {
        public var index: Int
        public var osIndex: Int
        public var memoryBytes: UInt64
        public var cpus: [Int]
        public var cpusOS: [Int]
        public var memoryOnly: Bool
    }
    public struct Mapping: Codable, Sendable, Equatable {
        public var hostPUs: [Int]
        public var hostNodes: [Int]
        /// Host node (OS index) each model node's memory is bound to, in model node order.
        public var memoryHostNodes: [Int]?
        public var oversubscription: Int
        public var ratio: String
    }
    public struct Distances: Codable, Sendable, Equatable {
        public var origin: String
        public var values: [[Int]]
    }

    public var schema: String
    public var source: String
    public var nodes: [Node]
    public var packages: Int
    public var cores: Int
    public var pus: [PU]
    public var caches: [Cache]
    public var distances: Distances
    public var mapping: Mapping
    public var notes: [String]
    /// Firmware latency/bandwidth per initiator (ACPI HMAT through hwloc), when the source has them.
    public var memoryAttributes: MemoryAttributes?

    /// The platform's own figures, kept apart from the SLIT and from anything measured.
    public struct MemoryAttributes: Codable, Sendable, Equatable {
        public var origin: String
        public var attributes: [MemoryAttribute]
    }
    public static let memoryAttributesOrigin = "firmware (ACPI HMAT, as hwloc reports it): claimed, not measured"

    public init(machine: Machine, mapping: CPUMapping) {
        schema = Self.schema
        source = machine.source
        nodes = machine.nodes.map { n in
            Node(index: n.logicalIndex, osIndex: n.osIndex, memoryBytes: n.memoryBytes, cpus: n.pus,
                 cpusOS: n.pus.map { machine.pus[$0].osIndex }, memoryOnly: n.isMemoryOnly)
        }
        packages = machine.packages.count
        cores = machine.cores.count
        pus = machine.pus
        caches = machine.caches
        distances = Distances(origin: machine.distances.origin.rawValue, values: machine.distances.values)
        self.mapping = Mapping(hostPUs: mapping.hostPU, hostNodes: mapping.hostNode, memoryHostNodes: mapping.memoryHostNode,
                               oversubscription: mapping.oversubscription, ratio: mapping.ratioDescription)
        notes = machine.notes
        memoryAttributes = machine.memoryAttributes.map { MemoryAttributes(origin: Self.memoryAttributesOrigin, attributes: $0) }
    }

    /// Loads `source`, maps it onto the host and builds the report.
    public static func make(source: TopologySource, distances: [[Int]]? = nil) throws -> TopologyReport {
        let machine = try TopologyLoader.load(source, distances: distances)
        let mapping = CPUMapping(model: machine, host: HostBinding.shared.machine, modelIsHost: source.isHost)
        return TopologyReport(machine: machine, mapping: mapping)
    }

    public func json() -> String {
        String(decoding: try! JSONCoding.encoder().encode(self), as: UTF8.self)
    }

    /// `numactl --hardware` layout (OS indexes in ascending order, MB), then a tree summary and
    /// the CPU mapping.
    public func text() -> String {
        var out = ""
        // numactl walks nodes by OS number; hwloc's logical order may differ (CPU-less nodes).
        let order = nodes.indices.sorted { nodes[$0].osIndex < nodes[$1].osIndex }
        let ids = order.map { nodes[$0].osIndex }
        out += "available: \(nodes.count) nodes (\(Self.ranges(ids)))\n"
        for n in order.map({ nodes[$0] }) {
            out += "node \(n.osIndex) cpus:" + n.cpusOS.sorted().map { " \($0)" }.joined() + "\n"
            out += "node \(n.osIndex) size: \(n.memoryBytes >> 20) MB\n"
        }
        out += "node distances:\nnode " + ids.map { String(format: "%3d ", $0) }.joined() + "\n"
        for i in order {
            out += String(format: "%3d: ", nodes[i].osIndex) + order.map { String(format: "%3d ", distances.values[i][$0]) }.joined() + "\n"
        }
        out += "\ndistances: \(distances.origin)\n"
        out += "\nsource \(source): \(packages) package(s), \(nodes.count) node(s), \(cores) core(s), \(pus.count) PU(s)\n"
        for n in nodes {
            let gib = Double(n.memoryBytes) / Double(1 << 30)
            let kind = n.memoryOnly ? " memory-only" : ""
            out += String(format: "  node %d (L#%d)%@ %.1f GiB, cpus %@", n.osIndex, n.index, kind, gib,
                          n.cpus.isEmpty ? "-" : Self.ranges(n.cpus))
            if let host = mapping.memoryHostNodes?[n.index] { out += ", memory on host node \(host)" }
            out += "\n"
        }
        if !caches.isEmpty {
            out += "  caches: " + caches.map { "\($0.name) \($0.sizeBytes >> 10) KiB x\($0.count)" }.joined(separator: ", ") + "\n"
        }
        if let attrs = memoryAttributes {
            out += "\nmemory attributes, \(attrs.origin):\n"
            for a in attrs.attributes where a.name == "Latency" || a.name == "Bandwidth" {
                let cells = a.values.sorted { ($0.nodeOS, $0.initiatorNodes.first ?? 0) < ($1.nodeOS, $1.initiatorNodes.first ?? 0) }.map { v in
                    let from = v.initiatorNodes.isEmpty ? "cpus " + Self.ranges(v.initiatorCPUs)
                        : (v.initiatorNodes.count == 1 ? "node " : "nodes ") + Self.ranges(v.initiatorNodes)
                    return "node \(v.nodeOS) from \(from): \(v.value)"
                }
                out += "  \(a.name) (\(a.unit)): " + cells.joined(separator: ", ") + "\n"
            }
        }
        out += "\ncpu mapping (\(mapping.ratio)): logical cpu -> host PU\n"
        let pairs = mapping.hostPUs.enumerated().map { "\($0.offset)->\($0.element)" }
        stride(from: 0, to: pairs.count, by: 12).forEach { out += "  " + pairs[$0..<min($0 + 12, pairs.count)].joined(separator: " ") + "\n" }
        for note in notes { out += "note: \(note)\n" }
        return out
    }

    /// "0-3,8,10-11", like cpulist files.
    static func ranges(_ xs: [Int]) -> String {
        let s = xs.sorted()
        var parts: [String] = []
        var i = 0
        while i < s.count {
            var j = i
            while j + 1 < s.count && s[j + 1] == s[j] + 1 { j += 1 }
            parts.append(i == j ? "\(s[i])" : "\(s[i])-\(s[j])")
            i = j + 1
        }
        return parts.joined(separator: ",")
    }
}
