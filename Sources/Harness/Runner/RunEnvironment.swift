import Foundation
import KernelMM
import Topology

/// Everything one repetition of a run stands on: the modelled machine, its allocators and
/// caches, and the pinned CPU actors of the CPUs the workloads use.
final class RunEnvironment: @unchecked Sendable {
    let config: StressConfig
    let machine: Topology.Machine
    let mapping: CPUMapping
    let kernel: Kernel
    let slab: SlabAllocator
    let vmalloc: Vmalloc
    let caches: [KmemCache]
    let ownership: ObjectOwnership?
    /// CPU ids some workload runs on, and their actors (same order).
    let cpuIDs: [Int]
    let actors: [CPU]

    init(config: StressConfig) throws {
        self.config = config
        machine = try TopologyLoader.load(config.topology.source, distances: config.topology.distances)
        mapping = CPUMapping(model: machine, host: HostBinding.shared.machine, modelIsHost: config.topology.source.isHost)
        var memory = config.memory
        memory.zoneLock = config.locks.zone
        // Deterministic runs have no background threads whose timing could change the counters.
        if config.run.deterministic { memory.kswapd = false }
        let log = KernelLog()
        if config.run.onSlabError == .abort { log.stopOn = [.slabError] }
        kernel = try Kernel(machine: machine, mapping: mapping, config: memory, log: log)
        let debug: SlabFlags = config.run.slubDebug ? [.consistencyChecks, .redZone, .poison] : []
        slab = try SlabAllocator(kernel: kernel, nodePolicy: config.locks.nodePartial, debug: debug)
        vmalloc = try Vmalloc(kernel: kernel, bytes: max(64 << 20, config.memory.perNodeBytes * machine.nodes.count))
        var made: [KmemCache] = []
        for spec in config.caches {
            var ctor: KmemCache.Constructor? = nil
            if spec.ctor { ctor = { obj in obj.storeBytes(of: UInt8(0xC7), as: UInt8.self) } }
            made.append(try slab.createCache(name: spec.name, size: spec.size, align: spec.align,
                                             flags: spec.flags.union(debug), ctor: ctor))
        }
        caches = made
        ownership = config.run.slubDebug ? ObjectOwnership(kernel: kernel) : nil
        let shape = machine, map = mapping
        var used = Set<Int>()
        for w in config.workloads { used.formUnion(w.cpus.resolve(in: shape)) }
        let ids = used.sorted()
        cpuIDs = ids
        actors = config.run.deterministic ? [] : ids.map { CPU(id: $0, node: shape.pus[$0].node, hostPU: map.hostPU[$0]) }
    }

    func shutdown() {
        actors.forEach { $0.shutdown() }
        kernel.shutdown()
    }
}
