import CArch
import Foundation
import Histogram
import KernelMM
import Topology

/// `numastress run`: warm-up → measured phase → drain → invariant checks → result, per
/// repetition. Each CPU runs its whole phase inside its pinned actor (no hop per operation);
/// in deterministic mode one thread steps every CPU in a seeded interleaving instead.
public enum Runner {
    public struct Options: Sendable {
        /// Print progress lines (a bar on a terminal) to stderr.
        public var progress: Bool = false
        /// Measure the NUMA access-cost matrix before the run.
        public var probeAccessCost: Bool = true
        /// Schedule shaking: seed and chance per point (see `ScheduleShaker`).
        public var shake: (seed: UInt64, probability: Double)? = nil
        /// Install the stop-signal handlers for the run and remove them after it. Off when the
        /// caller (the CLI) holds them itself, until its result is written.
        public var ownSignalHandlers = true
        /// How long the drain after the measured phase may take before it gives up.
        public var drainLimitNS: UInt64 = 30_000_000_000
        /// `--inject-delay`: busy nanoseconds after every operation, a power check (InjectedDelay).
        public var injectDelayNS: UInt64 = 0
        public init() {}
    }

    /// Runs `config` and returns its result; never throws for an interrupted run (the result
    /// says `complete: false`). Throws when the machine cannot be built.
    public static func run(_ config: StressConfig, options: Options = Options()) async throws -> RunOutcome {
        if options.ownSignalHandlers { arch_install_stop_signals() }
        defer { if options.ownSignalHandlers { arch_reset_stop_signals() } }
        if let shake = options.shake {
            ScheduleShaker.enable(seed: shake.seed, probability: shake.probability)
            FileHandle.standardError.write(Data("schedule shaking: seed \(shake.seed), p \(shake.probability) (--shake \(shake.seed):\(shake.probability) replays it)\n".utf8))
        }
        defer { if options.shake != nil { ScheduleShaker.disable() } }
        var last: RunOutcome?
        var reps: [RunResult.RepetitionFigures] = []
        let runID = RunResult.RunInfo.makeID(config: config.name)
        for _ in 0..<max(config.run.repetitions, 1) {
            var r = try await runOnce(config, options: options)
            reps.append(RunResult.RepetitionFigures(of: r))
            r.result.repetitions = reps
            r.result.config.identity = ConfigIdentity(config, options: options)
            r.result.run.id = runID
            if options.injectDelayNS > 0 { r.result.run.injectDelayNS = options.injectDelayNS }
            if let shake = options.shake { r.result.run.shake = "seed \(shake.seed), p \(shake.probability), \(ScheduleShaker.count) shakes" }
            last = r
            if !r.result.complete { break }
        }
        if !config.expectations.isEmpty { last!.result.expectations = ExpectationCheck.check(config, result: last!.result) }
        return last!
    }

    static var interrupted: Bool { StopSignal.pending != 0 }

    static func runOnce(_ config: StressConfig, options: Options) async throws -> RunOutcome {
        let env = try RunEnvironment(config: config)
        defer { env.shutdown(); env.kernel.unmapArenas() }
        let started = ISO8601DateFormatter().string(from: Date())
        let workers = makeWorkers(env)

        var cost: AccessCostMatrix? = nil
        if options.probeAccessCost && !interrupted { cost = await AccessCostProbe.measure(env: env) }
        if config.remoteCost == .inject, let cost { inject(cost, env: env, workers: workers) }
        InjectedDelay.apply(options.injectDelayNS, to: workers)

        var stopReason: String? = nil
        let elapsed: UInt64
        var timeline: RunResult.FreeTimeline? = nil
        var cpuStart = ProcessCPUTime.nowNS()
        if config.run.deterministic {
            let sampler = FreeAreaSampler(kernel: env.kernel, durationNS: 0)
            sampler.begin(at: Clock.monotonicNS())
            elapsed = runDeterministic(env, workers, sampler: sampler)
            sampler.sample()
            timeline = sampler.timeline
        } else {
            if config.run.warmupNS > 0 {
                _ = await phase(env, workers, durationNS: config.run.warmupNS, operations: nil, label: "warm-up", options: options)
                resetCounters(env, workers)
            }
            let sampler = FreeAreaSampler(kernel: env.kernel, durationNS: config.run.operations == nil ? config.run.durationNS : 10_000_000_000)
            sampler.start(at: Clock.monotonicNS())
            cpuStart = ProcessCPUTime.nowNS()
            elapsed = interrupted ? 0 : await phase(env, workers, durationNS: config.run.durationNS,
                                                    operations: config.run.operations, label: "run", options: options)
            timeline = sampler.stop()
        }
        let cpuNS = ProcessCPUTime.nowNS() - cpuStart
        let signal = StopSignal.pending
        if signal != 0 { stopReason = "interrupted (\(StopSignal.name(signal)))" }
        if let kind = env.kernel.log.stopRequested { stopReason = "stopped on \(kind.rawValue) (on_slab_error: abort)" }

        // validate_slab_cache() over every debug cache while the objects are still out.
        if config.run.slubDebug { env.validateCaches() }
        // The end-of-measurement picture, before anything is freed.
        let buddyAtEnd = env.kernel.zones.map { $0.freeBlocksPerOrder() }
        let procViews = ProcViews.capture(env.kernel, env.slab)
        var result = ResultBuilder.build(env: env, workers: workers, elapsedNS: elapsed, started: started,
                                         accessCost: cost, buddyAtEnd: buddyAtEnd)
        result.freeTimeline = timeline
        if config.run.slubDebug {
            result.validation = .init(passes: env.validation.pointee, errors: env.validation.advanced(by: 1).pointee)
        }
        result.run.cpuNS = cpuNS
        result.complete = stopReason == nil
        result.stopReason = stopReason
        if signal != 0 { result.stopSignal = StopSignal.name(signal) }
        if let gaveUp = await drain(env, workers, limitNS: options.drainLimitNS) {
            // Objects are still out: the leak checks would only report the drain's surrender.
            result.drain = gaveUp
            result.invariants = RunResult.InvariantReport(passed: true, violations: [], checked: false)
        } else {
            result.invariants = checkInvariants(env)
        }
        if let settings = config.faults, let ledger = env.faultLedger {
            let figures = ledger.figures(settings, slubDebug: config.run.slubDebug)
            result.faults = figures
            // A missed fault fails the run as a broken invariant does: the model did not
            // catch what its debug code is there to catch.
            if result.drain == nil && !figures.violations.isEmpty {
                result.invariants.violations += figures.violations.map { "\($0) [seed \(config.run.seed)]" }
                result.invariants.passed = false
            }
        }
        // Occupancy as at the end of the measured phase; errors found while freeing count too.
        let after = ResultBuilder.caches(env)
        for i in result.caches.indices {
            if let a = after.first(where: { $0.info.name == result.caches[i].info.name }) {
                result.caches[i].errors = a.errors
                result.caches[i].slabErrors = a.slabErrors
                result.caches[i].remoteFrees = a.remoteFrees
            }
        }
        result.kernelLog = Dictionary(uniqueKeysWithValues: env.kernel.log.allCounts.map { ($0.key.rawValue, $0.value) })
        return RunOutcome(result: result, procViews: procViews, dmesg: env.kernel.log.text,
                          histograms: ResultBuilder.histograms(workers))
    }

    // MARK: set-up

    /// `drawAhead: false` only for the test that checks drawing ahead changes no seeded draw.
    static func makeWorkers(_ env: RunEnvironment, drawAhead: Bool = true) -> [CPUWorker] {
        let config = env.config
        // One ring per (producer CPU, consumer CPU) of each handoff.
        var outgoing: [String: [Int: [HandoffRing]]] = [:]
        var incoming: [String: [Int: [HandoffRing]]] = [:]
        for w in config.workloads {
            guard let target = w.handoff, let consumer = config.workloads.first(where: { $0.name == target }) else { continue }
            let consumers = consumer.cpus.resolve(in: env.machine)
            for p in w.cpus.resolve(in: env.machine) {
                for c in consumers {
                    let ring = HandoffRing()
                    outgoing[w.name, default: [:]][p, default: []].append(ring)
                    incoming[consumer.name, default: [:]][c, default: []].append(ring)
                }
            }
        }
        // Each workload's CPU set once, not once per CPU (hundreds of CPUs).
        let runsOn = config.workloads.map { Set($0.cpus.resolve(in: env.machine)) }
        return env.cpuIDs.map { id in
            var parts: [CPUWorker.WorkloadPart] = []
            for (k, w) in config.workloads.enumerated() where runsOn[k].contains(id) {
                let ops = w.mix
                var sum = 0.0
                let cumulative = ops.map { sum += $0.weight; return sum }
                let cacheIndex = ops.map { op in op.cache.flatMap { name in env.caches.firstIndex { $0.name == name } } ?? -1 }
                var part = CPUWorker.WorkloadPart(spec: w, ops: ops, cumulative: cumulative, cacheIndex: cacheIndex)
                part.targets = outgoing[w.name]?[id] ?? []
                part.incoming = incoming[w.name]?[id] ?? []
                parts.append(part)
            }
            return CPUWorker(cpu: env.kernel.cpus[id], env: env, parts: parts, seed: config.run.seed, drawAhead: drawAhead)
        }
    }

    /// `remote_cost: inject`: the modelled extra cost (distance/10 − 1 times the local cost) is
    /// spent for real under remote locks and on remote touches.
    static func inject(_ cost: AccessCostMatrix, env: RunEnvironment, workers: [CPUWorker]) {
        let n = env.machine.nodes.count
        let extra = (0..<n).map { i in (0..<n).map { j in max(0, cost.modelledNS[i][j] - cost.modelledNS[i][i]) } }
        env.kernel.setInjectedRemoteCost(ns: extra)
        for w in workers {
            w.touchInjectTicks = (0..<n).map { UInt64(extra[w.cpu.node][$0] / Clock.nsPerTick) }
        }
    }

    static func resetCounters(_ env: RunEnvironment, _ workers: [CPUWorker]) {
        env.kernel.resetCounters()
        env.mmu.resetCounters()
        for c in env.slab.allCaches { c.resetLockStats() }
        workers.forEach { $0.stats.reset(); $0.publishProgress() }
    }

    // MARK: phases

    /// Runs every worker on its own actor until the deadline, the operation count, or a stop
    /// signal. Returns the measured nanoseconds: up to the stop request, not to the moment the
    /// last CPU noticed it.
    static func phase(_ env: RunEnvironment, _ workers: [CPUWorker], durationNS: UInt64, operations: Int?,
                      label: String, options: Options) async -> UInt64 {
        let producersLeft = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)
        producersLeft.initialize(to: UInt64(workers.filter { !$0.isConsumerOnly }.count))
        defer { producersLeft.deallocate() }
        let left = UInt(bitPattern: producersLeft)
        let stopWord = UInt(bitPattern: env.kernel.stopWord)
        let progress = options.progress ? Progress(label: label, workers: workers, durationNS: durationNS,
                                                   operations: operations) : nil
        progress?.start()
        let stop = PhaseStop(kernel: env.kernel, durationNS: operations == nil ? durationNS : nil, cpus: workers.count)
        let started = UInt(bitPattern: stop.started), deadline = UInt(bitPattern: stop.deadline)
        await withTaskGroup(of: Void.self) { group in
            for (i, worker) in workers.enumerated() {
                let actor = env.actors[i]
                group.addTask {
                    await actor.run {
                        runLoop(worker, operations: operations, started: UnsafeMutablePointer<UInt64>(bitPattern: started)!,
                                deadline: UnsafeMutablePointer<UInt64>(bitPattern: deadline)!,
                                producersLeft: UnsafeMutablePointer<UInt64>(bitPattern: left)!,
                                stop: UnsafeMutablePointer<UInt32>(bitPattern: stopWord)!)
                    }
                }
            }
        }
        // A phase that reached its deadline measured exactly its duration, even when the stop
        // was noticed late (a watchdog starved by oversubscribed CPUs).
        let stoppedAt = stop.end()
        let end = min(stoppedAt ?? Clock.monotonicNS(), arch_load_acquire_u64(stop.deadline))
        progress?.stop()
        return end &- min(stop.startedAt, end)
    }

    /// One CPU's phase: the stop word (deadline, signal, abort: see `PhaseStop`) is read before
    /// every operation; every 64 operations the CPU also reads the clock itself and sets the
    /// word at the deadline, so that a late watchdog cannot stretch the phase.
    nonisolated static func runLoop(_ w: CPUWorker, operations: Int?, started: UnsafeMutablePointer<UInt64>,
                                    deadline: UnsafeMutablePointer<UInt64>,
                                    producersLeft: UnsafeMutablePointer<UInt64>, stop: UnsafeMutablePointer<UInt32>) {
        _ = arch_fetch_add_u64(started, 1)
        let consumerOnly = w.isConsumerOnly
        let target = operations.map { UInt64($0) } ?? .max
        var done: UInt64 = 0
        var producing = !consumerOnly
        run: while true {
            for _ in 0..<64 {
                if arch_load_relaxed_u32(stop) != 0 { w.publishProgress(); break run }
                if w.step() { done &+= 1 }
                if producing && done >= target { break }
            }
            w.publishProgress()
            if Clock.monotonicNS() >= arch_load_relaxed_u64(deadline) { arch_store_release_u32(stop, 1); break }
            if producing && w.replayOnly && w.replayFinished { break }   // a replay CPU ends with its stream
            if producing && done >= target {
                producing = false
                _ = arch_fetch_add_u64(producersLeft, UInt64.max)
                if !w.parts.contains(where: \.isConsumer) { break }
            }
            if !producing && arch_load_acquire_u64(producersLeft) == 0 {
                // Producers are done: take what is left in the rings, then stop.
                _ = w.drainIncoming(counted: true)
                break
            }
            if consumerOnly && operations == nil && done == 0 { arch_cpu_relax() }
        }
        if producing && operations != nil { _ = arch_fetch_add_u64(producersLeft, UInt64.max) }
        w.env.mmu.leave(w.cpu)   // answers what is pending; no shootdown waits for it any more
    }

    /// All CPUs on this thread, one operation at a time, in an order drawn from the seed: every
    /// counter comes out the same on every run.
    static func runDeterministic(_ env: RunEnvironment, _ workers: [CPUWorker], sampler: FreeAreaSampler? = nil) -> UInt64 {
        let start = Clock.monotonicNS()
        let perCPU = env.config.run.operations ?? 10_000
        var rng = SplitMix(seed: env.config.run.seed)
        var remaining = workers.map { $0.isConsumerOnly ? 0 : perCPU }
        // About 200 free-area samples over the run, by operations done (the same points every run).
        let sampleEvery = Swift.max(1, remaining.reduce(0, +) / 200)
        var steps = 0
        var active = workers.indices.filter { remaining[$0] > 0 }
        let consumers = workers.indices.filter { workers[$0].parts.contains(where: \.isConsumer) }
        while !active.isEmpty && !interrupted {
            let k = rng.below(active.count + consumers.count)
            if k < active.count {
                let i = active[k]
                workers[i].step()
                remaining[i] -= 1
                if remaining[i] == 0 { active.remove(at: k) }
                steps += 1
                if steps % sampleEvery == 0 { sampler?.sample() }
            } else {
                workers[consumers[k - active.count]].step()
            }
        }
        for w in workers { _ = w.drainIncoming(counted: true) }
        return Clock.monotonicNS() - start
    }

    /// The end of a run: every CPU frees what it holds and what was handed to it, gives back its
    /// slabs and PCP lists; then empty slabs go back to the buddy allocator. Frees never wait,
    /// so this ends, but a run that kept millions of objects could take long: past `limitNS`
    /// the CPUs stop freeing and the returned note says what was left (nil: all freed).
    static func drain(_ env: RunEnvironment, _ workers: [CPUWorker], limitNS: UInt64) async -> String? {
        env.kernel.stopCompactionDaemons()
        let deadline = Clock.monotonicNS() &+ limitNS
        if env.config.run.deterministic {
            for w in workers { w.releaseAll(deadline: deadline) }
            for w in workers { _ = w.drainIncoming(counted: false) }
            for w in workers { w.flushPerCPU() }
        } else {
            await forEach(env, workers) { $0.releaseAll(deadline: deadline) }
            let left = workers.reduce(0) { $0 + $1.heldObjects }
            if left > 0 {
                env.kernel.shutdown()
                return "the drain gave up after \(limitNS / 1_000_000_000) s with \(left) objects still held; leak checks skipped"
            }
            await forEach(env, workers) { _ = $0.drainIncoming(counted: false) }
            await forEach(env, workers) { $0.flushPerCPU() }
        }
        let cpu0 = env.kernel.cpus[env.cpuIDs.first ?? 0]
        let finish: @Sendable () -> Void = {
            // Every CPU has flushed its own sheaves; the barns hold the rest (`barn_shrink()`).
            for c in env.slab.allCaches { c.flushBarns(cpu0); c.shrink(cpu0) }
            env.vmalloc.runDeferred(cpu0)   // vfree_atomic()'s queue, as its work item would
            env.mmu.teardown(cpu: cpu0)
            env.kernel.drainPCP(cpu0)
            // CPUs without a worker (the MMU builds kernel page tables on CPU 0 even when no
            // workload runs there) hold PCP pages too; every CPU is quiet now, so drain them here.
            for c in env.kernel.cpus where !env.cpuIDs.contains(c.id) { env.kernel.drainPCP(c) }
        }
        if let a = env.actors.first { await a.run { finish() } } else { finish() }
        env.kernel.shutdown()   // kswapd stops; its lists are drained after each pass
        return nil
    }

    static func forEach(_ env: RunEnvironment, _ workers: [CPUWorker], _ body: @escaping @Sendable (CPUWorker) -> Void) async {
        await withTaskGroup(of: Void.self) { group in
            for (i, w) in workers.enumerated() {
                let actor = env.actors[i]
                group.addTask { await actor.run { body(w) } }
            }
        }
    }

    /// DESIGN.md rule 8, through the shared checker.
    static func checkInvariants(_ env: RunEnvironment) -> RunResult.InvariantReport {
        let v = InvariantChecker(kernel: env.kernel, slab: env.slab, vmalloc: env.vmalloc, mmu: env.mmu,
                                 ownership: env.ownership, seed: env.config.run.seed).check()
        return RunResult.InvariantReport(passed: v.isEmpty, violations: v)
    }
}

/// A run's result with what goes to files beside result.json.
public struct RunOutcome: Sendable {
    public var result: RunResult
    public var procViews: ProcViews
    /// The kernel log (`dmesg`).
    public var dmesg: String
    /// Merged latency histograms by "op-gfpclass".
    public var histograms: [String: Histogram<UInt64>]
}
