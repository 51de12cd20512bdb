import Testing
import Foundation
@testable import Harness

/// `expect:` and `vary:` as written in configs: parsing, validation with file:line:column, and
/// the catalog of figures held together with what a result really provides.
struct ExpectationTests {
    static let base = """
        name: e
        topology: { synthetic: "pack:1 [numa] core:2 pu:1" }
        memory: { per_node: 16MiB, zones: { DMA: 0MiB, DMA32: 0MiB } }
        caches: [ { name: obj, size: 100 } ]
        run: { deterministic: true, operations: 200, seed: 1 }
        workloads:
          - { name: w, cpus: all, op: kmem_cache_alloc, cache: obj }

        """

    func load(_ extra: String) throws -> StressConfig {
        try ConfigLoader.parse(yaml: Self.base + extra, file: "e.yaml", baseDirectory: "/")
    }

    func error(_ extra: String) -> ConfigError? {
        do { _ = try load(extra); return nil } catch { return error as? ConfigError }
    }

    @Test("Arithmetic and comparisons parse with the usual precedence")
    func precedence() throws {
        let c = try load("expect:\n  - blocking.latency.p99 > 4 * atomic.latency.p99 + 10\n  - cache.kmalloc-64.slabs == 0\n")
        let e = c.expectations[0]
        #expect(e.comparison == .gt)
        #expect(e.rhs == .binary("+", .binary("*", .number(4), .figure(variant: nil, name: "atomic.latency.p99")), .number(10)))
        #expect(c.expectations[1].lhs == .figure(variant: nil, name: "cache.kmalloc-64.slabs"), "cache names keep their dashes")
    }

    @Test("An unknown figure is a config error at its line and column, with figures that exist")
    func unknownFigure() {
        let e = error("expect:\n  - atomic.sleepz == 0\n")
        #expect(e?.line == 9 && e?.column == 5, "\(String(describing: e))")
        #expect(e?.message == "expect[0]: unknown figure \"atomic.sleepz\"")
        #expect(e?.hint?.contains("atomic.sleeps") == true)
    }

    @Test("A line without a comparison, or with trailing text, is refused where it goes wrong")
    func syntax() {
        let noCmp = error("expect:\n  - atomic.sleeps\n")
        #expect(noCmp?.message.contains("expected a comparison") == true)
        let trailing = error("expect:\n  - \"atomic.sleeps == 0 0\"\n")
        #expect(trailing?.message.contains("unexpected") == true)
        #expect(trailing?.column == 5 + 1 + 19, "points at the stray 0 inside the quotes: \(String(describing: trailing))")
    }

    @Test("Zone, node and cache figures follow the config: node 1 does not exist on one node, a user cache does")
    func configDependentNames() throws {
        #expect(error("expect:\n  - zone[1].Normal.failures == 0\n")?.message.contains("unknown figure") == true)
        #expect(try load("expect:\n  - zone[0].Normal.failures == 0\n  - cache.obj.remote_frees == 0\n").expectations.count == 2)
    }

    @Test("vary: makes one config per value, validates each, and variant names prefix figures")
    func vary() throws {
        let c = try load("vary: { locks.zone: [spin, mutex] }\nexpect:\n  - mutex.locks.zone.sleeps >= spin.locks.zone.sleeps\n  - throughput.total_ops > 0\n")
        #expect(c.variants.map(\.name) == ["spin", "mutex"])
        #expect(c.variants.map(\.config.locks.zone) == [.spin, .mutex])
        #expect(c.variants[1].settings == "locks.zone=mutex")
        #expect(c.expectations[0].isCrossVariant && !c.expectations[1].isCrossVariant)
        let gfp = try load("vary: { workloads.w.gfp: { kernel: GFP_KERNEL, atomic_ctx: GFP_ATOMIC } }\n")
        #expect(gfp.variants.map(\.config.workloads[0].gfp) == [.kernel, .atomic])
    }

    @Test("A bad value in vary: is reported at that value; a missing workload at the key")
    func varyErrors() {
        let bad = error("vary: { locks.zone: [spin, mutexx] }\n")
        #expect(bad?.line == 8 && bad?.column == 28, "\(String(describing: bad))")
        #expect(bad?.message.contains("locks.zone") == true)
        let missing = error("vary: { workloads.nope.gfp: [GFP_KERNEL, GFP_ATOMIC] }\n")
        #expect(missing?.message.contains("no element named \"nope\"") == true)
        #expect(error("vary: { locks.zone: [spin] }\n")?.message.contains("at least two") == true)
    }

    @Test("Expectations are judged on the figures the run counted, per variant when unprefixed")
    func judged() async throws {
        let c = try load("vary: { locks.zone: [spin, mutex] }\nexpect:\n  - throughput.total_ops == 400\n  - spin.cache.obj.active_objs > mutex.cache.obj.active_objs\n")
        let o = try await ContrastRunner.run(c, options: RunnerTests.quick())
        #expect(o.expectations.count == 3, "the unprefixed line once per variant, the cross line once")
        #expect(o.expectations.filter { $0.text.hasPrefix("throughput") }.allSatisfy { $0.passed && $0.lhs == 400 })
        let cross = try #require(o.expectations.last)
        #expect(!cross.passed && cross.lhs == cross.rhs, "deterministic variants hold the same objects")
    }

    @Test("The catalog and the figures a result provides are the same names")
    func catalogMatchesFigures() async throws {
        let c = try load("")
        let r = try await Runner.run(c, options: RunnerTests.quick()).result
        let figures = Set(Figures(r, userCaches: ["obj"]).values.keys)
        let catalog = FigureCatalog.names(.init(nodes: 1, caches: ["obj"]))
        let probeOnly = catalog.filter { $0.hasPrefix("numa.measured") || $0.hasPrefix("numa.modelled") || $0.hasPrefix("numa.injected") }
        #expect(figures == catalog.subtracting(probeOnly), "only the access-cost figures need the probe")
    }

    @Test("docs/CONFIG.md lists the catalog's figures as the code declares them")
    func docsListFigures() throws {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/CONFIG.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        #expect(text.contains(FigureCatalog.markdown), "regenerate the Figures list in docs/CONFIG.md from FigureCatalog.markdown")
    }
}

/// One source of truth for config keys: the JSON schema editors use lists exactly the loader's.
struct ConfigSchemaTests {
    @Test("Configs/schema.json's top-level keys are ConfigKeys.top")
    func schemaKeys() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Configs/schema.json")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]
        let keys = (json?["properties"] as? [String: Any]).map { Set($0.keys) } ?? []
        #expect(keys == Set(ConfigKeys.top))
    }
}
