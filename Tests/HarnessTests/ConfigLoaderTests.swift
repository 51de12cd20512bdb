import Foundation
import KernelMM
import Testing
import Topology
@testable import Harness

/// A config that breaks one rule, and the located error it must produce.
struct BadConfig: Sendable, CustomTestStringConvertible {
    let rule: String
    let yaml: String
    /// `t.yaml:LINE:COLUMN: error: MESSAGE…` (a prefix: hints and long tails are left out).
    let expected: String
    var testDescription: String { rule }
}

/// The YAML config loader: every refusal is located at the key or value that causes it.
@Suite struct ConfigLoaderTests {
    /// Three lines every table entry starts with: a two-node synthetic machine with CPUs 0-3 on
    /// node 0 and 4-7 on node 1, and little memory, since validate() checks the host.
    static let head = """
        name: t
        topology: { synthetic: "pack:2 [numa] core:4 pu:1" }
        memory: { per_node: 16MiB, zones: { DMA: 0, DMA32: 0 } }

        """
    /// A good workload list after `head` (lines 4-5).
    static let oneWorkload = """
        workloads:
          - { name: a, op: kmalloc }
        """

    static func parse(_ yaml: String, file: String = "t.yaml") throws -> StressConfig {
        try ConfigLoader.parse(yaml: yaml, file: file, baseDirectory: "/nonexistent")
    }

    static let bad: [BadConfig] = [
        BadConfig(rule: "unknown top-level key is an error at the key",
                  yaml: "name: t\ndurations: 5s\n",
                  expected: #"t.yaml:2:1: error: unknown key "durations" (hint: allowed keys: name, topology, memory, locks, remote_cost, caches, run, workloads, faults, vary, expect, sweep)"#),
        BadConfig(rule: "name is required",
                  yaml: "workloads: []\n",
                  expected: #"t.yaml:1:1: error: missing required key "name""#),
        BadConfig(rule: "name may not contain a slash (it must not escape Results/)",
                  yaml: "name: ../escape\n",
                  expected: #"t.yaml:1:7: error: name: "../escape" may only contain letters, digits, ".", "_" and "-""#),
        BadConfig(rule: "name may not be ..",
                  yaml: "name: \"..\"\n",
                  expected: #"t.yaml:1:7: error: name: ".." is not a usable name"#),
        BadConfig(rule: "name is at most 100 characters",
                  yaml: "name: \(String(repeating: "x", count: 101))\n",
                  expected: "t.yaml:1:7: error: name: must be 1…100 characters, got 101"),
        BadConfig(rule: "unknown key in memory suggests the close one",
                  yaml: "name: t\nmemory:\n  perNode: 16MiB\n",
                  expected: #"t.yaml:3:3: error: unknown key "perNode" in memory (hint: did you mean per_node? allowed keys: per_node, zones"#),
        BadConfig(rule: "decimal size units are refused (sizes are binary)",
                  yaml: "name: t\nmemory: { per_node: 16MB }\n",
                  expected: #"t.yaml:2:21: error: memory.per_node: unknown size unit "MB" in "16MB" (hint: sizes are binary"#),
        BadConfig(rule: "negative sizes are refused",
                  yaml: "name: t\nmemory:\n  zones:\n    DMA: -4KiB\n",
                  expected: #"t.yaml:4:10: error: memory.zones.DMA: size must not be negative, got "-4KiB""#),
        BadConfig(rule: "fractional bytes are refused",
                  yaml: "name: t\nmemory: { per_node: 1.5B }\n",
                  expected: #"t.yaml:2:21: error: memory.per_node: size "1.5B" is not a whole number of bytes"#),
        BadConfig(rule: "ZONE_NORMAL is not configurable: it takes the rest",
                  yaml: "name: t\nmemory: { zones: { Normal: 1MiB } }\n",
                  expected: #"t.yaml:2:20: error: unknown key "Normal" in memory.zones (hint: ZONE_NORMAL takes what DMA and DMA32 leave; allowed keys: DMA, DMA32)"#),
        BadConfig(rule: "default zones larger than per_node are reported at per_node",
                  yaml: head.replacingOccurrences(of: "16MiB, zones: { DMA: 0, DMA32: 0 }", with: "8MiB") + oneWorkload,
                  expected: "t.yaml:3:21: error: memory: zones DMA (4 MiB) + DMA32 (12 MiB) exceed memory per node (8 MiB)"),
        BadConfig(rule: "max_order is 1…20 (MemoryConfig.validate, located at the value)",
                  yaml: "name: t\nmemory:\n  max_order: 30\n",
                  expected: "t.yaml:3:14: error: memory: max_order must be 1…20, got 30"),
        BadConfig(rule: "more memory than the host has is an error at per_node",
                  yaml: "name: t\ntopology: { synthetic: \"pack:1 core:2 pu:1\" }\nmemory:\n  per_node: 64TiB\n  zones: { DMA: 0, DMA32: 0 }\n",
                  expected: "t.yaml:4:13: error: memory: 1 node(s) x 67108864 MiB = 67108864 MiB is more than this host can give"),
        BadConfig(rule: "zone policies are spin, mutex or atomic",
                  yaml: "name: t\nlocks: { zone: ticket }\n",
                  expected: #"t.yaml:2:16: error: locks.zone: expected one of spin, mutex, atomic, got "ticket""#),
        BadConfig(rule: "atomic is a zone policy only: the node partial lists take a lock",
                  yaml: "name: t\nlocks: { node_partial: atomic }\n",
                  expected: #"t.yaml:2:24: error: locks.node_partial: expected spin or mutex, got "atomic""#),
        BadConfig(rule: "remote_cost is measured, model or inject",
                  yaml: head + "remote_cost: measure\n",
                  expected: #"t.yaml:4:14: error: remote_cost: expected one of measured, model, inject, got "measure""#),
        BadConfig(rule: "durations need a unit",
                  yaml: head + "run:\n  duration: 5\n",
                  expected: #"t.yaml:5:13: error: run.duration: duration "5" needs a unit (hint: durations are a number with ns, us, ms, s, m or h"#),
        BadConfig(rule: "repetitions is at least 1",
                  yaml: head + "run: { repetitions: 0 }\n",
                  expected: "t.yaml:4:21: error: run.repetitions: must be at least 1, got 0"),
        BadConfig(rule: "booleans are true or false",
                  yaml: head + "run: { deterministic: yes }\n",
                  expected: #"t.yaml:4:23: error: run.deterministic: expected true or false, got "yes""#),
        BadConfig(rule: "run.sheaves is opt_in (6.18) or all (7.0)",
                  yaml: head + "run: { sheaves: every }\n",
                  expected: #"t.yaml:4:17: error: run.sheaves: expected opt_in or all, got "every""#),
        BadConfig(rule: "a sheaf must fit the largest kmalloc cache",
                  yaml: head + "caches: [ { name: c, size: 64, sheaf_capacity: 2000 } ]\n",
                  expected: "t.yaml:4:48: error: caches[0].sheaf_capacity: "),
        BadConfig(rule: "on_slab_error is continue or abort",
                  yaml: head + "run: { on_slab_error: stop }\n",
                  expected: #"t.yaml:4:23: error: run.on_slab_error: expected continue or abort, got "stop""#),
        BadConfig(rule: "cache size is 1 B…32 KiB",
                  yaml: head + "caches:\n  - { name: big, size: 64KiB }\n",
                  expected: "t.yaml:5:24: error: caches[0].size: must be 1 B…32 KiB, got 64 KiB"),
        BadConfig(rule: "cache align is a power of two",
                  yaml: head + "caches:\n  - { name: c, size: 64, align: 3 }\n",
                  expected: "t.yaml:5:33: error: caches[0].align: must be a power of two, got 3"),
        BadConfig(rule: "slab flags are the SLAB_ names",
                  yaml: head + "caches:\n  - { name: c, size: 64, flags: [SLAB_HWCACHE_ALIGN, SLAB_FOO] }\n",
                  expected: #"t.yaml:5:54: error: caches[0].flags[1]: unknown flag "SLAB_FOO" (hint: flags: SLAB_CONSISTENCY_CHECKS"#),
        BadConfig(rule: "cache names are unique",
                  yaml: head + "caches:\n  - { name: c, size: 64 }\n  - { name: c, size: 128 }\n",
                  expected: #"t.yaml:6:13: error: caches[1].name: cache "c" is already defined (hint: first defined at line 5)"#),
        BadConfig(rule: "one slab per cache per CPU must fit a node",
                  yaml: "name: t\ntopology: { synthetic: \"pack:2 [numa] core:4 pu:1\" }\nmemory: { per_node: 256KiB, zones: { DMA: 0, DMA32: 0 } }\n"
                      + "caches: [ { name: c, size: 4096 }, { name: d, size: 4096 }, { name: e, size: 4096 } ]\n",
                  expected: "t.yaml:4:1: error: caches: one slab per cache per CPU needs 96 KiB × 4 CPUs = 384 KiB per node, more than memory.per_node (256 KiB)"),
        BadConfig(rule: "workloads are required",
                  yaml: head,
                  expected: #"t.yaml:1:1: error: missing required key "workloads""#),
        BadConfig(rule: "workloads may not be empty",
                  yaml: head + "workloads: []\n",
                  expected: "t.yaml:4:12: error: workloads: needs at least one workload"),
        BadConfig(rule: "a node selector must name an existing node",
                  yaml: head + "workloads:\n  - { name: a, cpus: \"node:5\", op: kmalloc }\n",
                  expected: "t.yaml:5:22: error: workloads[0].cpus: node 5 does not exist (hint: nodes 0-1, packages 0-1, cpus 0-7)"),
        BadConfig(rule: "a cpulist may only name CPUs the machine has",
                  yaml: head + "workloads:\n  - name: a\n    cpus: 0-9\n    op: kmalloc\n",
                  expected: "t.yaml:6:11: error: workloads[0].cpus: CPUs 8-9 do not exist (hint: nodes 0-1, packages 0-1, cpus 0-7)"),
        BadConfig(rule: "op names are the kernel functions",
                  yaml: head + "workloads:\n  - { name: a, op: kmallok }\n",
                  expected: #"t.yaml:5:20: error: workloads[0].op: expected one of kmalloc, kmem_cache_alloc, alloc_pages, vmalloc, kfree, kmem_cache_free, free_pages, vfree, mmap, munmap, got "kmallok""#),
        BadConfig(rule: "kmem_cache_alloc needs a cache",
                  yaml: head + "caches: [ { name: c, size: 64 } ]\nworkloads:\n  - { name: a, op: kmem_cache_alloc }\n",
                  expected: "t.yaml:6:20: error: workloads[0]: kmem_cache_alloc needs cache: naming one of caches (hint: caches: c)"),
        BadConfig(rule: "kmem_cache_alloc's cache must be one of caches",
                  yaml: head + "caches: [ { name: c, size: 64 } ]\nworkloads:\n  - { name: a, op: kmem_cache_alloc, cache: d }\n",
                  expected: #"t.yaml:6:45: error: workloads[0].cache: no cache named "d" (hint: caches: c)"#),
        BadConfig(rule: "a free op needs from",
                  yaml: head + "workloads:\n  - { name: a, op: kfree }\n",
                  expected: "t.yaml:5:20: error: workloads[0]: kfree frees what another workload hands off, so it needs from: WORKLOAD"),
        BadConfig(rule: "from must name an existing workload",
                  yaml: head + "workloads:\n  - { name: a, op: kmalloc }\n  - { name: b, op: kfree, from: c }\n",
                  expected: #"t.yaml:6:33: error: workloads[1].from: no workload named "c" (hint: workloads: a, b)"#),
        BadConfig(rule: "handoff must be answered by from on the consumer",
                  yaml: head + "workloads:\n  - { name: a, op: kmalloc, handoff: b }\n  - { name: b, op: kmalloc }\n",
                  expected: #"t.yaml:5:38: error: workloads[0].handoff: workload "b" does not take from "a" (hint: add from: a to workload b)"#),
        BadConfig(rule: "from must be answered by handoff on the producer",
                  yaml: head + "workloads:\n  - { name: a, op: kmalloc }\n  - { name: b, op: kfree, from: a }\n",
                  expected: #"t.yaml:6:33: error: workloads[1].from: workload "a" does not hand off to "b" (hint: add handoff: b to workload a)"#),
        BadConfig(rule: "a consumer has no allocation ops",
                  yaml: head + "workloads:\n  - { name: a, op: kmalloc, handoff: b }\n  - name: b\n    from: a\n    mix: [ { op: kfree }, { op: vmalloc } ]\n",
                  expected: "t.yaml:8:33: error: workloads[1]: a consumer (from: a) only frees, but vmalloc allocates"),
        BadConfig(rule: "a consumer's frees match the producer's allocations",
                  yaml: head + "workloads:\n  - { name: a, op: kmalloc, handoff: b }\n  - name: b\n    from: a\n    mix: [ { op: kfree }, { op: vfree } ]\n",
                  expected: #"t.yaml:8:33: error: workloads[1]: vfree frees vmalloc objects, but "a" never calls vmalloc"#),
        BadConfig(rule: "a producer's allocations each have their free in the consumer",
                  yaml: head + "workloads:\n  - { name: a, op: kmalloc, handoff: b }\n  - { name: b, op: vfree, from: a }\n",
                  expected: #"t.yaml:5:38: error: workloads[0].handoff: "b" has no kfree for what kmalloc allocates (hint: add op kfree to workload b)"#),
        BadConfig(rule: "order is within 0…max_order",
                  yaml: head + "workloads:\n  - { name: a, op: alloc_pages, order: 11 }\n",
                  expected: "t.yaml:5:40: error: workloads[0].order: must be 0…10, got 11"),
        BadConfig(rule: "kmalloc sizes are more than 0, in every distribution value",
                  yaml: head + "workloads:\n  - { name: a, op: kmalloc, size: { uniform: [0, 64] } }\n",
                  expected: "t.yaml:5:47: error: workloads[0].size.uniform[0]: kmalloc size must be at least 1 byte"),
        BadConfig(rule: "size does not apply to alloc_pages",
                  yaml: head + "workloads:\n  - { name: a, op: alloc_pages, size: 64 }\n",
                  expected: "t.yaml:5:33: error: workloads[0]: size does not apply to alloc_pages"),
        BadConfig(rule: "gfp masks go through GFP.parse",
                  yaml: head + "workloads:\n  - { name: a, op: kmalloc, gfp: GFP_KERNAL }\n",
                  expected: "t.yaml:5:34: error: workloads[0].gfp: unknown GFP flag GFP_KERNAL"),
        BadConfig(rule: "atomic_share is 0…1",
                  yaml: head + "workloads:\n  - { name: a, op: kmalloc, atomic_share: 1.5 }\n",
                  expected: "t.yaml:5:43: error: workloads[0].atomic_share: must be 0…1, got 1.5"),
        BadConfig(rule: "workload names are unique",
                  yaml: head + "workloads:\n  - { name: a, op: kmalloc }\n  - { name: a, op: vmalloc }\n",
                  expected: #"t.yaml:6:13: error: workloads[1].name: workload "a" is already defined (hint: first defined at line 5)"#),
        BadConfig(rule: "op and mix exclude each other",
                  yaml: head + "workloads:\n  - { name: a, op: kmalloc, mix: [ { op: kmalloc } ] }\n",
                  expected: "t.yaml:5:29: error: workloads[0]: give either op or mix, not both"),
        BadConfig(rule: "lifetime keep is at least 1",
                  yaml: head + "workloads:\n  - { name: a, op: kmalloc, lifetime: { keep: 0 } }\n",
                  expected: "t.yaml:5:47: error: workloads[0].lifetime.keep: must be at least 1, got 0"),
        BadConfig(rule: "topology takes only one source",
                  yaml: "name: t\ntopology: { synthetic: \"pack:1 pu:2\", xml: x.xml }\n",
                  expected: "t.yaml:2:39: error: topology: give only one of host, synthetic and xml"),
        BadConfig(rule: "a distance matrix must fit the nodes (error at distances)",
                  yaml: "name: t\ntopology:\n  synthetic: \"pack:2 [numa] core:1 pu:1\"\n  distances: [[10, 20, 30]]\n",
                  expected: "t.yaml:4:14: error: topology.distances: "),
        BadConfig(rule: "a relative xml path is resolved against the config's folder and must exist",
                  yaml: "name: t\ntopology: { xml: machines/x.xml }\n",
                  expected: "t.yaml:2:18: error: topology.xml: no such file /nonexistent/machines/x.xml"),
        BadConfig(rule: "YAML syntax errors keep Yams' line and column",
                  yaml: "name: t\nrun: { duration: 5s\nworkloads: []\n",
                  expected: "t.yaml:3:10: error: invalid YAML: "),
        BadConfig(rule: "YAML reader errors (control characters) are located too",
                  yaml: "name: t\nrun: \u{01}\n",
                  expected: "t.yaml:2:6: error: invalid YAML: control characters are not allowed"),
        BadConfig(rule: "a duplicate key is refused at its second occurrence, naming the first",
                  yaml: "name: t\nname: u\n",
                  expected: #"t.yaml:2:1: error: invalid YAML: duplicate key "name" (hint: first given at line 1, column 1)"#),
        BadConfig(rule: "wrong types say what was expected",
                  yaml: head + "run: { seed: [1] }\n",
                  expected: "t.yaml:4:14: error: run.seed: expected an integer, got a list"),
    ]

    @Test("each broken rule is an error at its key or value", arguments: bad)
    func badConfigIsLocated(_ c: BadConfig) {
        do {
            _ = try Self.parse(c.yaml)
            Issue.record("accepted a config that breaks: \(c.rule)")
        } catch let e as ConfigError {
            #expect(e.description.hasPrefix(c.expected), "\(e.description)")
        } catch {
            Issue.record("not a ConfigError: \(error)")
        }
    }

    @Test("sheaf_capacity is kmem_cache_args.sheaf_capacity; run.sheaves picks 6.18's opt-in or 7.0's sheaves for all")
    func sheaves() throws {
        let c = try Self.parse(Self.head + "caches: [ { name: c, size: 64, sheaf_capacity: 32 } ]\nrun: { sheaves: all }\n" + Self.oneWorkload)
        #expect(c.caches.first?.sheafCapacity == 32)
        #expect(c.run.sheaves == .all)
        #expect(try Self.parse(Self.head + Self.oneWorkload).run.sheaves == .optIn)
    }

    @Test("the error text is file:line:column: error: message, with the hint in parentheses")
    func errorDescription() {
        #expect(ConfigError(file: "a.yaml", line: 3, column: 7, message: "bad").description == "a.yaml:3:7: error: bad")
        #expect(ConfigError(file: "a.yaml", line: 1, column: 1, message: "bad", hint: "fix").description == "a.yaml:1:1: error: bad (hint: fix)")
    }

    // MARK: Units

    @Test("sizes: binary units with or without a space, K/M/G binary too, plain integers are bytes")
    func sizesGood() throws {
        #expect(try Units.size("256MiB") == 256 << 20)
        #expect(try Units.size("64 KiB") == 64 << 10)
        #expect(try Units.size("1GiB") == 1 << 30)
        #expect(try Units.size("4096") == 4096)
        #expect(try Units.size("16M") == 16 << 20)
        #expect(try Units.size("2T") == 2 << 40)
        #expect(try Units.size("232B") == 232)
        #expect(try Units.size("1.5KiB") == 1536)
    }

    @Test("sizes: negative, fractional bytes, decimal and unknown units and non-numbers are refused", arguments: [
        ("-4KiB", "size must not be negative, got \"-4KiB\""),
        ("1.5B", "size \"1.5B\" is not a whole number of bytes"),
        ("0.1KiB", "size \"0.1KiB\" is not a whole number of bytes"),
        ("4KB", "unknown size unit \"KB\" in \"4KB\""),
        ("12 parsecs", "unknown size unit \"parsecs\" in \"12 parsecs\""),
        ("lots", "expected a size like 256MiB, 64 KiB or 4096, got \"lots\""),
        ("", "expected a size like 256MiB, 64 KiB or 4096, got \"\""),
        ("99999999999TiB", "size \"99999999999TiB\" is too large"),
    ])
    func sizesBad(_ text: String, _ message: String) {
        #expect(throws: ConfigValueError.self) { try Units.size(text) }
        do { _ = try Units.size(text) } catch { #expect(error.message == message) }
    }

    @Test("the hint for a decimal size unit says sizes are binary")
    func sizeDecimalHint() {
        do { _ = try Units.size("16MB"); Issue.record("accepted 16MB") } catch {
            #expect(error.hint == "sizes are binary: write KiB, MiB, GiB or K, M, G")
        }
    }

    @Test("durations: ns, us, ms, s, m and exact decimals")
    func durationsGood() throws {
        #expect(try Units.duration("5s") == 5_000_000_000)
        #expect(try Units.duration("100ms") == 100_000_000)
        #expect(try Units.duration("250us") == 250_000)
        #expect(try Units.duration("10ns") == 10)
        #expect(try Units.duration("1.5s") == 1_500_000_000)
        #expect(try Units.duration("2m") == 120_000_000_000)
        #expect(try Units.duration("0s") == 0)
    }

    @Test("durations: a unit is required; negative, fractional ns and unknown units are refused", arguments: [
        ("5", "duration \"5\" needs a unit"),
        ("1.5ns", "duration \"1.5ns\" is not a whole number of nanoseconds"),
        ("-1s", "duration must not be negative, got \"-1s\""),
        ("5sec", "unknown duration unit \"sec\" in \"5sec\""),
        ("soon", "expected a duration like 5s or 100ms, got \"soon\""),
    ])
    func durationsBad(_ text: String, _ message: String) {
        do { _ = try Units.duration(text); Issue.record("accepted \(text)") } catch { #expect(error.message == message) }
    }

    // MARK: CPU selectors

    static func twoNodes() throws -> Machine { try TopologyLoader.load(.synthetic("pack:2 [numa] core:4 pu:1")) }

    @Test("selectors: node:N is the node's CPUs, package:N the socket's, all every CPU, a cpulist its ids")
    func selectorsResolve() throws {
        let m = try Self.twoNodes()
        #expect(try CPUSelector.parse("node:1") == .node(1))
        #expect(try CPUSelector.parse("node:1").resolve(in: m) == [4, 5, 6, 7])
        #expect(try CPUSelector.parse("0-2,6") == .list([0, 1, 2, 6]))
        #expect(try CPUSelector.parse("0-2,6").resolve(in: m) == [0, 1, 2, 6])
        #expect(try CPUSelector.parse("package:0").resolve(in: m) == [0, 1, 2, 3])
        #expect(try CPUSelector.parse("all").resolve(in: m) == Array(0...7))
        #expect(try CPUSelector.parse("3-7,12").description == "3,4,5,6,7,12")
    }

    @Test("selectors: one that selects nothing is an error whose hint lists what exists")
    func selectorsSelectNothing() throws {
        let m = try Self.twoNodes()
        #expect(CPUSelector.node(5).resolve(in: m) == [])
        do { _ = try CPUSelector.node(5).check(in: m); Issue.record("node:5 accepted") } catch {
            #expect(error == ConfigValueError("node 5 does not exist", hint: "nodes 0-1, packages 0-1, cpus 0-7"))
        }
        do { _ = try CPUSelector.package(2).check(in: m); Issue.record("package:2 accepted") } catch {
            #expect(error.message == "package 2 does not exist")
        }
        do { _ = try CPUSelector.list([7, 8]).check(in: m); Issue.record("7-8 accepted") } catch {
            #expect(error.message == "CPU 8 does not exist")
        }
    }

    @Test("selectors: a memory-only node selects nothing")
    func selectorsMemoryOnlyNode() throws {
        // hwloc synthetic: node 1 has no PUs of its own when all cores sit under node 0.
        let m = try TopologyLoader.load(.synthetic("pack:1 [numa] [numa] core:2 pu:1"))
        let empty = m.nodes.first(where: \.isMemoryOnly)
        try #require(empty != nil, "fixture has no memory-only node: \(m.nodes)")
        do { _ = try CPUSelector.node(empty!.osIndex).check(in: m); Issue.record("memory-only node accepted") } catch {
            #expect(error.message == "node \(empty!.osIndex) has no CPUs (memory-only node)")
        }
    }

    static func guestFixture(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../TopologyTests/Fixtures/\(name).xml").standardizedFileURL.path
    }

    @Test("selectors: node:N is OS node N even where hwloc lists a CPU-less node before it")
    func selectorsUseOSNumbers() throws {
        // A guest with nodes 0 and 1 of two CPUs each and memory-only node 2, which hwloc
        // lists second (P#0, P#2, P#1) because its HMAT initiator is node 0.
        let m = try TopologyLoader.load(.xml(path: Self.guestFixture("qemu-3n-memonly-hmat")))
        #expect(try CPUSelector.node(1).check(in: m) == [2, 3])
        #expect(try CPUSelector.node(0).check(in: m) == [0, 1])
        do { _ = try CPUSelector.node(2).check(in: m); Issue.record("memory-only node 2 accepted") } catch {
            #expect(error == ConfigValueError("node 2 has no CPUs (memory-only node)",
                                              hint: "nodes 0-2 (2 memory-only), packages 0-1, cpus 0-3"))
        }
        do { _ = try CPUSelector.node(3).check(in: m); Issue.record("node 3 accepted") } catch {
            #expect(error.message == "node 3 does not exist")
        }
    }

    @Test("policies name OS nodes; the config holds the model's node index")
    func policiesUseOSNumbers() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("p.yaml")
        try """
            name: os-numbers
            topology: { xml: \(Self.guestFixture("qemu-3n-memonly-hmat")) }
            memory: { per_node: 16MiB, zones: { DMA: 0, DMA32: 0 } }
            workloads:
              - { name: a, cpus: "node:1", op: mmap, size: 8KiB, policy: "bind:2" }
              - { name: b, cpus: "node:0", op: mmap, size: 8KiB, policy: "interleave:1,2" }
              - { name: c, cpus: "node:1", op: mmap, size: 8KiB, policy: "preferred:1" }
            """.write(to: config, atomically: true, encoding: .utf8)
        let c = try ConfigLoader.load(path: config.path)
        // Model order is P#0, P#2, P#1: OS node 2 is index 1, OS node 1 is index 2.
        #expect(c.workloads.map { $0.mix[0].policy } == [.bind(1), .interleave([2, 1]), .preferred(2)])
        try """
            name: os-numbers
            topology: { xml: \(Self.guestFixture("qemu-3n-memonly-hmat")) }
            memory: { per_node: 16MiB, zones: { DMA: 0, DMA32: 0 } }
            workloads:
              - { name: a, cpus: "node:1", op: mmap, size: 8KiB, policy: "bind:3" }
            """.write(to: config, atomically: true, encoding: .utf8)
        do { _ = try ConfigLoader.load(path: config.path); Issue.record("bind:3 accepted") } catch {
            #expect("\(error)".contains("no node \"3\" (hint: first_touch, interleave, interleave:0,1, bind:N, preferred:N (nodes 0-2))"))
        }
    }

    @Test("selectors: bad syntax is refused", arguments: ["node:", "node:-1", "3-1", "x", "1,,2", ""])
    func selectorsBadSyntax(_ text: String) {
        #expect(throws: ConfigValueError.self) { try CPUSelector.parse(text) }
    }

    // MARK: Good configs

    static let designExample = """
        name: remote-free-2node
        topology: { synthetic: "pack:2 [numa] core:4 pu:1", distances: [[10, 21], [21, 10]] }
        memory:   { per_node: 64MiB, zones: { DMA: 4MiB, DMA32: 12MiB } }   # Normal takes the rest
        locks:    { zone: spin, node_partial: spin }                         # or mutex
        remote_cost: measured            # or model, or inject
        caches:   [ { name: skbuff_head_cache, size: 232, flags: [SLAB_HWCACHE_ALIGN] } ]
        run:      { duration: 5s, warmup: 1s, seed: 42 }
        workloads:
          - { name: rx, cpus: "node:0", op: kmem_cache_alloc, cache: skbuff_head_cache, gfp: GFP_ATOMIC, handoff: tx }
          - { name: tx, cpus: "node:1", op: kmem_cache_free, from: rx }
        """

    @Test("the DESIGN.md example loads into the config it describes")
    func designExampleRoundTrip() throws {
        let c = try Self.parse(Self.designExample, file: "d.yaml")
        var memory = MemoryConfig()
        memory.perNodeBytes = 64 << 20; memory.dmaBytes = 4 << 20; memory.dma32Bytes = 12 << 20
        var rx = WorkloadSpec(name: "rx", cpus: .node(0), mix: [OpSpec(kind: .kmemCacheAlloc, cache: "skbuff_head_cache")])
        rx.gfp = .atomic; rx.handoff = "tx"
        var tx = WorkloadSpec(name: "tx", cpus: .node(1), mix: [OpSpec(kind: .kmemCacheFree)])
        tx.from = "rx"
        var run = RunControl()
        run.durationNS = 5_000_000_000; run.warmupNS = 1_000_000_000; run.seed = 42
        var expected = StressConfig(
            name: "remote-free-2node", file: "d.yaml",
            topology: TopologySpec(source: .synthetic("pack:2 [numa] core:4 pu:1"), distances: [[10, 21], [21, 10]]),
            memory: memory, locks: LockSettings(), remoteCost: .measured,
            caches: [CacheSpec(name: "skbuff_head_cache", size: 232, flags: [.hwcacheAlign])],
            run: run, workloads: [rx, tx])
        expected.nodeCount = 2
        #expect(c == expected)
    }

    @Test("every key of the format is read into its field")
    func everyKey() throws {
        let yaml = """
            name: all-keys_1.0
            topology: { synthetic: "pack:2 [numa] core:4 pu:1" }
            memory:
              per_node: 32MiB
              zones: { DMA: 0, DMA32: 8MiB }
              max_order: 9
              prefault: false
              watermarks: { min: 16, low: 32, high: 48 }
              pcp: { batch: 31, high: 186 }
              oom_wait: 250ms
              kswapd: false
            locks: { zone: mutex, node_partial: mutex }
            remote_cost: inject
            caches:
              - { name: obj, size: 1KiB, align: 64, flags: [SLAB_POISON, SLAB_RED_ZONE], ctor: true }
            run: { operations: 1000, warmup: 0s, seed: 7, repetitions: 3, deterministic: true, sample_rate: 1, slub_debug: true, on_slab_error: abort }
            workloads:
              - name: mixed
                cpus: 3
                mix:
                  - { op: kmalloc, weight: 2, size: { uniform: [16, 512B] } }
                  - { op: alloc_pages, weight: 0.5, order: { weighted: [[0, 3], [2, 1]] } }
                  - { op: kmem_cache_alloc, cache: obj }
                  - { op: vmalloc, size: 64KiB }
                gfp: "GFP_KERNEL | __GFP_ZERO"
                atomic_share: 0.25
                lifetime: { keep: 64, order: lifo }
                touch: { bytes: 16, pattern: 0x6b }
                allocator: malloc
            """
        let c = try Self.parse(yaml)
        #expect(c.name == "all-keys_1.0")
        #expect(c.memory.perNodeBytes == 32 << 20 && c.memory.dmaBytes == 0 && c.memory.dma32Bytes == 8 << 20)
        #expect(c.memory.maxOrder == 9 && !c.memory.prefault && !c.memory.kswapd)
        #expect(c.memory.watermarks == Watermarks(min: 16, low: 32, high: 48))
        #expect(c.memory.pcpBatch == 31 && c.memory.pcpHigh == 186 && c.memory.oomWaitNS == 250_000_000)
        #expect(c.memory.zoneLock == .mutex && c.locks == LockSettings(zone: .mutex, nodePartial: .mutex))
        #expect(c.remoteCost == .inject)
        #expect(c.caches == [CacheSpec(name: "obj", size: 1024, align: 64, flags: [.poison, .redZone], ctor: true)])
        #expect(c.run.operations == 1000 && c.run.warmupNS == 0 && c.run.seed == 7 && c.run.repetitions == 3)
        #expect(c.run.deterministic && c.run.sampleRate == 1 && c.run.slubDebug && c.run.onSlabError == .abort)
        let w = try #require(c.workloads.first)
        #expect(w.cpus == .list([3]))
        #expect(w.mix == [
            OpSpec(kind: .kmalloc, weight: 2, size: .uniform(16, 512)),
            OpSpec(kind: .allocPages, weight: 0.5, order: .weighted([(0, 3), (2, 1)])),
            OpSpec(kind: .kmemCacheAlloc, cache: "obj"),
            OpSpec(kind: .vmalloc, size: .fixed(64 << 10)),
        ])
        #expect(w.gfp == GFP.kernel.union(.zero))
        #expect(w.atomicShare == 0.25 && w.lifetime == .keep(64, .lifo) && w.allocator == .malloc)
        #expect(w.touch == TouchSpec(bytes: 16, pattern: 0x6b))
    }

    @Test("a relative xml path is relative to the config file's folder")
    func xmlRelativePath() throws {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../TopologyTests/Fixtures/24em64t-2n6c2t-pci.xml").standardizedFileURL
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("machines"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let xml = dir.appendingPathComponent("machines/two-node.xml")
        try FileManager.default.copyItem(at: fixture, to: xml)
        let config = dir.appendingPathComponent("x.yaml")
        try """
            name: xml-topology
            topology: { xml: machines/two-node.xml }
            memory: { per_node: 16MiB, zones: { DMA: 0, DMA32: 0 } }
            workloads:
              - { name: a, cpus: "node:1", op: kmalloc }
            """.write(to: config, atomically: true, encoding: .utf8)
        let c = try ConfigLoader.load(path: config.path)
        #expect(c.topology.source == .xml(path: xml.standardizedFileURL.path))
        #expect(c.file == config.path)
    }

    @Test("a missing config file is an error at 1:1 of that file")
    func missingFile() {
        do { _ = try ConfigLoader.load(path: "/nonexistent/x.yaml"); Issue.record("loaded a missing file") } catch {
            #expect("\(error)" == "/nonexistent/x.yaml:1:1: error: cannot read config: no such file")
        }
    }
}
