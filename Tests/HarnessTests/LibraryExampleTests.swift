import Testing
import Harness   // public API only: this file is the example docs/LIBRARY.md shows

/// Using NUMAStress from your own tests: load a config, run it, assert on the result.
@Suite struct LibraryExampleTests {
    @Test("Example: the zone lock is rarely contended and GFP_ATOMIC never fails at this load")
    func example() async throws {
        var config = try ConfigLoader.parse(yaml: """
            name: my-driver-rx-path
            topology: { synthetic: "pack:1 [numa] core:2 pu:1" }
            memory: { per_node: 32MiB, zones: { DMA: 0MiB, DMA32: 0MiB } }
            caches: [ { name: rx_buf, size: 1536, flags: [SLAB_HWCACHE_ALIGN] } ]
            run: { duration: 300ms, warmup: 50ms }
            workloads:
              - { name: rx, cpus: all, op: kmem_cache_alloc, cache: rx_buf, gfp: GFP_ATOMIC, lifetime: { keep: 64, order: fifo } }
            """, file: "inline.yaml", baseDirectory: ".")
        config.run.seed = 1
        var options = Runner.Options()
        options.probeAccessCost = false
        let result = try await Runner.run(config, options: options).result

        #expect(result.invariants.passed, "\(result.invariants.violations)")
        let zoneLocks = result.locks.filter { $0.name.hasPrefix("zone ") && $0.acquisitions > 0 }
        for lock in zoneLocks { #expect(lock.contendedFraction < 0.20, "\(lock.name) contended \(lock.contendedFraction)") }
        let atomicFailures = result.operations.filter { $0.gfpClass == "atomic" }.reduce(0) { $0 + $1.failures }
        #expect(atomicFailures == 0)
        #expect(result.throughput.totalOps > 0)
    }
}
