import CArch
import Foundation
import Topology

/// The modelled machine's memory management: nodes with zones over real arenas, zonelists from
/// the distance matrix, the logical CPUs' per-CPU state, reclaim (shrinkers, kswapd) and the
/// kernel log. Created once per run; every allocator entry point takes the calling CPU's
/// context, as kernel code has `smp_processor_id()`.
public final class Kernel: @unchecked Sendable {
    public let machine: Topology.Machine
    public let mapping: CPUMapping
    public let config: MemoryConfig
    public let nodes: [Node]
    /// All zones, by global index (`node * 3 + type`).
    public let zones: [Zone]
    public let cpus: [CPUContext]
    public let log: KernelLog
    /// `zonelists[node][highestZone]`: the zones an allocation tries, in order (node order:
    /// all usable zones of the nearest node, highest first, then the next node…).
    let zonelists: [[[Int]]]
    /// Hot-path copies: every zone's core, and the zonelists flattened
    /// (`zonelistTable[(node * 3 + highest) * zoneCount + k]`, -1 terminated when short).
    @usableFromInline let cores: UnsafeMutablePointer<ZoneCore>
    @usableFromInline let zonelistTable: UnsafeMutablePointer<Int32>
    @usableFromInline let zoneCount: Int
    let freeWait = FreeWaitQueue()
    /// Set when the run that drives this kernel is ending (its deadline, a signal, an abort).
    /// Every blocking wait of the model gives up on it, so that no allocation outlives its run;
    /// CPUs read it once per operation (a relaxed load).
    public let stopWord: UnsafeMutablePointer<UInt32> = {
        let p = UnsafeMutablePointer<UInt32>.allocate(capacity: 1)
        p.initialize(to: 0)
        return p
    }()
    /// `remote_cost: inject`: extra TSC ticks spent, while holding the lock, when a CPU of node
    /// `[from]` works on node `[to]`'s zone or partial list (`[from * nodes + to]`; 0 = none),
    /// so that lock hold times stretch as remote memory would stretch them.
    public let injectTicks: UnsafeMutablePointer<UInt64>
    /// Start of the modelled physical address space (PFN 0) and its size in pages.
    public let physicalBase: UnsafeMutableRawPointer
    public let physicalPages: Int
    /// `mem_map`: one `struct page` per PFN, all zones together.
    @usableFromInline let memMap: UnsafeMutablePointer<Page>
    /// `pfn_to_nid()` (a value the slab layer copies: see `PFNToNode`).
    public let pfnToNode: PFNToNode
    private let shrinkerLock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var shrinkers: [Shrinker] = []
    /// One reclaimer per node at a time: kswapd and direct reclaimers take turns.
    private let reclaimLocks: [KernelLock]
    /// Moves movable pages for compaction: the MMU, once one exists for this kernel.
    public weak var migrator: (any PageMigrator)?

    public init(machine: Topology.Machine, mapping: CPUMapping, config: MemoryConfig, log: KernelLog = KernelLog()) throws {
        try config.validate(nodes: machine.nodes.count)
        self.machine = machine
        self.mapping = mapping
        self.config = config
        self.log = log
        pthread_mutex_init(shrinkerLock, nil)
        // x86-64: ZONE_DMA (below 16 MiB) and ZONE_DMA32 (below 4 GiB) exist only on the node
        // that holds low physical memory — node 0 here, whose arena starts at PFN 0. Every
        // other node is all ZONE_NORMAL; GFP_DMA from there goes to node 0 by the zonelist.
        let lowSizes = [config.dmaBytes, config.dma32Bytes, config.normalBytes].map { $0 / PAGE_SIZE }
        let highSizes = [0, 0, config.perNodeBytes / PAGE_SIZE]
        let totalPages = config.perNodeBytes / PAGE_SIZE * machine.nodes.count
        // All nodes' arenas side by side in one reservation, and one `mem_map` for all of them
        // (FLATMEM), so that virt_to_page() is a subtraction and a shift.
        let pagesPerNode = config.perNodeBytes / PAGE_SIZE
        physicalBase = try NodeMemory.reserve(bytes: config.perNodeBytes * machine.nodes.count)
        physicalPages = pagesPerNode * machine.nodes.count
        pfnToNode = PFNToNode(pagesPerNode: pagesPerNode, physicalPages: physicalPages)
        memMap = .allocate(capacity: Swift.max(physicalPages, 1))
        memMap.initialize(repeating: .empty, count: Swift.max(physicalPages, 1))
        var nodes: [Node] = []
        var pfn = 0
        for n in machine.nodes.indices {
            // Model node n is bound to the host node the mapping gives it (its CPUs' node, or
            // itself when the model is the host).
            let memory = try NodeMemory.map(bytes: config.perNodeBytes, hostNode: mapping.memoryHostNode[n], prefault: config.prefault,
                                            at: physicalBase + n * config.perNodeBytes)
            var offset = 0
            var zones: [Zone] = []
            let sizes = n == 0 ? lowSizes : highSizes
            for type in ZoneType.allCases {
                let pages = sizes[type.rawValue]
                let batch = config.pcpBatch ?? PerCPUPages.batch(zonePages: pages)
                let marks = config.watermarks ?? Watermarks.computed(zonePages: pages, totalPages: totalPages)
                let localCPUs = machine.nodes[n].pus.count
                let high = config.pcpHigh ?? PerCPUPages.high(lowWatermark: marks.low, batch: batch,
                                                             cpusOnNode: localCPUs > 0 ? localCPUs : machine.pus.count)
                zones.append(Zone(node: n, type: type, startPFN: pfn, pages: pages, maxOrder: config.maxOrder,
                                  base: memory.base + offset, meta: memMap + pfn, lockPolicy: config.zoneLock, log: log,
                                  watermarks: marks, lowmemReserve: Self.lowmemReserve(of: type, sizes: sizes),
                                  pcpBatch: batch, pcpHigh: high,
                                  cpuSlots: (machine.pus.map(\.logicalIndex).max() ?? 0) + 2))
                pfn += pages
                offset += pages * PAGE_SIZE
            }
            nodes.append(Node(id: n, zones: zones, memory: memory))
        }
        self.nodes = nodes
        self.zones = nodes.flatMap(\.zones)
        self.cpus = machine.pus.map { CPUContext(id: $0.logicalIndex, node: $0.node, zoneCount: nodes.count * ZoneType.allCases.count) }
        zoneCount = zones.count
        injectTicks = .allocate(capacity: machine.nodes.count * machine.nodes.count)
        injectTicks.initialize(repeating: 0, count: machine.nodes.count * machine.nodes.count)
        cores = .allocate(capacity: zones.count)
        cores.initialize(from: zones.map(\.core), count: zones.count)
        self.reclaimLocks = nodes.map { KernelLock(name: "reclaim \($0.id)", policy: .mutex) }
        let orders = machine.distances.zonelistOrders(ids: machine.nodeOSIndexes, hasCPUs: machine.nodes.map { !$0.pus.isEmpty })
        self.zonelists = machine.nodes.indices.map { n in
            ZoneType.allCases.map { highest in
                orders[n].flatMap { other in
                    stride(from: highest.rawValue, through: 0, by: -1).map { other * ZoneType.allCases.count + $0 }
                }
            }
        }
        zonelistTable = .allocate(capacity: max(zonelists.count, 1) * ZoneType.allCases.count * zoneCount)
        zonelistTable.initialize(repeating: -1, count: max(zonelists.count, 1) * ZoneType.allCases.count * zoneCount)
        for (n, perZone) in zonelists.enumerated() {
            for (h, list) in perZone.enumerated() {
                for (k, zi) in list.enumerated() { zonelistTable[(n * ZoneType.allCases.count + h) * zoneCount + k] = Int32(zi) }
            }
        }
        registerShrinker(PCPDrainShrinker(kernel: self))
        if config.kswapd {
            for node in nodes {
                let pu = machine.cpus(ofNode: node.id).first.map { mapping.hostPU[$0] }
                let k = Kswapd(node: node.id, kernel: self, hostPU: pu)
                node.kswapd = k
                k.start()
                // kcompactd is woken by kswapd only (no proactive compaction here).
                if config.compaction {
                    let c = Kcompactd(node: node.id, kernel: self, hostPU: pu)
                    node.kcompactd = c
                    c.start()
                }
            }
        }
    }

    deinit {
        unmapArenas()
        cores.deallocate()
        zonelistTable.deallocate()
        memMap.deallocate()
        injectTicks.deallocate()
        pthread_mutex_destroy(shrinkerLock)
        shrinkerLock.deallocate()
    }

    /// True once `requestStop()` was called (and until `clearStop()`).
    @inline(__always) public var stopRequested: Bool { arch_load_relaxed_u32(stopWord) != 0 }

    /// Ends every blocking wait at once: allocators sleeping for free pages wake, see the flag
    /// and give up (a `__GFP_NOFAIL` one is counted as stalled).
    public func requestStop() {
        arch_store_release_u32(stopWord, 1)
        freeWait.wakeAll()
    }

    /// Lets the next phase (the measured phase after the warm-up) run again.
    public func clearStop() { arch_store_release_u32(stopWord, 0) }

    /// Stops the kcompactd threads (`kthread_stop()`), as the run's CPUs stop allocating:
    /// nothing may migrate pages while address spaces are torn down. A later wake-up from
    /// kswapd finds no thread and does nothing. Idempotent.
    public func stopCompactionDaemons() {
        for n in nodes { n.kcompactd?.stop() }
    }

    /// Stops the kswapd and kcompactd threads. Idempotent.
    public func shutdown() {
        for n in nodes { n.kswapd?.stop(); n.kswapd = nil; n.kcompactd?.stop(); n.kcompactd = nil }
    }

    private var arenasUnmapped = false
    /// Returns the arenas to the host. Only after every user of the memory is done.
    public func unmapArenas() {
        guard !arenasUnmapped else { return }
        arenasUnmapped = true
        shutdown()
        // One munmap for the whole reservation, node arenas included: see closeDescriptor().
        let end = nodes.map { $0.memory.base + $0.memory.bytes }.max() ?? physicalBase
        munmap(physicalBase, max(physicalPages * PAGE_SIZE, end - physicalBase))
        for n in nodes { n.memory.closeDescriptor() }
    }

    /// `setup_per_zone_lowmem_reserve()`: a zone keeps back from allocations that could have
    /// used a higher zone the size of those higher zones divided by its ratio.
    static func lowmemReserve(of type: ZoneType, sizes: [Int]) -> [Int] {
        guard sizes[type.rawValue] > 0 else { return Array(repeating: 0, count: sizes.count) }
        var reserve = Array(repeating: 0, count: sizes.count)
        var upper = 0
        for higher in ZoneType.allCases where higher.rawValue > type.rawValue {
            upper += sizes[higher.rawValue]
            reserve[higher.rawValue] = upper / type.lowmemReserveRatio
        }
        return reserve
    }

    // MARK: shrinkers and reclaim

    public func registerShrinker(_ s: Shrinker) {
        pthread_mutex_lock(shrinkerLock); shrinkers.append(s); pthread_mutex_unlock(shrinkerLock)
    }

    public func unregisterShrinker(_ s: Shrinker) {
        pthread_mutex_lock(shrinkerLock); shrinkers.removeAll { $0 === s }; pthread_mutex_unlock(shrinkerLock)
    }

    var registeredShrinkers: [Shrinker] {
        pthread_mutex_lock(shrinkerLock); defer { pthread_mutex_unlock(shrinkerLock) }
        return shrinkers
    }

    /// `shrink_slab()` for one node: asks every shrinker in turn for `target` pages.
    func shrinkNode(_ node: Int, target: Int, cpu: CPUContext?) -> Int {
        var freed = 0
        for s in registeredShrinkers where freed < target {
            let n = s.count(node: node)
            if n > 0 { freed += s.scan(node: node, count: Swift.min(n, Swift.max(target - freed, 1)), cpu: cpu) }
        }
        return freed
    }

    /// `pgdat_balanced()` (mm/vmscan.c, Linux 6.12): the node needs no more reclaim once any
    /// populated zone up to `highest` passes its high watermark (order 0, with the lowmem
    /// reserve against `highest`); a node with no such zone needs none by definition.
    func pgdatBalanced(_ node: Int, highest: ZoneType) -> Bool {
        let eligible = nodes[node].zones.filter { !$0.isEmpty && $0.type.rawValue <= highest.rawValue }
        if eligible.isEmpty { return true }
        return eligible.contains { $0.core.watermarkOK(order: 0, mark: $0.watermarks.high, highest: highest, flags: []) }
    }

    /// `balance_pgdat()`: reclaim on `node` until `pgdat_balanced()` or a pass frees nothing.
    /// Returns true when it had work to do.
    @discardableResult
    func balanceNode(_ node: Int, cpu: CPUContext?, highest: ZoneType = .normal) -> Bool {
        let lock = reclaimLocks[node]
        lock.lock(mayBlock: true, cpu: cpu)
        defer { lock.unlock(cpu: cpu) }
        var didWork = false
        for _ in 0..<8 {
            if pgdatBalanced(node, highest: highest) { break }
            let short = nodes[node].zones.filter { !$0.isEmpty && $0.type.rawValue <= highest.rawValue && $0.freePages < $0.watermarks.high }
            if short.isEmpty { break }
            didWork = true
            let target = short.reduce(0) { $0 + $1.watermarks.high - $1.freePages }
            short.forEach { $0.countReclaimPass() }
            if shrinkNode(node, target: target, cpu: cpu) == 0 { break }
        }
        return didWork
    }

    /// Spends the injected remote cost for `cpu` touching node `node` (nothing when local or off).
    @inline(__always) func injectRemoteCost(_ cpu: CPUContext, node: Int) {
        guard cpu.node != node, cpu.node < nodes.count else { return }
        let ticks = injectTicks[cpu.node * nodes.count + node]
        if ticks != 0 { Self.spin(ticks: ticks) }
    }

    @inline(never) static func spin(ticks: UInt64) {
        let end = Clock.ticks() &+ ticks
        while Clock.ticks() < end { arch_cpu_relax() }
    }

    /// Sets the injected cost in nanoseconds, `[from][to]`.
    public func setInjectedRemoteCost(ns: [[Double]]) {
        for (i, row) in ns.enumerated() { for (j, v) in row.enumerated() {
            injectTicks[i * nodes.count + j] = UInt64(max(v, 0) / Clock.nsPerTick)
        } }
    }

    func wakeKswapd(node: Int, order: Int, highest: ZoneType) { nodes[node].kswapd?.wake(order: order, highest: highest) }
    func wakeKcompactd(node: Int, order: Int, highest: ZoneType) { nodes[node].kcompactd?.wake(order: order, highest: highest) }

    /// The context reclaim runs in on `node` when no CPU called it (kswapd's).
    func reclaimContext(node: Int) -> CPUContext? { nodes[node].kswapd?.context }

    // MARK: lookups

    /// `page_address()`.
    @inlinable public func pageAddress(_ p: PageRef) -> UnsafeMutableRawPointer {
        cores[Int(p.zone)].address(of: p.index)
    }

    /// `page_to_pfn()`.
    public func pfn(_ p: PageRef) -> PFN { PFN(zones[Int(p.zone)].startPFN + Int(p.index)) }

    /// `virt_to_page()`: nil for an address outside every arena.
    public func virtToPage(_ address: UnsafeRawPointer) -> PageRef? {
        guard let pfn = virtToPFN(address) else { return nil }
        for z in zones where !z.isEmpty && pfn >= z.startPFN && pfn < z.startPFN + z.pages {
            return PageRef(zone: Int32(z.index), index: Int32(pfn - z.startPFN))
        }
        return nil
    }

    /// `virt_to_pfn()` for the direct map: nil outside the modelled physical memory.
    @inlinable public func virtToPFN(_ address: UnsafeRawPointer) -> Int? {
        let offset = UInt(bitPattern: address - UnsafeRawPointer(physicalBase))
        let pfn = Int(offset >> UInt(PAGE_SHIFT))
        return offset < UInt(physicalPages) << UInt(PAGE_SHIFT) ? pfn : nil
    }

    /// Pages per modelled node; node n owns PFNs [n × this, (n + 1) × this).
    public var pagesPerNode: Int { config.perNodeBytes / PAGE_SIZE }

    /// `pfn_to_nid()`.
    @inlinable public func nodeOf(pfn: Int) -> Int { pfnToNode(pfn) }

    /// The zone-relative reference of a PFN.
    public func pageRef(pfn: Int) -> PageRef {
        let n = nodeOf(pfn: pfn)
        for z in nodes[n].zones where pfn >= z.startPFN && pfn < z.startPFN + z.pages {
            return PageRef(zone: Int32(z.index), index: Int32(pfn - z.startPFN))
        }
        preconditionFailure("pfn \(pfn) in no zone")
    }

    /// `pfn_to_virt()` for the direct map.
    @inlinable public func pfnToVirt(_ pfn: Int) -> UnsafeMutableRawPointer { physicalBase + pfn << PAGE_SHIFT }

    /// The `struct page` of any PFN.
    @inlinable public func pfnToPage(_ pfn: Int) -> UnsafeMutablePointer<Page> { memMap + pfn }

    /// The `struct page` of a block, for the layers above (slab) that keep state in it.
    @inlinable public func page(_ p: PageRef) -> UnsafeMutablePointer<Page> {
        cores[Int(p.zone)].meta + Int(p.index)
    }

    /// Sum of the per-CPU events of a zone.
    public func events(zone: Int) -> ZoneEvents {
        cpus.reduce(ZoneEvents()) { $0 + $1.events[zone] }
    }

    /// Clears counters between warm-up and the measured phase.
    public func resetCounters() {
        cpus.forEach { $0.resetEvents() }
        zones.forEach { $0.resetLockStats(); $0.core.resetVMEvents() }
    }
}
