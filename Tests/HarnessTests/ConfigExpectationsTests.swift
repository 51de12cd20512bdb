import Testing
import Foundation
@testable import Harness
import Topology

/// An expectation that cannot fail is a defect: each shipped config is run with the cause of
/// what it shows taken away, and the expectations that state that cause must then fail.
@Suite(.serialized) struct ConfigExpectationsTests {
    static let configs = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Configs")

    struct Mutation: Sendable, CustomTestStringConvertible {
        var config: String
        var cause: String
        /// Text replacements, each applied to every occurrence.
        var changes: [(from: String, to: String)]
        /// Expectations (their text) that must fail once the cause is gone.
        var mustFail: [String]
        var probe = false
        var testDescription: String { "\(config): \(cause)" }
    }

    static let mutations: [Mutation] = [
        Mutation(config: "gfp-atomic-vs-kernel", cause: "nothing kept: no pressure",
                 changes: [("lifetime: { keep: 100000 }, ", "")],
                 mustFail: ["atomic.reserve_allocs > 0", "atomic.failures > 0", "blocking.sleeps > 0", "blocking.direct_reclaims > 0"]),
        Mutation(config: "memory-pressure", cause: "objects fit: no pressure",
                 changes: [("keep: 13600", "keep: 1000")],
                 mustFail: ["kswapd.wakeups > 0", "blocking.direct_reclaims > 0", "blocking.sleeps > 0"]),
        Mutation(config: "lock-policy-contrast", cause: "one lock policy instead of two",
                 changes: [("mutex: mutex,", "mutex: spin,")],
                 mustFail: ["mutex.locks.zone.sleeps > 0"]),
        Mutation(config: "lock-policy-contrast", cause: "the lock-free variant given a lock",
                 changes: [("lockfree: atomic", "lockfree: spin")],
                 mustFail: ["lockfree.locks.zone.wait_ns == 0", "lockfree.locks.zone.cas_attempts > lockfree.locks.zone.acquisitions"]),
        Mutation(config: "lock-policy-contrast", cause: "one CPU: nobody to collide with",
                 changes: [("core:4", "core:1")],
                 mustFail: ["lockfree.locks.zone.cas_failures > 0", "spin.locks.zone.contended > 0"]),
        Mutation(config: "remote-free", cause: "consumer on the producer's node",
                 changes: [("{ name: tx, cpus: \"node:1\"", "{ name: tx, cpus: \"node:0\"")],
                 mustFail: ["numa.remote_frees > 0"]),
        Mutation(config: "numa-distance", cause: "no injected cost",
                 changes: [("remote_cost: inject", "remote_cost: model")],
                 mustFail: ["numa.injected.remote_ns > 0"], probe: true),
        Mutation(config: "dma-exhaustion", cause: "ZONE_DMA large enough",
                 changes: [("DMA: 1MiB", "DMA: 32MiB")],
                 mustFail: ["zone[0].DMA.failures > 0"]),
        Mutation(config: "tlb-shootdown", cause: "every range under the 33-page ceiling",
                 changes: [("size: 256KiB, touch: 256KiB", "size: 64KiB, touch: 64KiB")],
                 mustFail: ["tlb.full_flushes > 0"]),
        Mutation(config: "tlb-shootdown", cause: "no mapping shared between CPUs",
                 changes: [("cpus: \"1-2\"", "cpus: \"1\""), ("cpus: \"3-6\"", "cpus: \"3\"")],
                 mustFail: ["tlb.ipis_sent > 0"]),
        Mutation(config: "quickstart", cause: "no atomic context",
                 changes: [("atomic_share: 0.25", "atomic_share: 0")],
                 mustFail: ["atomic.allocs > 0"]),
        Mutation(config: "allocator-compare", cause: "no dedicated cache",
                 changes: [("      - { op: kmem_cache_alloc, weight: 2, cache: skbuff_head_cache }\n", "")],
                 mustFail: ["op.kmem_cache_alloc.blocking.count > 0"]),
        Mutation(config: "fragmentation", cause: "compaction on in both variants",
                 changes: [("no_compaction: false", "no_compaction: true")],
                 mustFail: ["compaction.vmstat.thp_fault_alloc > 2 * no_compaction.vmstat.thp_fault_alloc",
                            "no_compaction.vmstat.compact_stall == 0"]),
        Mutation(config: "fragmentation", cause: "no huge mappings",
                 changes: [("    size: 2MiB\n    huge: true\n", "    size: 2MiB\n")],
                 mustFail: ["no_compaction.vmstat.thp_fault_fallback > 0"]),
        Mutation(config: "allocator-compare-remote", cause: "no handoff",
                 changes: [(", handoff: tx }\n  - { name: tx, cpus: \"1\", op: kfree, from: rx }", " }")],
                 mustFail: ["handoff.received > 0"]),
        Mutation(config: "slab-sheaves", cause: "sheaves in both variants",
                 changes: [("cpu_slabs: opt_in", "cpu_slabs: all")],
                 mustFail: ["cpu_slabs.slab.free_slowpath * 3 >", "cpu_slabs.slab.free_cpu_sheaf == 0",
                            "sheaves.slab.free_slowpath * 10 < cpu_slabs.slab.free_slowpath",
                            "sheaves.locks.node_partial.acquisitions * 4 < cpu_slabs.locks.node_partial.acquisitions"]),
        Mutation(config: "slab-sheaves", cause: "frees in LIFO order: the object freed is the one just allocated, on the CPU slab",
                 changes: [("order: random", "order: lifo")],
                 mustFail: ["cpu_slabs.slab.free_slowpath * 3 >"]),
        Mutation(config: "misuse", cause: "no SLUB debugging: no red zones, poison or free-state checks",
                 changes: [("slub_debug: true", "slub_debug: false")],
                 mustFail: ["faults.missed == 0", "faults.double_free.detected > 0", "faults.invalid_free.detected > 0",
                            "faults.red_zone.detected > 0", "faults.use_after_free.detected > 0", "invariants.violations == 0"]),
    ]

    @Test("Shipped configs with their cause taken away fail the expectations that claim it", arguments: mutations)
    func causeTakenAway(_ m: Mutation) async throws {
        let path = Self.configs.appendingPathComponent("\(m.config).yaml").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var mutated = text
        for c in m.changes {
            #expect(text.contains(c.from), "the mutation still applies to \(m.config).yaml")
            mutated = mutated.replacingOccurrences(of: c.from, with: c.to)
        }
        var config = try ConfigLoader.parse(yaml: mutated, file: path, baseDirectory: Self.configs.path)
        config.override { $0.run.durationNS = 400_000_000 }
        var options = Runner.Options()
        options.probeAccessCost = m.probe
        let outcomes: [ExpectationOutcome]
        if config.variants.isEmpty {
            outcomes = try await Runner.run(config, options: options).result.expectations ?? []
        } else {
            outcomes = try await ContrastRunner.run(config, options: options).expectations
        }
        for text in m.mustFail {
            let found = outcomes.filter { $0.text.hasPrefix(text) }
            #expect(!found.isEmpty, "\(text) is one of \(m.config)'s expectations")
            #expect(found.contains { !$0.passed }, "\(text) must fail without its cause: \(found)")
        }
    }

    @Test("Every shipped config states what it shows in expect:")
    func everyConfigHasExpectations() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.configs.path).filter { $0.hasSuffix(".yaml") }
        #expect(files.count >= 10)
        for f in files {
            // host-numa needs a multi-node host; scripts/test runs it in multi-node guests.
            if f == "host-numa.yaml" && HostBinding.shared.machine.nodes.count < 2 { continue }
            let c = try ConfigLoader.load(path: Self.configs.appendingPathComponent(f).path)
            #expect(!c.expectations.isEmpty, "\(f) has no expect: section")
            #expect(Self.mutations.contains { "\($0.config).yaml" == f } || f == "host-numa.yaml",
                    "\(f) has a test that takes its cause away")
        }
    }
}
