import CArch
import Foundation
import KernelMM
import Topology

/// The NUMA access-cost matrix: nanoseconds per dependent load when a CPU of node `[i]` walks
/// memory of node `[j]` (a random pointer chase over blocks allocated on node j, so that
/// prefetchers do not hide the latency). `measured` is what this host did; `modelled` is the
/// measured local cost × distance/10. Both are always reported, each labelled.
public struct AccessCostMatrix: Codable, Sendable, Equatable {
    public var measuredNS: [[Double]]
    public var modelledNS: [[Double]]
    /// Bytes walked per pair.
    public var bytes: Int
    /// True when model nodes share host nodes, so "remote" measurements are really local.
    public var hostHasFewerNodes: Bool
}

enum AccessCostProbe {
    /// Measures every (CPU node, memory node) pair from a CPU of the first node that has one.
    /// What is measured is the host: model nodes that run on the same host node and whose
    /// memory is bound to the same host node are the same pair, walked once and copied to
    /// each (a 24-node model on a one-node host walks one pair, not 576).
    static func measure(env: RunEnvironment, loads: Int = 200_000) async -> AccessCostMatrix {
        let nodes = env.machine.nodes.count
        var measured = Array(repeating: Array(repeating: 0.0, count: nodes), count: nodes)
        let blockOrder = min(env.kernel.config.maxOrder, 8)   // 1 MiB blocks
        let blocks = max(1, min(8, env.kernel.config.perNodeBytes / 4 / (KernelMM.PAGE_SIZE << blockOrder)))
        let pairs = hostPairs(env)
        var done: [HostPair: Double] = [:]
        for from in 0..<nodes {
            guard let cpuID = env.machine.cpus(ofNode: from).first else { continue }
            let todo = (0..<nodes).filter { done[pairs[from][$0]!] == nil }
            if !todo.isEmpty {
                let ctx = env.kernel.cpus[cpuID]
                let actor = env.actors.first { $0.id == cpuID }
                    ?? CPU(id: cpuID, node: from, hostPU: env.mapping.hostPU[cpuID])
                defer { if !env.actors.contains(where: { $0 === actor }) { actor.shutdown() } }
                for to in todo where done[pairs[from][to]!] == nil {
                    done[pairs[from][to]!] = await actor.run {
                        chase(kernel: env.kernel, cpu: ctx, node: to, order: blockOrder, blocks: blocks, loads: loads)
                    }
                }
            }
            for to in 0..<nodes { measured[from][to] = done[pairs[from][to]!] ?? 0 }
        }
        // CPU-less nodes: no measurement from them; take the row of the nearest node with CPUs.
        let local = (0..<nodes).compactMap { measured[$0][$0] > 0 ? measured[$0][$0] : nil }
        let localNS = local.isEmpty ? 0 : local.reduce(0, +) / Double(local.count)
        let modelled = (0..<nodes).map { i in (0..<nodes).map { j in localNS * Double(env.machine.distances[i, j]) / 10 } }
        return AccessCostMatrix(measuredNS: measured, modelledNS: modelled,
                                bytes: blocks * (KernelMM.PAGE_SIZE << blockOrder), hostHasFewerNodes: env.mapping.hostHasFewerNodes)
    }

    /// The host pair behind a model pair: the host node the CPUs of the model's "from" node run
    /// on (that of its first CPU, which the probe runs on), and the host node the "to" node's
    /// memory is bound to (`CPUMapping.memoryHostNode`). nil rows for CPU-less nodes.
    struct HostPair: Hashable { var cpuNode: Int; var memoryNode: Int }

    static func hostPairs(_ env: RunEnvironment) -> [[HostPair?]] {
        let nodes = env.machine.nodes.count
        return (0..<nodes).map { from in
            guard let cpu = env.machine.cpus(ofNode: from).first else { return Array(repeating: nil, count: nodes) }
            return (0..<nodes).map { HostPair(cpuNode: env.mapping.hostNode[cpu], memoryNode: env.mapping.memoryHostNode[$0]) }
        }
    }

    /// ns per load of a random cyclic pointer chase over `blocks` blocks from `node`.
    static func chase(kernel: Kernel, cpu: CPUContext, node: Int, order: Int, blocks: Int, loads: Int) -> Double {
        var refs: [PageRef] = []
        for _ in 0..<blocks {
            guard let p = kernel.allocPages(cpu, [.kernel, .thisnode, .nowarn, .noretry], order: order, node: node) else { break }
            refs.append(p)
        }
        defer { refs.forEach { kernel.freePages(cpu, $0, order: order) }; kernel.drainPCP(cpu) }
        guard !refs.isEmpty else { return 0 }
        let linesPerBlock = (KernelMM.PAGE_SIZE << order) / 64
        var lines: [UnsafeMutableRawPointer] = []
        for r in refs { let base = kernel.pageAddress(r); for l in 0..<linesPerBlock { lines.append(base + l * 64) } }
        var rng = SplitMix(seed: 0xACCE55)
        for i in stride(from: lines.count - 1, to: 0, by: -1) { lines.swapAt(i, rng.below(i + 1)) }
        for i in lines.indices { lines[i].storeBytes(of: lines[(i + 1) % lines.count], as: UnsafeMutableRawPointer.self) }
        var p = lines[0]
        for _ in 0..<min(loads, lines.count) { p = p.load(as: UnsafeMutableRawPointer.self) }  // warm the TLB
        let t0 = Clock.monotonicNS()
        for _ in 0..<loads { p = p.load(as: UnsafeMutableRawPointer.self) }
        let t1 = Clock.monotonicNS()
        arch_escape(p)
        return Double(t1 - t0) / Double(loads)
    }
}
