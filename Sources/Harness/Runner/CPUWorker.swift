import CArch
import Foundation
import KernelMM

/// What one logical CPU runs: its share of every workload that selects it, with its own seeded
/// generator, object windows, handoff rings and figures. Only its CPU's thread calls it (or
/// the deterministic scheduler's single thread).
///
/// Its mutable state is touched by its own CPU only, one operation at a time, so the stored
/// properties opt out of dynamic exclusivity checks (`@exclusivity(unchecked)`), which would
/// otherwise cost a third of a short operation.
final class CPUWorker: @unchecked Sendable {
    let cpu: CPUContext
    let env: RunEnvironment
    /// The allocators as the per-operation path reaches them: without reference counting,
    /// which two CPUs would otherwise bounce on the shared objects' counts (the environment
    /// owns them for longer than any worker runs).
    let slabRef: Unmanaged<SlabAllocator>
    let kernelRef: Unmanaged<Kernel>
    let cacheRefs: UnsafeMutablePointer<Unmanaged<KmemCache>>
    let stats: CPUStats
    /// The stats' counter words, reached without going through the stats object on every
    /// operation: the per-cell counts, and this CPU's own node in the locality row.
    let opCounts: UnsafeMutablePointer<UInt64>
    let localAllocations: UnsafeMutablePointer<UInt64>
    /// `parts.count`, read on every step.
    let partCount: Int
    @exclusivity(unchecked) var rng: SplitMix
    @exclusivity(unchecked) var parts: [WorkloadPart]
    /// Each part's per-operation settings as plain values (`HotPart`), and its window: what
    /// `step()` reads, with no array, string or optional in the way.
    let hot: UnsafeMutablePointer<HotPart>
    let windows: UnsafeMutablePointer<ObjectWindow>
    @exclusivity(unchecked) var turn = 0
    /// One producing part with nothing else drawing between its operations: the next
    /// operation is drawn at the end of this one (`nextOp`), which is where the generator would
    /// reach it anyway, so seeded runs draw what they drew; the random branch on the kind then
    /// waits on a stored value instead of the whole draw, and mispredicts for less.
    let drawsAhead: Bool
    @exclusivity(unchecked) var nextOp: UnsafeMutablePointer<OpPlan>? = nil
    /// The workload part being stepped (for operations that need its address space).
    @exclusivity(unchecked) var turnPart = 0
    /// The gaps between timed operations (`run.sample_rate` on average, see `SampleInterval`).
    @exclusivity(unchecked) var sampleGaps: SampleInterval
    /// Separate countdowns for allocations and frees, each to its next timed operation.
    @exclusivity(unchecked) var allocCountdown: Int
    @exclusivity(unchecked) var freeCountdown: Int
    /// Operations done, published for the progress line (relaxed store, read by the main thread).
    let progress = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)
    /// Extra TSC ticks per touched cache line of another node's memory (`remote_cost: inject`).
    @exclusivity(unchecked) var touchInjectTicks: [UInt64] {
        didSet { injectsTouchCost = touchInjectTicks.contains { $0 > 0 } }
    }
    /// Some node's touches cost extra: only then does a touch look up the object's node.
    @exclusivity(unchecked) var injectsTouchCost = false
    /// `--inject-delay` in TSC ticks, spent after each operation; 0 when off (InjectedDelay).
    @exclusivity(unchecked) var delayTicks: UInt64 = 0
    /// Operations left before the next validation pass (`run.validate_every`); 0: none.
    @exclusivity(unchecked) var validateLeft = 0
    /// This CPU's IPI pending flag: the word a shootdown's sender sets (`MMU.pendingFlag`), so
    /// the poll between operations is one load.
    let ipiPending: UnsafeMutablePointer<UInt32>
    /// Ownership checks run (debug runs only): the flag, so other runs skip the optional.
    let checksOwnership: Bool
    /// Every part is a replay (the loop asks whether the streams are over).
    let replayOnly: Bool
    /// The first byte of this CPU's node memory and its size: an object inside is counted as
    /// local without a division (`Kernel.nodeOf`).
    let localBase: UInt
    let nodeBytes: UInt
    /// `faults:`: this CPU's injector, nil when the config injects nothing.
    @exclusivity(unchecked) var faults: FaultInjector?

    /// One workload's state on this CPU.
    struct WorkloadPart {
        let spec: WorkloadSpec
        let ops: [OpSpec]
        let cumulative: [Double]
        let cacheIndex: [Int]
        var targets: [HandoffRing] = []
        var nextTarget = 0
        var incoming: [HandoffRing] = []
        /// The trace stream this CPU replays (a replay workload), nil otherwise.
        var replay: ReplayCursor? = nil
        var isConsumer: Bool { spec.from != nil }
    }

    /// A part's per-operation settings, flattened before the run (see `OpPlan`).
    struct HotPart {
        enum Mode: UInt8 { case produce, consume, replay }
        var mode: Mode
        var opCount: Int
        /// The weighted draw and `opCount` plans, owned by the worker.
        var pick: WeightedPick
        var plans: UnsafeMutablePointer<OpPlan>
        var atomicShare: Double
        var gfp: GFP
        var useMalloc: Bool
        /// Bytes to write into each new object (0: none) and the pattern.
        var touchBytes: Int
        var touchPattern: UInt8
        /// Keep-N window size and order; `keep < 0` frees at once.
        var keep: Int
        var keepOrder: LifetimeOrder
        /// The workload shares mappings between its CPUs (mmap workloads).
        var sharesMappings: Bool
        /// Frees go to a consumer workload's rings.
        var handsOff: Bool
    }

    init(cpu: CPUContext, env: RunEnvironment, parts: [WorkloadPart], seed: UInt64, drawAhead: Bool = true) {
        self.cpu = cpu
        self.env = env
        slabRef = .passUnretained(env.slab)
        kernelRef = .passUnretained(env.kernel)
        cacheRefs = .allocate(capacity: max(env.caches.count, 1))
        for (i, c) in env.caches.enumerated() { cacheRefs[i] = Unmanaged.passUnretained(c) }
        var parts = parts
        for i in parts.indices {
            if let plan = parts[i].spec.replay {
                parts[i].replay = ReplayCursor(plan: plan, cpu: cpu.id, env: env, pace: parts[i].spec.replayPace)
            }
        }
        self.parts = parts
        hot = .allocate(capacity: max(parts.count, 1))
        windows = .allocate(capacity: max(parts.count, 1))
        for (i, p) in parts.enumerated() {
            let spec = p.spec
            let n = p.ops.count
            let plans = UnsafeMutablePointer<OpPlan>.allocate(capacity: max(n, 1))
            for k in 0..<n {
                let op = p.ops[k]
                plans.advanced(by: k).initialize(to: OpPlan(kind: op.kind, size: DrawPlan(op.size), order: DrawPlan(op.order),
                                                            cacheIndex: p.cacheIndex[k], index: k))
            }
            var keep = -1, keepOrder = LifetimeOrder.fifo
            if case .keep(let n, let order) = spec.lifetime { keep = n; keepOrder = order }
            let mode: HotPart.Mode = p.replay != nil ? .replay : p.isConsumer ? .consume : .produce
            hot.advanced(by: i).initialize(to: HotPart(
                mode: mode, opCount: n, pick: WeightedPick(cumulative: p.cumulative), plans: plans, atomicShare: spec.atomicShare,
                gfp: spec.gfp, useMalloc: spec.allocator == .malloc, touchBytes: spec.touch?.bytes ?? 0,
                touchPattern: spec.touch?.pattern ?? 0x5a, keep: keep, keepOrder: keepOrder,
                sharesMappings: env.published[spec.name] != nil && env.spaces[spec.name] != nil,
                handsOff: !p.targets.isEmpty))
            windows.advanced(by: i).initialize(to: ObjectWindow(reserving: keep >= 0 ? min(keep + 1, 1 << 20) : 0))
        }
        stats = CPUStats(nodes: env.machine.nodes.count)
        opCounts = stats.opCounts
        localAllocations = stats.locality + cpu.node
        partCount = parts.count
        drawsAhead = drawAhead && parts.count == 1 && hot[0].mode == .produce && !hot[0].sharesMappings && hot[0].opCount > 0
        rng = SplitMix(seed: seed &+ UInt64(cpu.id) &* 0x9E37_79B9)
        sampleGaps = SampleInterval(rate: max(env.config.run.sampleRate, 1), seed: seed, cpu: cpu.id)
        // The first timed operation is drawn too: a countdown of 1 would time every CPU's first
        // (cold) allocation and free, a fixed phase that short runs would weigh heavily.
        allocCountdown = sampleGaps.next()
        freeCountdown = sampleGaps.next()
        progress.initialize(to: 0)
        touchInjectTicks = Array(repeating: 0, count: env.machine.nodes.count)
        validateLeft = env.config.run.slubDebug ? env.config.run.validateEvery ?? 0 : 0
        // SLAB_STORE_USER tracks name the workloads this CPU runs as their call site, and a
        // per-CPU worker as the task.
        cpu.callSite = SlabCallSite.register("numastress:" + parts.map(\.spec.name).joined(separator: "+"))
        cpu.pid = Int32(1000 + cpu.id)
        ipiPending = env.mmu.pendingFlag(cpu)
        checksOwnership = env.ownership != nil
        replayOnly = !parts.isEmpty && parts.allSatisfy { $0.replay != nil }
        nodeBytes = UInt(env.kernel.pagesPerNode) << UInt(KernelMM.PAGE_SHIFT)
        localBase = UInt(bitPattern: env.kernel.physicalBase) &+ UInt(cpu.node) &* nodeBytes
        if let settings = env.config.faults, let ledger = env.faultLedger {
            faults = FaultInjector(settings: settings, ledger: ledger, seed: env.config.run.seed, cpu: cpu.id)
        }
        if drawsAhead { nextOp = hot[0].plans + hot[0].pick.pick(&rng) }
    }

    deinit {
        progress.deallocate()
        cacheRefs.deallocate()
        for i in parts.indices {
            let h = hot[i]
            for k in 0..<h.opCount { h.plans[k].size.release(); h.plans[k].order.release() }
            h.plans.deinitialize(count: h.opCount)
            h.plans.deallocate()
            h.pick.deallocate()
            windows[i].deallocate()
        }
        hot.deallocate()
        windows.deallocate()
        faults?.release()
    }

    var isConsumerOnly: Bool { parts.allSatisfy(\.isConsumer) }

    // MARK: one step

    /// Runs one operation of the next workload part; false when a consumer found nothing.
    @discardableResult @inline(__always)
    func step() -> Bool {
        // Shootdown IPIs are answered between operations; the sender sets the flag.
        if arch_load_relaxed_u32(ipiPending) != 0 { env.mmu.poll(cpu) }
        let i = turn
        turn = turn &+ 1 == partCount ? 0 : turn &+ 1
        turnPart = i
        let did: Bool
        switch hot[i].mode {
        case .produce: did = produce(i)
        case .consume: did = consume(i)
        case .replay: did = replayStep(i)
        }
        if did {
            stats.ops &+= 1
            if delayTicks != 0 { spinInjectedDelay() }
            if validateLeft != 0 { validateLeft -= 1; if validateLeft == 0 { validateNow() } }
        }
        return did
    }

    /// `run.validate_every`: a validation pass over every debug cache, from this CPU.
    @inline(never) func validateNow() {
        env.validateCaches()
        validateLeft = env.config.run.validateEvery ?? 0
    }

    func publishProgress() { arch_store_relaxed_u64(progress, stats.ops) }

    @inline(__always) func sampling(_ countdown: inout Int) -> Bool {
        countdown &-= 1
        if _slowPath(countdown == 0) { countdown = nextSampleGap(); return true }
        return false
    }

    @inline(never) func nextSampleGap() -> Int { sampleGaps.next() }

    /// One allocation of part `i`, kept or freed by its lifetime. The operation is drawn once
    /// and the path then splits by kind, so that each slab kind runs its own copy of
    /// `produce(_:_:_:)` in which the argument draw, the allocation, the counters and the free
    /// of that kind are fixed: in a random mix the split is the one branch the CPU cannot
    /// predict, instead of one per switch on the kind, each a misprediction.
    func produce(_ i: Int) -> Bool {
        let h = hot + i
        if h.pointee.sharesMappings { touchSharedMapping(i) }
        // The draw consumes the generator the same way whatever the mix (seeded runs replay).
        let op = drawsAhead ? nextOp.unsafelyUnwrapped : h.pointee.plans + h.pointee.pick.pick(&rng)
        // After every draw of this operation (the atomic share, size, random eviction).
        defer { if drawsAhead { nextOp = h.pointee.plans + h.pointee.pick.pick(&rng) } }
        switch op.pointee.kind {
        case .kmemCacheAlloc: return produce(i, op, CacheAllocChoice.self)
        case .kmalloc: return produce(i, op, KmallocChoice.self)
        default: return produce(i, op, HeldChoice.self)
        }
    }

    /// Specialized per choice (a generic over a type, not a value, so the optimizer clones it
    /// whatever its size): in the slab kinds' copies `kind` is a constant.
    func produce<Choice: OpKindChoice>(_ i: Int, _ op: UnsafeMutablePointer<OpPlan>, _: Choice.Type) -> Bool {
        let h = hot + i
        let kind = Choice.kind(op.pointee.kind)
        let share = h.pointee.atomicShare
        let atomic = share > 0 && kind != .vmalloc && rng.unit() < share
        // Sizes and orders are drawn before the clock starts: the harness is not the allocator.
        let arg = op.pointee.drawArgument(as: kind, &rng)
        let gfp: GFP = atomic ? .atomic : h.pointee.gfp
        let useMalloc = h.pointee.useMalloc
        let timed = sampling(&allocCountdown)
        let t0 = timed ? Clock.ticks() : 0
        let rec: ObjectRecord?
        if atomic {
            stats.atomicOps &+= 1
            rec = cpu.atomicSection { allocate(Choice.self, kind, op, arg, gfp: gfp, malloc: useMalloc) }
        } else {
            rec = allocate(Choice.self, kind, op, arg, gfp: gfp, malloc: useMalloc)
        }
        let elapsedTicks = timed ? Clock.ticks() &- t0 : 0
        // Given up because the run is ending: not an operation of the run.
        if rec == nil && kernelRef._withUnsafeGuaranteedRef({ $0.stopRequested }) { return false }
        let cell = stats.cell(kind, GFPClass(gfp))
        if timed { stats.record(cell, ticks: elapsedTicks) }
        opCounts[cell] &+= 1
        guard let rec else { stats.failureCounts[cell] &+= 1; return true }
        if checksOwnership { claimNew(rec) }
        let touchBytes = h.pointee.touchBytes
        if kind == .mmap {
            touchMapping(rec, bytes: touchBytes > 0 ? min(touchBytes, Int(rec.arg)) : KernelMM.PAGE_SIZE, pattern: h.pointee.touchPattern)
            env.published[parts[i].spec.name]?.publish(va: UInt64(UInt(bitPattern: rec.pointer)), pages: (Int(rec.arg) + KernelMM.PAGE_SIZE - 1) / KernelMM.PAGE_SIZE)
        } else {
            account(rec)
            if touchBytes > 0 { self.touch(rec, bytes: min(touchBytes, usable(rec)), pattern: h.pointee.touchPattern) }
            if faults != nil && injectFault(rec, part: i) { return true }
        }
        let keep = h.pointee.keep
        if keep < 0 {
            release(rec, part: i, Choice.self)
        } else if h.pointee.keepOrder == .lifo && windows[i].count >= keep {
            // A full LIFO window would take the new object in and hand it straight back.
            release(rec, part: i, Choice.self)
        } else {
            windows[i].append(rec)
            if windows[i].count > keep { release(evict(i, h.pointee.keepOrder), part: i, HeldChoice.self) }
        }
        return true
    }

    @inline(never) func touchSharedMapping(_ i: Int) {
        if let shared = env.published[parts[i].spec.name], let space = env.spaces[parts[i].spec.name] {
            touchShared(shared, space)
        }
    }

    /// Debug runs: the new object must not be out already.
    @inline(never) func claimNew(_ rec: ObjectRecord) {
        if let owners = env.ownership, !rec.malloc, !owners.claim(rec.pointer) {
            env.kernel.log.report(.slabError, "numastress: object 0x\(String(UInt(bitPattern: rec.pointer), radix: 16)) handed out twice (cpu\(cpu.id), seed \(env.config.run.seed))")
        }
    }

    /// Takes one object out of a keep-N window, by the lifetime order.
    @inline(__always) func evict(_ i: Int, _ order: LifetimeOrder) -> ObjectRecord {
        switch order {
        case .fifo: return windows[i].removeFirst()
        case .lifo: return windows[i].removeLast()
        case .random: return windows[i].remove(at: rng.below(windows[i].count))
        }
    }

    /// Frees an object here, or hands it to the consumer workload.
    @inline(__always) func release<Choice: OpKindChoice>(_ rec: ObjectRecord, part i: Int, _: Choice.Type) {
        if hot[i].handsOff { handOff(rec, part: i) } else { timedFree(rec, Choice.self) }
    }

    @inline(never) func handOff(_ rec: ObjectRecord, part i: Int) {
        let t = parts[i].nextTarget
        parts[i].nextTarget = t + 1 == parts[i].targets.count ? 0 : t + 1
        env.ownership?.release(rec.pointer)
        if parts[i].targets[t].push(rec) { stats.handoffSent &+= 1; return }
        // The consumer is behind: free it here rather than stall the producer.
        stats.handoffFull &+= 1
        env.ownership?.claim(rec.pointer)
        timedFree(rec)
    }

    func consume(_ i: Int) -> Bool {
        var did = false
        for ring in parts[i].incoming {
            if let rec = ring.pop() {
                stats.handoffReceived &+= 1
                if let owners = env.ownership, !rec.malloc { owners.claim(rec.pointer) }
                timedFree(rec)
                did = true
            }
        }
        return did
    }

    @inline(__always) func timedFree(_ rec: ObjectRecord) { timedFree(rec, HeldChoice.self) }

    /// Specialized per choice (see `OpKindChoice`): the slab kinds' copies call their free directly.
    @inline(__always) func timedFree<Choice: OpKindChoice>(_ rec: ObjectRecord, _: Choice.Type) {
        let timed = sampling(&freeCountdown)
        let t0 = timed ? Clock.ticks() : 0
        if checksOwnership { releaseOwned(rec) }
        free(rec, Choice.self)
        let cell = stats.cell(Choice.kind(rec.kind).freeKind, .blocking)
        if timed { stats.record(cell, ticks: Clock.ticks() &- t0) }
        opCounts[cell] &+= 1
    }

    /// Debug runs: the freed object must be out.
    @inline(never) func releaseOwned(_ rec: ObjectRecord) {
        if let owners = env.ownership, !rec.malloc, !owners.release(rec.pointer) {
            env.kernel.log.report(.slabError, "numastress: object 0x\(String(UInt(bitPattern: rec.pointer), radix: 16)) freed while not handed out (cpu\(cpu.id))")
        }
    }

    // MARK: the allocators

    /// The copy's own allocation; `arg` is the size or order drawn for it
    /// (`OpPlan.drawArgument`). For the slab kinds a direct call into the allocator (the type
    /// test folds in the specialized copy), so no switch on the kind is left for the branch
    /// predictor; `perf` showed the outlined switch below in the kmalloc copy before.
    @inline(__always)
    func allocate<Choice: OpKindChoice>(_: Choice.Type, _ kind: OpKind, _ op: UnsafeMutablePointer<OpPlan>, _ arg: Int,
                                        gfp: GFP, malloc useMalloc: Bool) -> ObjectRecord? {
        if Choice.self == KmallocChoice.self { return kmallocRecord(arg, gfp, useMalloc) }
        if Choice.self == CacheAllocChoice.self { return cacheRecord(op, gfp, useMalloc) }
        return allocate(kind, op, arg, gfp: gfp, malloc: useMalloc)
    }

    /// One allocation of any kind: a switch on `kind`, with outlined calls for the kinds that
    /// are not slab objects.
    @inline(__always)
    func allocate(_ kind: OpKind, _ op: UnsafeMutablePointer<OpPlan>, _ arg: Int, gfp: GFP, malloc useMalloc: Bool) -> ObjectRecord? {
        switch kind {
        case .kmalloc:
            return kmallocRecord(arg, gfp, useMalloc)
        case .kmemCacheAlloc:
            return cacheRecord(op, gfp, useMalloc)
        case .allocPages:
            return pagesObject(arg, gfp, useMalloc).map { ObjectRecord(pointer: $0, kind: .allocPages, arg: Int32(arg), malloc: useMalloc) }
        case .vmalloc:
            return vmallocObject(arg, gfp, useMalloc).map { ObjectRecord(pointer: $0, kind: .vmalloc, arg: Int32(arg), malloc: useMalloc) }
        case .mmap:
            return mapping(op, length: arg)
        default:
            return nil
        }
    }

    @inline(__always) func kmallocRecord(_ size: Int, _ gfp: GFP, _ useMalloc: Bool) -> ObjectRecord? {
        kmallocObject(size, gfp, useMalloc).map { ObjectRecord(pointer: $0, kind: .kmalloc, arg: Int32(size), malloc: useMalloc) }
    }

    @inline(__always) func cacheRecord(_ op: UnsafeMutablePointer<OpPlan>, _ gfp: GFP, _ useMalloc: Bool) -> ObjectRecord? {
        let index = op.pointee.cacheIndex
        return cacheObject(index, gfp, useMalloc).map { ObjectRecord(pointer: $0, kind: .kmemCacheAlloc, arg: Int32(index), malloc: useMalloc) }
    }

    @inline(__always) func kmallocObject(_ size: Int, _ gfp: GFP, _ useMalloc: Bool) -> UnsafeMutableRawPointer? {
        useMalloc ? malloc(size) : slabRef._withUnsafeGuaranteedRef { $0.kmalloc(cpu, size, gfp) }
    }

    @inline(__always) func cacheObject(_ index: Int, _ gfp: GFP, _ useMalloc: Bool) -> UnsafeMutableRawPointer? {
        cacheRefs[index]._withUnsafeGuaranteedRef { cache in useMalloc ? malloc(cache.objectSize) : cache.alloc(cpu, gfp) }
    }

    @inline(never) func pagesObject(_ order: Int, _ gfp: GFP, _ useMalloc: Bool) -> UnsafeMutableRawPointer? {
        useMalloc ? aligned_alloc(KernelMM.PAGE_SIZE, KernelMM.PAGE_SIZE << order)
            : kernelRef._withUnsafeGuaranteedRef { $0.getFreePages(cpu, gfp, order: order) }
    }

    @inline(never) func vmallocObject(_ size: Int, _ gfp: GFP, _ useMalloc: Bool) -> UnsafeMutableRawPointer? {
        useMalloc ? malloc(size) : env.vmalloc.vmalloc(cpu, size, gfp: gfp)
    }

    @inline(never) func mapping(_ op: UnsafeMutablePointer<OpPlan>, length size: Int) -> ObjectRecord? {
        let index = env.spaceIndex(parts[turnPart].spec.name)
        let spec = parts[turnPart].ops[op.pointee.index]
        guard index >= 0, let va = env.mmu.mmap(cpu, env.spaceList[Int(index)], length: size, prot: spec.prot,
                                               policy: spec.policy, huge: spec.huge) else { return nil }
        return ObjectRecord(pointer: UnsafeMutableRawPointer(bitPattern: UInt(va))!, kind: .mmap, arg: Int32(size),
                            malloc: false, space: index)
    }

    /// A small switch over the frees: where the record's kind is a constant (an object freed in
    /// the copy of `produce` that allocated it) it folds to that kind's free.
    @inline(__always) func free(_ rec: ObjectRecord) { free(rec, HeldChoice.self) }

    @inline(__always) func free<Choice: OpKindChoice>(_ rec: ObjectRecord, _: Choice.Type) {
        assert(Choice.kind(rec.kind) == rec.kind, "a \(rec.kind) record freed on the \(Choice.self) path")
        if rec.malloc { Foundation.free(rec.pointer); return }
        switch Choice.kind(rec.kind) {
        case .kmalloc: kfreeObject(rec.pointer)
        case .kmemCacheAlloc: cacheFree(Int(rec.arg), rec.pointer)
        case .allocPages, .vmalloc, .mmap: freeOther(rec)
        default: break
        }
    }

    @inline(__always) func kfreeObject(_ p: UnsafeMutableRawPointer) {
        slabRef._withUnsafeGuaranteedRef { $0.kfree(cpu, p) }
    }

    @inline(__always) func cacheFree(_ index: Int, _ p: UnsafeMutableRawPointer) {
        cacheRefs[index]._withUnsafeGuaranteedRef { $0.free(cpu, p) }
    }

    @inline(never) func freeOther(_ rec: ObjectRecord) {
        switch rec.kind {
        case .allocPages: kernelRef._withUnsafeGuaranteedRef { $0.freePages(cpu, address: rec.pointer, order: Int(rec.arg)) }
        case .vmalloc: env.vmalloc.vfree(cpu, rec.pointer)
        case .mmap: env.mmu.munmap(cpu, env.spaceList[Int(rec.space)], UInt64(UInt(bitPattern: rec.pointer)), length: Int(rec.arg))
        default: break
        }
    }

    func usable(_ rec: ObjectRecord) -> Int {
        switch rec.kind {
        case .kmalloc, .vmalloc, .mmap: return Int(rec.arg)
        case .kmemCacheAlloc: return cacheRefs[Int(rec.arg)]._withUnsafeGuaranteedRef { $0.objectSize }
        case .allocPages: return KernelMM.PAGE_SIZE << Int(rec.arg)
        default: return 0
        }
    }

    /// The locality matrix: which node's memory this CPU was given.
    @inline(__always) func account(_ rec: ObjectRecord) {
        guard !rec.malloc else { return }
        // Most objects come from this CPU's own node: two compares instead of a division.
        if UInt(bitPattern: rec.pointer) &- localBase < nodeBytes { localAllocations.pointee &+= 1; return }
        accountElsewhere(rec)
    }

    @inline(never) func accountElsewhere(_ rec: ObjectRecord) {
        kernelRef._withUnsafeGuaranteedRef { kernel in
            if let pfn = kernel.virtToPFN(rec.pointer) { stats.locality[kernel.nodeOf(pfn: pfn)] &+= 1 }
        }
    }

    func touch(_ rec: ObjectRecord, bytes: Int, pattern: UInt8) {
        guard bytes > 0 else { return }
        memset(rec.pointer, Int32(pattern), bytes)
        if injectsTouchCost && !rec.malloc, let pfn = env.kernel.virtToPFN(rec.pointer) {
            let extra = touchInjectTicks[env.kernel.nodeOf(pfn: pfn)]
            if extra > 0 {
                let end = Clock.ticks() &+ extra &* UInt64((bytes + 63) / 64)
                while Clock.ticks() < end { arch_cpu_relax() }
            }
        }
    }

    /// Writes the first `bytes` of a new mapping through the MMU (faulting its pages in) and
    /// counts where they landed.
    func touchMapping(_ rec: ObjectRecord, bytes: Int, pattern: UInt8) {
        let space = env.spaceList[Int(rec.space)]
        let va = UInt64(UInt(bitPattern: rec.pointer))
        _ = try? env.mmu.access(cpu, space, va, bytes: max(bytes, 1), write: true, pattern: pattern)
        if let pte = space.pageTable.walk(va).pte { stats.locality[env.kernel.nodeOf(pfn: pte.pfn)] &+= 1 }
    }

    /// Reads a page of a mapping another CPU of the workload published: the sharing that makes
    /// its unmap a shootdown to this CPU. A mapping unmapped meanwhile faults, quietly: the race
    /// is the point.
    func touchShared(_ shared: PublishedMappings, _ space: AddressSpace) {
        guard let (va, pages) = shared.pick(rng.next()) else { return }
        let page = UInt64(rng.below(max(pages, 1)))
        if (try? env.mmu.access(cpu, space, va + page * UInt64(KernelMM.PAGE_SIZE), bytes: 64, write: false, report: false)) == nil {
            stats.sharedMisses &+= 1
        }
    }

    // MARK: end of run

    /// Frees every object this CPU still holds (no handoff: the run is ending), until
    /// `deadline` (monotonic ns); what is left stays in the windows (`heldObjects`).
    func releaseAll(deadline: UInt64 = .max) {
        releaseReplayLeftovers()
        for i in parts.indices {
            var j = 0
            while j < windows[i].count {
                if j & 1023 == 0 && Clock.monotonicNS() >= deadline { break }
                let rec = windows[i][j]
                env.ownership?.release(rec.pointer)
                free(rec)
                j += 1
            }
            windows[i].dropFirst(j)
        }
    }

    /// Objects still in this CPU's keep windows.
    var heldObjects: Int { parts.indices.reduce(0) { $0 + windows[$1].count } }

    /// Frees what producers handed to this CPU; returns how many. `counted`: as operations of
    /// the run (the consumer finishing its work), or silently (the clean-up after the run).
    func drainIncoming(counted: Bool) -> Int {
        var n = 0
        for i in parts.indices {
            for ring in parts[i].incoming {
                while let rec = ring.pop() {
                    if counted {
                        stats.handoffReceived &+= 1
                        env.ownership?.claim(rec.pointer)
                        timedFree(rec)
                        stats.ops &+= 1
                    } else {
                        env.ownership?.release(rec.pointer)
                        free(rec)
                    }
                    n += 1
                }
            }
        }
        return n
    }

    /// The CPU's end-of-run duties: its slabs back to the nodes, its PCP lists to the buddy.
    func flushPerCPU() {
        for c in env.slab.allCaches { c.flush(cpu) }
        env.kernel.drainPCP(cpu)
    }
}
