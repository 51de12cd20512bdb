/// Maps the modelled machine's logical CPUs onto the host's PUs, the way `cpu_possible_mask`
/// meets real hardware: identity when the model is the host, round-robin otherwise.
public struct CPUMapping: Sendable, Codable, Equatable {
    /// `hostPU[cpu]` is the OS index of the host PU logical CPU `cpu` runs on.
    public var hostPU: [Int]
    /// `hostNode[cpu]` is the OS index of the host NUMA node of that PU.
    public var hostNode: [Int]
    /// `memoryHostNode[node]` is the OS index of the host node the model node's memory is bound
    /// to: the node itself when the model is the host (CPU-less nodes included), else the host
    /// node its first CPU runs on, else (a CPU-less model node) the host nodes in turn.
    public var memoryHostNode: [Int]
    /// How many logical CPUs share the busiest host PU (1 = not oversubscribed).
    public var oversubscription: Int
    public var hostPUCount: Int

    public init(model: Machine, host: Machine, modelIsHost: Bool) {
        let hostPUs = host.pus.sorted { $0.logicalIndex < $1.logicalIndex }
        let count = model.pus.count
        if modelIsHost {
            hostPU = model.pus.map(\.osIndex)
        } else {
            hostPU = (0..<count).map { hostPUs[$0 % max(hostPUs.count, 1)].osIndex }
        }
        let nodeOfOS = Dictionary(uniqueKeysWithValues: hostPUs.map { ($0.osIndex, host.nodes[$0.node].osIndex) })
        hostNode = hostPU.map { nodeOfOS[$0] ?? 0 }
        let hostNodeIDs = host.nodes.map(\.osIndex)
        let cpuNode = hostNode
        memoryHostNode = model.nodes.indices.map { n in
            if modelIsHost { return model.nodes[n].osIndex }
            if let cpu = model.cpus(ofNode: n).first { return cpuNode[cpu] }
            return hostNodeIDs.isEmpty ? 0 : hostNodeIDs[n % hostNodeIDs.count]
        }
        var load: [Int: Int] = [:]
        for p in hostPU { load[p, default: 0] += 1 }
        oversubscription = load.values.max() ?? 1
        hostPUCount = hostPUs.count
    }

    public var isOversubscribed: Bool { oversubscription > 1 }

    /// True when several model nodes share a host node, so that "remote" memory is local.
    /// Counted over memory, not CPUs: a CPU-less node has its own host node too.
    public var hostHasFewerNodes: Bool { Set(memoryHostNode).count < memoryHostNode.count }

    /// "oversubscribed 12:1" or "1:1", as results print it.
    public var ratioDescription: String {
        isOversubscribed ? "oversubscribed \(oversubscription):1" : "1:1"
    }
}
