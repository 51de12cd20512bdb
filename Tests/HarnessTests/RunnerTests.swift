import Testing
import Foundation
@testable import Harness
import KernelMM
import Topology

/// The runner end to end: known answers, determinism, every shipped config, interruption.
@Suite(.serialized) struct RunnerTests {
    static func config(_ yaml: String) throws -> StressConfig {
        try ConfigLoader.parse(yaml: yaml, file: "test.yaml", baseDirectory: FileManager.default.currentDirectoryPath)
    }

    static func quick() -> Runner.Options {
        var o = Runner.Options()
        o.probeAccessCost = false
        return o
    }

    static let producerConsumer = """
        name: known-answer
        topology: { synthetic: "pack:2 [numa] core:1 pu:1" }
        memory: { per_node: 32MiB, zones: { DMA: 0MiB, DMA32: 0MiB } }
        caches: [ { name: obj, size: 128 } ]
        run: { deterministic: true, operations: 1000, seed: 1 }
        workloads:
          - { name: producer, cpus: "node:0", op: kmem_cache_alloc, cache: obj, handoff: consumer }
          - { name: consumer, cpus: "node:1", op: kmem_cache_free, from: producer }
        """

    @Test("Remote frees and locality match a workload whose answer is known: node 0 allocates 1000, node 1 frees them all")
    func knownAnswer() async throws {
        let out = try await Runner.run(Self.config(Self.producerConsumer), options: Self.quick())
        let r = out.result
        #expect(r.complete)
        #expect(r.invariants.passed, "\(r.invariants.violations)")
        #expect(r.numa.localityMatrix == [[1000, 0], [0, 0]])
        #expect(r.numa.remoteFrees == [[0, 0], [1000, 0]], "every free is by node 1 of a node-0 slab")
        #expect(r.handoff.sent == 1000 && r.handoff.received == 1000 && r.handoff.full == 0)
        let alloc = try #require(r.operations.first { $0.op == "kmem_cache_alloc" })
        #expect(alloc.count == 1000 && alloc.failures == 0)
        #expect(r.operations.first { $0.op == "kmem_cache_free" }?.count == 1000)
    }

    @Test("Deterministic mode: every counter is identical from run to run")
    func deterministic() async throws {
        let yaml = """
            name: det
            topology: { synthetic: "pack:2 [numa] core:2 pu:1" }
            memory: { per_node: 16MiB, zones: { DMA: 1MiB, DMA32: 3MiB }, watermarks: { min: 64, low: 96, high: 128 }, oom_wait: 1ms }
            caches: [ { name: c, size: 200 } ]
            run: { deterministic: true, operations: 3000, seed: 99 }
            workloads:
              - name: mix
                cpus: all
                atomic_share: 0.3
                gfp: "GFP_KERNEL | __GFP_NOWARN"
                lifetime: { keep: 500, order: random }
                mix:
                  - { op: kmalloc, weight: 2, size: { uniform: [8, 3000] } }
                  - { op: kmem_cache_alloc, cache: c }
                  - { op: alloc_pages, order: { uniform: [0, 5] } }
                  - { op: mmap, size: { uniform: [4096, 65536] }, policy: interleave }
            """
        let a = try await Runner.run(Self.config(yaml), options: Self.quick()).result
        let b = try await Runner.run(Self.config(yaml), options: Self.quick()).result
        #expect(a.invariants.passed && b.invariants.passed)
        #expect(a.throughput.totalOps == b.throughput.totalOps)
        #expect(a.operations.map { [$0.count, $0.failures] } == b.operations.map { [$0.count, $0.failures] })
        #expect(a.zones.map(\.events) == b.zones.map(\.events))
        #expect(a.numa.localityMatrix == b.numa.localityMatrix)
        #expect(a.numa.remoteFrees == b.numa.remoteFrees)
        #expect(a.caches.map(\.info) == b.caches.map(\.info))
        #expect(a.locks.map(\.acquisitions) == b.locks.map(\.acquisitions))
        #expect(a.zones.map(\.freeBlocksPerOrder) == b.zones.map(\.freeBlocksPerOrder))
        func counts(_ t: TLB.Counters?) -> TLB.Counters? {
            guard var t else { return nil }
            t.shootdownWaitNS = 0; t.maxShootdownWaitNS = 0   // time, not a count
            return t
        }
        #expect(counts(a.tlb?.totals) == counts(b.tlb?.totals), "TLB hits, misses, faults and shootdowns too")
        #expect((a.tlb?.totals.ipisSent ?? 0) > 0)
    }

    @Test("Every config in Configs/ runs briefly and passes its invariant checks")
    func shippedConfigs() async throws {
        let dir = TestPaths.repoRoot + "/Configs"
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(files.count >= 7)
        for f in files {
            // host-numa.yaml needs a host with two NUMA nodes (scripts/test runs it in a guest).
            if f == "host-numa.yaml", HostBinding.shared.machine.nodes.count < 2 { continue }
            var c = try ConfigLoader.load(path: dir + "/" + f)
            c.run.durationNS = 150_000_000
            c.run.warmupNS = 20_000_000
            c.run.repetitions = 1
            let r = try await Runner.run(c, options: Self.quick()).result
            #expect(r.complete, "\(f)")
            #expect(r.invariants.passed, "\(f): \(r.invariants.violations)")
            #expect(r.throughput.totalOps > 0, "\(f)")
        }
    }

    @Test("Results folder holds result.json, summary, CSVs, hgrm files and proc views, written whole")
    func resultFolder() async throws {
        let out = try await Runner.run(Self.config(Self.producerConsumer), options: Self.quick())
        let root = NSTemporaryDirectory() + "numastress-results-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let dir = try ResultWriter.write(out, root: root)
        #expect(dir.hasPrefix(root + "/known-answer/"))
        for f in ["result.json", "summary.md", "per_cpu.csv", "locks.csv", "zones.csv", "caches.csv", "operations.csv",
                  "proc/buddyinfo", "proc/zoneinfo", "proc/slabinfo", "kernel.log"] {
            #expect(FileManager.default.fileExists(atPath: dir + "/" + f), "\(f)")
        }
        let hgrm = try FileManager.default.contentsOfDirectory(atPath: dir + "/latency")
        #expect(hgrm.contains("kmem_cache_alloc-blocking.hgrm"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).allSatisfy { !$0.hasSuffix(".tmp") })
        let back = try ResultWriter.read(dir + "/result.json")
        #expect(back.schema == RunResult.schema)
        #expect(back.complete)
        #expect(back.numa.remoteFrees == out.result.numa.remoteFrees)
        #expect(try String(contentsOfFile: dir + "/proc/slabinfo", encoding: .utf8).hasPrefix("slabinfo - version: 2.1"))
    }
}

enum TestPaths {
    static var repoRoot: String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }
}
