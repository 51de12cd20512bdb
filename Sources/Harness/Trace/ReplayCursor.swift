import CArch
import Foundation
import KernelMM

/// One CPU's place in its replay stream, made when the run builds its workers: the stream,
/// the plan's caches as this run's cache indices, and the shared slot table.
final class ReplayCursor: @unchecked Sendable {
    let plan: ReplayPlan
    let ops: ContiguousArray<ReplayOp>
    var position = 0
    /// Plan cache index → `RunEnvironment.caches` index.
    let cacheIndex: [Int]
    let slots: UnsafeMutablePointer<UInt64>
    let pace: Bool

    /// Written into a slot whose allocation failed in the model: its free is skipped.
    static let failed: UInt64 = 1

    init(plan: ReplayPlan, cpu: Int, env: RunEnvironment, pace: Bool) {
        self.plan = plan
        ops = plan.stream(cpu: cpu) ?? []
        cacheIndex = plan.caches.map { c in env.caches.firstIndex { $0.name == c.name } ?? -1 }
        slots = plan.slotTable(for: env)
        self.pace = pace
    }

    var finished: Bool { position >= ops.count }
}

extension CPUWorker {
    /// Whether every part of this CPU is a replay that has run its whole stream (the CPU is done).
    var replayFinished: Bool {
        !parts.isEmpty && parts.allSatisfy { $0.replay?.finished ?? false }
    }

    /// Runs the next operation of a replay part: an allocation as the trace made it, or the free
    /// of an object whose allocation (maybe on another CPU: then it is a remote free, by the
    /// model's own cmpxchg path) left it in a slot. False when the stream is over.
    func replayStep(_ i: Int) -> Bool {
        guard let c = parts[i].replay, c.position < c.ops.count else { return false }
        let op = c.ops[c.position]
        c.position += 1
        if c.pace { waitUntil(op.timeNS, c.plan) }
        if op.kind == .free { return replayFree(op, c) }
        let kind = op.opKind
        var plan = OpPlan(kind: kind, size: DrawPlan(.fixed(0)), order: DrawPlan(.fixed(0)),
                          cacheIndex: kind == .kmemCacheAlloc ? c.cacheIndex[Int(op.arg)] : -1, index: 0)
        let gfp = GFP(rawValue: op.gfp)
        let cls = GFPClass(gfp)
        let timed = sampling(&allocCountdown)
        let t0 = timed ? Clock.ticks() : 0
        // An allocation that may not sleep runs as atomic context, as it did in the kernel.
        let rec = withUnsafeMutablePointer(to: &plan) { plan in
            gfp.allowsBlocking ? allocate(kind, plan, Int(op.arg), gfp: gfp, malloc: false)
                : cpu.atomicSection { allocate(kind, plan, Int(op.arg), gfp: gfp, malloc: false) }
        }
        let elapsedTicks = timed ? Clock.ticks() &- t0 : 0
        if !gfp.allowsBlocking { stats.atomicOps &+= 1 }
        let cell = stats.cell(kind, cls)
        if timed { stats.record(cell, ticks: elapsedTicks) }
        stats.opCounts[cell] &+= 1
        guard let rec else {
            stats.failureCounts[cell] &+= 1
            if op.slot >= 0 { arch_store_release_u64(c.slots + Int(op.slot), ReplayCursor.failed) }
            return true
        }
        if let owners = env.ownership, !owners.claim(rec.pointer) {
            env.kernel.log.report(.slabError, "numastress: object 0x\(String(UInt(bitPattern: rec.pointer), radix: 16)) handed out twice (cpu\(cpu.id), replay)")
        }
        account(rec)
        if op.slot >= 0 {
            // Handed over: whichever CPU frees it owns it from now on.
            env.ownership?.release(rec.pointer)
            arch_store_release_u64(c.slots + Int(op.slot), UInt64(UInt(bitPattern: rec.pointer)))
        } else {
            windows[i].append(rec)   // never freed in the trace: the drain frees it
        }
        return true
    }

    private func replayFree(_ op: ReplayOp, _ c: ReplayCursor) -> Bool {
        let slot = c.slots + Int(op.slot)
        var word = arch_load_acquire_u64(slot)
        // The allocation is earlier in the trace, on another CPU that has not reached it yet.
        while word == 0 {
            // The run is ending: the free stays in the stream for `releaseReplayLeftovers`.
            if kernelRef._withUnsafeGuaranteedRef({ $0.stopRequested }) { c.position -= 1; return false }
            env.mmu.poll(cpu)
            arch_cpu_relax()
            word = arch_load_acquire_u64(slot)
        }
        if word == ReplayCursor.failed { return false }
        let kind = op.opKind
        let arg = kind == .kmemCacheAlloc ? Int32(c.cacheIndex[Int(op.arg)]) : op.arg
        let rec = ObjectRecord(pointer: UnsafeMutableRawPointer(bitPattern: UInt(word))!, kind: kind, arg: arg, malloc: false)
        env.ownership?.claim(rec.pointer)
        timedFree(rec)
        return true
    }

    /// A run that ended before its replay did (its duration, a signal) leaves objects in slots
    /// whose frees did not run; this CPU frees those its own stream still had to free, so the
    /// drain gives every object back. Called at the start of `releaseAll`, on this CPU.
    func releaseReplayLeftovers() {
        for i in parts.indices {
            guard let c = parts[i].replay else { continue }
            var k = c.position
            while k < c.ops.count {
                let op = c.ops[k]
                k += 1
                guard op.kind == .free else { continue }
                let word = arch_xchg_u64(c.slots + Int(op.slot), ReplayCursor.failed)
                guard word > ReplayCursor.failed else { continue }   // never allocated, or failed
                let kind = op.opKind
                let arg = kind == .kmemCacheAlloc ? Int32(c.cacheIndex[Int(op.arg)]) : op.arg
                let rec = ObjectRecord(pointer: UnsafeMutableRawPointer(bitPattern: UInt(word))!, kind: kind, arg: arg, malloc: false)
                free(rec)
            }
            c.position = c.ops.count
        }
    }

    /// `--pace`: holds the operation until its recorded time since the replay's start.
    private func waitUntil(_ offsetNS: UInt64, _ plan: ReplayPlan) {
        var zero: UInt64 = 0
        _ = arch_cmpxchg_u64(plan.epoch, &zero, Clock.monotonicNS())
        let due = arch_load_acquire_u64(plan.epoch) &+ offsetNS
        while Clock.monotonicNS() < due {
            if kernelRef._withUnsafeGuaranteedRef({ $0.stopRequested }) { return }
            env.mmu.poll(cpu)
            let left = due &- Clock.monotonicNS()
            if left > 200_000 { usleep(UInt32(min(left / 2_000, 10_000))) } else { arch_cpu_relax() }
        }
    }
}
