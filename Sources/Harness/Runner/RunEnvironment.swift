import CArch
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
    let mmu: MMU
    let vmap: KernelPageTableMapper
    /// Address space of each workload that maps memory (its CPUs share it, as threads of one
    /// process do), and the mappings its CPUs publish for each other to touch.
    let spaces: [String: AddressSpace]
    let spaceList: [AddressSpace]
    let published: [String: PublishedMappings]
    let caches: [KmemCache]
    let ownership: ObjectOwnership?
    /// `validate_slab_cache()` passes run and the `slab_errors` they counted (atomic: any CPU
    /// may run one).
    let validation: UnsafeMutablePointer<UInt64> = {
        let p = UnsafeMutablePointer<UInt64>.allocate(capacity: 2)
        p.initialize(repeating: 0, count: 2)
        return p
    }()
    /// `faults:`: the injected faults and the model's reports, matched (nil without faults).
    let faultLedger: FaultLedger?
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
        let ledger = config.faults.map { _ in FaultLedger() }
        log.observer = ledger
        faultLedger = ledger
        kernel = try Kernel(machine: machine, mapping: mapping, config: memory, log: log)
        slab = try SlabAllocator(kernel: kernel, nodePolicy: config.locks.nodePartial, slubDebug: config.run.slubDebugOptions,
                                 sheaves: config.run.sheaves)
        mmu = try MMU(kernel: kernel)
        mmu.debugChecks = config.run.slubDebug
        mmu.synchronousIPIs = config.run.deterministic
        vmap = KernelPageTableMapper(mmu: mmu)
        vmalloc = try Vmalloc(kernel: kernel, bytes: max(256 << 20, config.memory.perNodeBytes * machine.nodes.count), mapper: vmap)
        var spaces: [String: AddressSpace] = [:], list: [AddressSpace] = [], published: [String: PublishedMappings] = [:]
        for w in config.workloads where w.mix.contains(where: { $0.kind == .mmap }) {
            let first = w.cpus.resolve(in: machine).first ?? 0
            let space = try mmu.createAddressSpace(name: w.name, cpu: kernel.cpus[first])
            spaces[w.name] = space
            list.append(space)
            published[w.name] = PublishedMappings()
        }
        self.spaces = spaces
        spaceList = list
        self.published = published
        var made: [KmemCache] = []
        for spec in config.caches {
            var ctor: KmemCache.Constructor? = nil
            if spec.ctor { ctor = { obj in obj.storeBytes(of: UInt8(0xC7), as: UInt8.self) } }
            made.append(try slab.createCache(name: spec.name, size: spec.size, align: spec.align,
                                             flags: spec.flags, ctor: ctor, sheafCapacity: spec.sheafCapacity))
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

    /// One validation pass over every debug cache, counted.
    func validateCaches() {
        let errors = slab.validateAll().values.reduce(0, +)
        _ = arch_fetch_add_u64(validation, 1)
        _ = arch_fetch_add_u64(validation + 1, UInt64(errors))
    }

    func spaceIndex(_ workload: String) -> Int32 {
        guard let s = spaces[workload] else { return -1 }
        return Int32(spaceList.firstIndex { $0 === s } ?? -1)
    }

    deinit { validation.deallocate() }

    func shutdown() {
        CPU.shutdown(actors)
        kernel.shutdown()
    }
}

/// The latest mappings of a workload, published so that its other CPUs touch them too (and so
/// cache their translations): a fixed ring of (address | pages) words, written and read with
/// atomics. A reader may find a mapping already gone: its access then faults, as it would in a
/// process whose thread unmaps what another thread is reading.
final class PublishedMappings: @unchecked Sendable {
    static let slots = 64
    let words = UnsafeMutablePointer<UInt64>.allocate(capacity: PublishedMappings.slots)
    let next = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)

    init() {
        words.initialize(repeating: 0, count: Self.slots)
        next.initialize(to: 0)
    }
    deinit { words.deallocate(); next.deallocate() }

    func publish(va: UInt64, pages: Int) {
        let i = Int(arch_fetch_add_u64(next, 1) % UInt64(Self.slots))
        arch_store_release_u64(words + i, va | UInt64(min(pages, 4095)))
    }

    func pick(_ r: UInt64) -> (va: UInt64, pages: Int)? {
        let w = arch_load_acquire_u64(words + Int(r % UInt64(Self.slots)))
        return w == 0 ? nil : (w & ~0xFFF, Int(w & 0xFFF))
    }
}
