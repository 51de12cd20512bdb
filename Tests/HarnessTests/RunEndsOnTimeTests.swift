import Testing
import Foundation
@testable import Harness
import KernelMM

/// A run ends within its duration plus a bounded drain, whatever the allocators do. Linux has no
/// "end of run", but it has the waits that made runs overrun: a blocking allocation on an
/// exhausted node reclaims, sleeps on the reclaim throttle queue and retries until oom_wait
/// (here) or for ever with __GFP_NOFAIL (`__alloc_pages_slowpath` loops on `nofail`).
@Suite(.serialized) struct RunEndsOnTimeTests {
    /// 2 CPUs each keep up to 50 000 blocks of 16 KiB on an 8 MiB node: memory runs out after a
    /// few hundred allocations, however slow the machine, and every later allocation would wait
    /// the full oom_wait, 120 s (before the stop word, a run like this took many minutes: the
    /// stop flag was read every 64 operations).
    static func exhausting(gfp: String) throws -> StressConfig {
        try RunnerTests.config("""
            name: exhausted
            topology: { synthetic: "pack:1 [numa] core:2 pu:1" }
            memory: { per_node: 8MiB, zones: { DMA: 0MiB, DMA32: 0MiB }, oom_wait: 120s }
            run: { duration: 1s, warmup: 0s, seed: 3 }
            workloads:
              - { name: hog, cpus: all, op: alloc_pages, order: 2, gfp: "\(gfp)", lifetime: { keep: 50000 } }
            """)
    }

    func check(_ r: RunResult, wall: TimeInterval) {
        #expect(r.complete, "\(r.stopReason ?? "")")
        // Set-up and drain included, beside the whole parallel suite on two cores: well below
        // one oom_wait, which any allocation still waiting at the end would have cost.
        #expect(wall < 90, "a 1 s run whose allocations wait 120 s each ended after \(wall) s")
        // Throughput is over the measured phase only, not over the waits that ran past it.
        let measured = Double(r.run.elapsedNS) / 1e9
        #expect(measured >= 1 && measured < 1.5, "measured \(measured) s")
        #expect(abs(r.throughput.opsPerSec - Double(r.throughput.totalOps) / measured) < 1)
        #expect(r.invariants.passed, "\(r.invariants.violations)")
    }

    @Test("GFP_KERNEL on an exhausted node: the waits end with the run; only ops that finished count")
    func blockingEndsOnTime() async throws {
        let t0 = Date()
        let out = try await Runner.run(Self.exhausting(gfp: "GFP_KERNEL | __GFP_NOWARN"), options: RunnerTests.quick())
        check(out.result, wall: Date().timeIntervalSince(t0))
        let events = out.result.zones.map(\.events).reduce(ZoneEvents(), +)
        #expect(events.sleeps > 0, "the node really ran out and allocators slept")
        #expect(events.nofailStalled == 0)
    }

    @Test("__GFP_NOFAIL never fails: the retries end with the run and are counted as stalled")
    func nofailEndsOnTime() async throws {
        let t0 = Date()
        let out = try await Runner.run(Self.exhausting(gfp: "GFP_KERNEL | __GFP_NOWARN | __GFP_NOFAIL"), options: RunnerTests.quick())
        check(out.result, wall: Date().timeIntervalSince(t0))
        let events = out.result.zones.map(\.events).reduce(ZoneEvents(), +)
        #expect(events.nofailStalled >= 1, "the CPUs were stuck in NOFAIL retries when the run ended")
        let pages = try #require(out.result.operations.first { $0.op == "alloc_pages" })
        #expect(pages.failures == 0, "a __GFP_NOFAIL allocation is never reported as failed")
    }

    @Test("The drain gives up at its limit, says so, and skips the leak checks instead of hanging")
    func drainIsBounded() async throws {
        let cfg = try RunnerTests.config("""
            name: drain-limit
            topology: { synthetic: "pack:1 [numa] core:1 pu:1" }
            memory: { per_node: 64MiB, zones: { DMA: 0MiB, DMA32: 0MiB } }
            run: { duration: 200ms, warmup: 0s }
            workloads:
              - { name: keep, cpus: all, op: kmalloc, size: 64, lifetime: { keep: 100000 } }
            """)
        var options = RunnerTests.quick()
        options.drainLimitNS = 0
        let r = try await Runner.run(cfg, options: options).result
        #expect(r.drain?.contains("gave up") == true)
        #expect(r.invariants.checked == false)
    }

    @Test("A run that leaves CPU 0 idle still gives back every page (the MMU's page tables are built on CPU 0)")
    func idleCPUZeroDrained() async throws {
        let cfg = try RunnerTests.config("""
            name: cpu0-idle
            topology: { synthetic: "pack:1 [numa] core:4 pu:1" }
            memory: { per_node: 64MiB, zones: { DMA: 0MiB, DMA32: 0MiB } }
            run: { duration: 100ms, warmup: 0s }
            workloads:
              - { name: w, cpus: "3", op: kmalloc, size: 64, lifetime: { keep: 16 } }
            """)
        let r = try await Runner.run(cfg, options: RunnerTests.quick()).result
        #expect(r.invariants.passed, "\(r.invariants.violations)")
    }
}
