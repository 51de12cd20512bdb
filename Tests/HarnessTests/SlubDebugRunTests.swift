import Testing
import Foundation
@testable import Harness
import KernelMM

/// `run.slub_debug` as the kernel's `slub_debug=` option, and the validation passes a debug
/// run makes (`validate_slab_cache()` at the end of the measured phase and every
/// `run.validate_every` operations).
@Suite(.serialized) struct SlubDebugRunTests {
    static func config(_ run: String, caches: String = "[ { name: obj, size: 128 } ]") throws -> StressConfig {
        try ConfigLoader.parse(yaml: """
            name: slub-debug
            topology: { synthetic: "pack:2 [numa] core:1 pu:1" }
            memory: { per_node: 32MiB, zones: { DMA: 0MiB, DMA32: 0MiB } }
            caches: \(caches)
            run: \(run)
            workloads:
              - { name: churn, cpus: all, op: kmem_cache_alloc, cache: obj, lifetime: { keep: 64, order: random } }
            """, file: "t.yaml", baseDirectory: "/nonexistent")
    }

    @Test("run.slub_debug takes the kernel's option string: flags per cache list, true for FZPU everywhere, false for none")
    func optionString() throws {
        let c = try Self.config(#"{ operations: 10, slub_debug: "FZ,obj;P" }"#)
        #expect(c.run.slubDebugOptions == (try SlubDebugOptions.parse("FZ,obj;P")))
        #expect(c.run.slubDebugOptions.flags(for: "obj", size: 128, align: 0, base: [], hasCtor: false, cpus: 2) == [.consistencyChecks, .redZone])
        #expect(c.run.slubDebugOptions.flags(for: "kmalloc-64", size: 64, align: 0, base: [], hasCtor: false, cpus: 2) == .poison)
        #expect(try Self.config("{ operations: 10, slub_debug: true }").run.slubDebugOptions == .full)
        #expect(try Self.config("{ operations: 10, slub_debug: false }").run.slubDebugOptions == .off)
    }

    @Test("A bad slub_debug letter, or validate_every without slub_debug, is a located config error")
    func badOptions() throws {
        #expect { try Self.config(#"{ operations: 10, slub_debug: "FQ" }"#) } throws: { e in
            "\(e)".hasPrefix("t.yaml:5:") && "\(e)".contains("run.slub_debug: slub_debug option 'Q' unknown at character 2")
        }
        #expect { try Self.config("{ operations: 10, validate_every: 5 }") } throws: { e in
            "\(e)".contains("run.validate_every: needs run.slub_debug")
        }
    }

    @Test("A slub_debug run validates every debug cache at the end of the measured phase and every validate_every operations; a clean run counts no slab_errors; alloc_traces name the workload")
    func validationPasses() async throws {
        var o = Runner.Options()
        o.probeAccessCost = false
        let c = try Self.config("{ deterministic: true, operations: 2000, seed: 3, slub_debug: true, validate_every: 500 }")
        let out = try await Runner.run(c, options: o)
        let r = out.result
        let v = try #require(r.validation)
        #expect(v.passes == 1 + 2 * 4, "two CPUs, a pass after each 500 of their 2000 operations, one at the end")
        #expect(v.errors == 0)
        #expect(r.invariants.passed)
        #expect(r.caches.first { $0.info.name == "obj" }?.slabErrors == 0)
        let f = Figures(r, userCaches: ["obj"])
        #expect(f.values["validation.passes"] == Double(v.passes))
        #expect(Summary.text(r).contains("slab validation: 9 passes, 0 slab_errors"))
        // sys/kernel/debug/slab/obj/alloc_traces: the objects kept at the end, by call site.
        let traces = try #require(out.procViews.slabTraces?["obj"])
        #expect(traces[0].contains(" numastress:churn age="))
    }
}
