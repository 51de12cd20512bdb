import CArch

/// Per-CPU state of one logical CPU, as `DEFINE_PER_CPU` data plus `current->preempt_count`:
/// PCP lists, event counters and the drain request flag. Only the owning CPU (its actor, or
/// the deterministic scheduler's single thread) touches it, except the drain flag, which
/// others set atomically. Hot fields live in unsafe memory so that the fast paths pay no
/// exclusivity checks.
public final class CPUContext: @unchecked Sendable {
    public let id: Int
    /// Modelled node of this CPU (`numa_node_id()`).
    public let node: Int
    @usableFromInline let hot: UnsafeMutablePointer<Hot>
    /// PCP lists: `[zone][order][migratetype]`, see `PerCPUPages.index`.
    @usableFromInline let pcp: UnsafeMutablePointer<PCPList>
    /// Event counters per zone (`vm_event_states`, per zone): summed in reports.
    @usableFromInline let events: UnsafeMutablePointer<ZoneEvents>
    public let zoneCount: Int
    /// Set by other threads (reclaim), cleared by the owner.
    @usableFromInline let drainFlag: UnsafeMutablePointer<UInt32>
    /// `pcp->count` per zone: pages on all of the zone's lists, kept as they change so that a
    /// free compares it with `pcp->high` without adding up twelve lists. Owner only.
    @usableFromInline let pcpCount: UnsafeMutablePointer<Int>

    /// Who runs on this CPU now, for SLAB_STORE_USER tracks (`_RET_IP_` and `current->pid`):
    /// a call site registered with `SlabCallSite.register`, 0 for none (the entry point's own
    /// name is recorded then), and a pid-like id of the task.
    public var callSite: Int32 = 0
    public var pid: Int32 = 1

    @usableFromInline struct Hot {
        @usableFromInline var preemptCount: Int = 0
        /// Depth of interrupt handlers running on this CPU (`irq_count()`): always also counted
        /// in `preemptCount`, as `in_interrupt()` implies `in_atomic()`.
        @usableFromInline var interruptDepth: Int = 0
        @usableFromInline init() {}
    }

    public init(id: Int, node: Int, zoneCount: Int) {
        self.id = id
        self.node = node
        self.zoneCount = zoneCount
        // Each piece on cache lines of its own (128 bytes: adjacent-line prefetch pairs lines),
        // so that two CPUs' per-CPU data never share a line, like the kernel's per-CPU areas.
        hot = Self.cacheAligned(Hot.self, count: 1)
        hot.initialize(to: Hot())
        drainFlag = Self.cacheAligned(UInt32.self, count: 1)
        drainFlag.initialize(to: 0)
        pcp = Self.cacheAligned(PCPList.self, count: zoneCount * PerCPUPages.listsPerZone)
        pcp.initialize(repeating: PCPList(), count: zoneCount * PerCPUPages.listsPerZone)
        pcpCount = Self.cacheAligned(Int.self, count: zoneCount)
        pcpCount.initialize(repeating: 0, count: Swift.max(zoneCount, 1))
        events = Self.cacheAligned(ZoneEvents.self, count: zoneCount)
        events.initialize(repeating: ZoneEvents(), count: zoneCount)
    }

    deinit {
        for p in [UnsafeMutableRawPointer(hot), UnsafeMutableRawPointer(drainFlag), UnsafeMutableRawPointer(pcp),
                  UnsafeMutableRawPointer(pcpCount), UnsafeMutableRawPointer(events)] { p.deallocate() }
    }

    static func cacheAligned<T>(_: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        let bytes = (MemoryLayout<T>.stride * Swift.max(count, 1) + 127) & ~127
        return UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 128).bindMemory(to: T.self, capacity: count)
    }

    /// Depth of atomic sections (spin locks held, atomic-context work), as `preempt_count()`.
    @inlinable public var preemptCount: Int {
        get { hot.pointee.preemptCount }
        set { hot.pointee.preemptCount = newValue }
    }

    @inlinable public var inAtomic: Bool { hot.pointee.preemptCount > 0 }

    /// `in_interrupt()`: inside an interrupt handler (`interruptSection`).
    @inlinable public var inInterrupt: Bool { hot.pointee.interruptDepth > 0 }

    /// Runs `body` as atomic context (spin-locked or preemption-disabled code): sleeping in it
    /// is a bug.
    @inlinable public func atomicSection<R>(_ body: () throws -> R) rethrows -> R {
        hot.pointee.preemptCount += 1
        defer { hot.pointee.preemptCount -= 1 }
        return try body()
    }

    /// Runs `body` as an interrupt handler: atomic, and `in_interrupt()`, which some entries
    /// treat apart from other atomic context (`vfree()` defers the work to `vfree_atomic()`
    /// there rather than report it).
    @inlinable public func interruptSection<R>(_ body: () throws -> R) rethrows -> R {
        hot.pointee.preemptCount += 1
        hot.pointee.interruptDepth += 1
        defer { hot.pointee.interruptDepth -= 1; hot.pointee.preemptCount -= 1 }
        return try body()
    }

    /// Asks the owner to drain its PCP lists at its next allocator call (`drain_all_pages()`
    /// queues work on each CPU rather than reaching into its lists).
    public func requestDrain() { arch_store_release_u32(drainFlag, 1) }

    @inlinable var drainPending: Bool { arch_load_relaxed_u32(drainFlag) != 0 }

    @usableFromInline func clearDrainRequest() { arch_store_release_u32(drainFlag, 0) }

    public func resetEvents() { events.update(repeating: ZoneEvents(), count: zoneCount) }

    /// Pages on this CPU's PCP lists of one zone, all orders and types.
    public func pcpPages(zone: Int) -> Int {
        var n = 0
        for order in 0..<PerCPUPages.orders {
            for mt in 0..<MigrateType.pcpTypes { n += Int(pcp[PerCPUPages.index(zone: zone, order: order, mt: mt)].count) << order }
        }
        return n
    }
}

/// Per-CPU, per-zone event counters (`/proc/vmstat` style): pgalloc, pgfree, failures by GFP
/// class, fallbacks, watermark hits, PCP refills and drains, and the NUMA allocation counters
/// of `zone_statistics()` (see `NUMAStat`).
public struct ZoneEvents: Sendable, Codable, Equatable {
    public var allocs: [UInt64] { [allocAtomic, allocNowait, allocBlocking] }
    public var allocAtomic: UInt64 = 0
    public var allocNowait: UInt64 = 0
    public var allocBlocking: UInt64 = 0
    public var failAtomic: UInt64 = 0
    public var failNowait: UInt64 = 0
    public var failBlocking: UInt64 = 0
    public var frees: UInt64 = 0
    /// Served by a lower zone than the mask's highest (Normal → DMA32 → DMA).
    public var zoneFallbacks: UInt64 = 0
    /// Served by another node than the preferred one.
    public var nodeFallbacks: UInt64 = 0
    /// Zone skipped because its watermark check failed.
    public var watermarkHits: UInt64 = 0
    public var pcpRefills: UInt64 = 0
    public var pcpDrains: UInt64 = 0
    public var directReclaims: UInt64 = 0
    public var sleeps: UInt64 = 0
    /// `__GFP_NOFAIL` allocations still retrying when the run ended: the kernel would have
    /// kept looping; the model gives them up with the run and counts them here.
    public var nofailStalled: UInt64 = 0
    /// By the caller's GFP class: sleeps for free pages and the time slept, direct reclaim
    /// rounds, and allocations that passed the watermark only thanks to the reserves
    /// (ALLOC_MIN_RESERVE / ALLOC_NON_BLOCK lower the min watermark in `__zone_watermark_ok`).
    public var sleepsBy = GFPClassCounts()
    public var sleptNSBy = GFPClassCounts()
    public var directReclaimsBy = GFPClassCounts()
    public var reserveAllocsBy = GFPClassCounts()

    /// NUMA_HIT / NUMA_MISS: allocations served from this zone whose preferred zone was on the
    /// same node / on another node. NUMA_FOREIGN: allocations that preferred this zone and were
    /// served by another node. NUMA_LOCAL / NUMA_OTHER: served here for a CPU of this zone's node
    /// / of another node. NUMA_INTERLEAVE_HIT: interleave-policy pages that landed on the node
    /// the policy chose. One count per allocation, whatever its order, as the kernel counts.
    public var numaHit: UInt64 = 0
    public var numaMiss: UInt64 = 0
    public var numaForeign: UInt64 = 0
    public var numaLocal: UInt64 = 0
    public var numaOther: UInt64 = 0
    public var interleaveHit: UInt64 = 0

    public init() {}

    /// Results written before a counter existed read back with it at 0.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func v(_ k: CodingKeys) -> UInt64 { ((try? c.decodeIfPresent(UInt64.self, forKey: k)) ?? nil) ?? 0 }
        allocAtomic = v(.allocAtomic); allocNowait = v(.allocNowait); allocBlocking = v(.allocBlocking)
        failAtomic = v(.failAtomic); failNowait = v(.failNowait); failBlocking = v(.failBlocking)
        frees = v(.frees); zoneFallbacks = v(.zoneFallbacks); nodeFallbacks = v(.nodeFallbacks)
        watermarkHits = v(.watermarkHits); pcpRefills = v(.pcpRefills); pcpDrains = v(.pcpDrains)
        directReclaims = v(.directReclaims); sleeps = v(.sleeps); nofailStalled = v(.nofailStalled)
        func per(_ k: CodingKeys) -> GFPClassCounts { ((try? c.decodeIfPresent(GFPClassCounts.self, forKey: k)) ?? nil) ?? GFPClassCounts() }
        sleepsBy = per(.sleepsBy); sleptNSBy = per(.sleptNSBy); directReclaimsBy = per(.directReclaimsBy)
        reserveAllocsBy = per(.reserveAllocsBy)
        numaHit = v(.numaHit); numaMiss = v(.numaMiss); numaForeign = v(.numaForeign)
        numaLocal = v(.numaLocal); numaOther = v(.numaOther); interleaveHit = v(.interleaveHit)
    }

    @inlinable mutating func countAlloc(_ c: GFPClass) {
        switch c { case .atomic: allocAtomic &+= 1; case .nowait: allocNowait &+= 1; case .blocking: allocBlocking &+= 1 }
    }
    @inlinable mutating func countFailure(_ c: GFPClass) {
        switch c { case .atomic: failAtomic &+= 1; case .nowait: failNowait &+= 1; case .blocking: failBlocking &+= 1 }
    }

    public var failures: UInt64 { failAtomic + failNowait + failBlocking }
    public var totalAllocs: UInt64 { allocAtomic + allocNowait + allocBlocking }

    public static func + (a: ZoneEvents, b: ZoneEvents) -> ZoneEvents {
        var r = ZoneEvents()
        r.allocAtomic = a.allocAtomic + b.allocAtomic; r.allocNowait = a.allocNowait + b.allocNowait
        r.allocBlocking = a.allocBlocking + b.allocBlocking
        r.failAtomic = a.failAtomic + b.failAtomic; r.failNowait = a.failNowait + b.failNowait
        r.failBlocking = a.failBlocking + b.failBlocking
        r.frees = a.frees + b.frees; r.zoneFallbacks = a.zoneFallbacks + b.zoneFallbacks
        r.nodeFallbacks = a.nodeFallbacks + b.nodeFallbacks; r.watermarkHits = a.watermarkHits + b.watermarkHits
        r.pcpRefills = a.pcpRefills + b.pcpRefills; r.pcpDrains = a.pcpDrains + b.pcpDrains
        r.directReclaims = a.directReclaims + b.directReclaims; r.sleeps = a.sleeps + b.sleeps
        r.nofailStalled = a.nofailStalled + b.nofailStalled
        r.sleepsBy = a.sleepsBy + b.sleepsBy; r.sleptNSBy = a.sleptNSBy + b.sleptNSBy
        r.directReclaimsBy = a.directReclaimsBy + b.directReclaimsBy; r.reserveAllocsBy = a.reserveAllocsBy + b.reserveAllocsBy
        r.numaHit = a.numaHit + b.numaHit; r.numaMiss = a.numaMiss + b.numaMiss; r.numaForeign = a.numaForeign + b.numaForeign
        r.numaLocal = a.numaLocal + b.numaLocal; r.numaOther = a.numaOther + b.numaOther
        r.interleaveHit = a.interleaveHit + b.interleaveHit
        return r
    }
}
