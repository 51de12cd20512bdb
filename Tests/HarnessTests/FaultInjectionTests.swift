import Foundation
import KernelMM
import Testing
@testable import Harness

/// `faults:`: injected misuse, each fault matched to the debug report that caught it (the
/// slub_kunit / KFENCE-test way: provoke the bug, then look for its report).
@Suite struct FaultInjectionTests {
    static let misusePath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Configs/misuse.yaml").path

    /// Configs/misuse.yaml, made short: deterministic (one thread, seeded order) or concurrent,
    /// by operation count either way, so that a loaded machine still injects every kind.
    static func misuse(slubDebug: Bool, deterministic: Bool) throws -> StressConfig {
        var c = try ConfigLoader.load(path: misusePath)
        c.run.slubDebug = slubDebug
        c.run.deterministic = deterministic
        c.run.operations = 4000
        return c
    }

    @Test("misuse.yaml with slub_debug: every kind injected is detected, no report is unexplained, invariants hold",
          arguments: [true, false])
    func everyFaultCaught(deterministic: Bool) async throws {
        let r = try await Runner.run(Self.misuse(slubDebug: true, deterministic: deterministic), options: RunnerTests.quick()).result
        let f = try #require(r.faults)
        for k in f.kinds {
            #expect(k.injected > 0, "\(k.kind) was never injected")
            #expect(k.missed == 0 && k.detected == k.injected, "\(k.kind): \(f.missedFaults)")
        }
        #expect(f.unexplained == 0, "\(f.unexplainedReports)")
        #expect(r.invariants.passed, "\(r.invariants.violations)")
        #expect(r.expectations?.allSatisfy(\.passed) == true)
    }

    @Test("misuse.yaml with slub_debug: false fails and names the kinds only SLUB debugging catches")
    func missedWithoutDebug() async throws {
        let r = try await Runner.run(Self.misuse(slubDebug: false, deterministic: true), options: RunnerTests.quick()).result
        let f = try #require(r.faults)
        let missed = Set(f.kinds.filter { $0.missed > 0 }.map(\.kind))
        // No red zone, no poison, no consistency checks: what SLAB_RED_ZONE, SLAB_POISON and
        // SLAB_CONSISTENCY_CHECKS (which 6.12's object checks all need) catch goes through.
        #expect(missed == ["double_free", "invalid_free", "red_zone", "use_after_free"])
        // Caught without slub_debug: non-slab pointers, cache_from_obj (with
        // SLAB_FREELIST_HARDENED), bad_page, might_alloc.
        for k in f.kinds where !missed.contains(k.kind) { #expect(k.detected == k.injected && k.injected > 0, "\(k.kind)") }
        #expect(!r.invariants.passed)
        // The run names what it missed, and nothing else failed: the model stayed sound.
        #expect(r.invariants.violations.allSatisfy { $0.hasPrefix("faults: ") }, "\(r.invariants.violations)")
        #expect(r.invariants.violations.contains { $0.contains("red_zone fault(s) missed (slub_debug: false") })
        #expect(f.missedFaults.contains { $0.contains("has no SLAB_RED_ZONE") })
    }

    @Test("A faults: result validates against docs/result.schema.json, missed faults and all")
    func resultSchema() async throws {
        let r = try await Runner.run(Self.misuse(slubDebug: false, deterministic: true), options: RunnerTests.quick()).result
        #expect(r.faults != nil)
        let json = try JSONDecoder().decode(JSONValue.self, from: JSONCoding.encoder().encode(r))
        let validator = try JSONSchemaValidator(file: TestPaths.repoRoot + "/docs/result.schema.json")
        let errors = validator.errors(json)
        #expect(errors.isEmpty, "\(errors.prefix(10).joined(separator: "\n"))")
    }

    @Test("The same seed injects the same faults at the same places (deterministic mode)")
    func seeded() async throws {
        let c = try Self.misuse(slubDebug: true, deterministic: true)
        let a = try await Runner.run(c, options: RunnerTests.quick()).result.faults
        let b = try await Runner.run(c, options: RunnerTests.quick()).result.faults
        #expect(a == b)
    }

    @Test("A report no injected fault explains is counted and fails the ledger's verdict")
    func unexplainedReport() {
        let ledger = FaultLedger()
        ledger.injected(.redZone, cpu: 0, address: 0x1000, site: "test")
        ledger.observe(DebugReport(kind: .slab(.redZone), cpu: nil, address: 0x1000))
        ledger.observe(DebugReport(kind: .slab(.redZone), cpu: nil, address: 0x1000))   // the same bug, its other side
        ledger.observe(DebugReport(kind: .slab(.poison), cpu: nil, address: 0x2000))    // nobody wrote there
        let f = ledger.figures(FaultSettings(rates: [.redZone: 1]), slubDebug: true)
        #expect(f.detected == 1 && f.missed == 0)
        #expect(f.unexplained == 1)
        #expect(f.violations.count == 1 && f.violations[0].contains("no injected fault explains"))
    }

    static let head = """
        name: t
        topology: { synthetic: "pack:1 [numa] core:2 pu:1" }
        memory: { per_node: 32MiB, zones: { DMA: 0, DMA32: 0 } }

        """

    @Test("faults: is validated where it is written", arguments: [
        ("run: { on_slab_error: abort }\nworkloads: [ { name: a, op: kmalloc } ]\nfaults: { red_zone: 0.1 }\n",
         "t.yaml:6:9: error: faults: cannot be combined with run.on_slab_error: abort"),
        ("workloads: [ { name: a, op: kmalloc } ]\nfaults: { wrong_order: 0.1 }\n",
         "t.yaml:5:24: error: faults.wrong_order: no workload calls alloc_pages"),
        ("workloads: [ { name: a, op: alloc_pages } ]\nfaults: { double_free: 0.1 }\n",
         "t.yaml:5:24: error: faults.double_free: no workload allocates slab objects"),
        ("workloads: [ { name: a, op: kmalloc } ]\nfaults: { red_zone: 1.5 }\n",
         "t.yaml:5:21: error: faults.red_zone: must be a chance 0…1"),
        ("workloads: [ { name: a, op: kmalloc } ]\nfaults: { redzone: 0.1 }\n",
         "t.yaml:5:11: error: unknown key \"redzone\""),
    ])
    func validation(_ yaml: String, _ expected: String) {
        do {
            _ = try ConfigLoader.parse(yaml: Self.head + yaml, file: "t.yaml", baseDirectory: "/")
            Issue.record("accepted: \(yaml)")
        } catch {
            #expect("\(error)".hasPrefix(expected), "\(error)")
        }
    }

    @Test("No write after free, double free or red-zone write is made into a slab a failed allocation check took out of service: the kernel refuses every free there before checking it, so the fault would be missed (seen in concurrent misuse runs, where another CPU disables the slab between an object's allocation and its misuse)")
    func noFaultInDisabledSlab() throws {
        for kind in ["use_after_free", "double_free", "red_zone"] {
            let cfg = try RunnerTests.config("""
                name: disabled
                topology: { synthetic: "pack:1 [numa] core:1 pu:1" }
                memory: { per_node: 32MiB, zones: { DMA: 0MiB, DMA32: 0MiB } }
                caches: [ { name: dentry, size: 192 } ]
                run: { operations: 100, deterministic: true, seed: 5, slub_debug: true }
                faults: { \(kind): 1.0 }
                workloads: [ { name: w, cpus: all, op: kmem_cache_alloc, cache: dentry } ]
                """)
            let env = try RunEnvironment(config: cfg)
            defer { env.shutdown(); env.kernel.unmapArenas() }
            let w = try #require(Runner.makeWorkers(env).first)
            let cache = env.caches[0], cpu = w.cpu
            func injected() -> Int { env.faultLedger!.figures(cfg.faults!, slubDebug: true).injected }
            // Three objects of one slab. A write into the first after its free fails the next
            // allocation's poison check, which takes the slab out of service.
            let a = try #require(cache.alloc(cpu, .kernel)), b = try #require(cache.alloc(cpu, .kernel))
            #expect(cache.slabRange(a) == cache.slabRange(b))
            cache.free(cpu, a)
            (a + cache.objectSize / 2).storeBytes(of: 0, as: UInt8.self)
            _ = cache.alloc(cpu, .kernel)
            #expect(cache.disabledSlabs == 1 && cache.slabDisabled(b), "\(kind)")
            #expect(!w.injectFault(ObjectRecord(pointer: b, kind: .kmemCacheAlloc, arg: 0, malloc: false), part: 0), "\(kind)")
            #expect(injected() == 0, "\(kind): made into a slab out of service")
            // In a slab in service the same fault is made (a free fault frees the object).
            let d = try #require(cache.alloc(cpu, .kernel))
            #expect(!cache.slabDisabled(d) && cache.slabRange(d) != cache.slabRange(b))
            let freed = w.injectFault(ObjectRecord(pointer: d, kind: .kmemCacheAlloc, arg: 0, malloc: false), part: 0)
            #expect(freed == (kind != "red_zone"), "\(kind)")
            #expect(injected() == 1, "\(kind)")
        }
    }
}
