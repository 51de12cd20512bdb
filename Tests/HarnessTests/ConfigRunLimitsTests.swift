import Foundation
import KernelMM
import Testing
@testable import Harness

/// Whatever `validate` accepts, `run` runs: each value below once passed validation and then
/// trapped, hung or was refused when the run started. Now each is refused where it is written.
@Suite struct ConfigRunLimitsTests {
    static let head = ConfigLoaderTests.head
    /// Lines 4-5 after `head`: a workload whose op fields are `ops`.
    static func workload(_ ops: String) -> String { "workloads:\n  - { name: a, \(ops) }\n" }
    static func memory(_ settings: String) -> String {
        "name: t\ntopology: { synthetic: \"pack:2 [numa] core:4 pu:1\" }\nmemory: { per_node: 16MiB, zones: { DMA: 0, DMA32: 0 }, \(settings) }\n"
            + workload("op: kmalloc")
    }

    static let bad: [BadConfig] = [
        BadConfig(rule: "per_node × nodes overflowing is more than the host has, not a trap",
                  yaml: "name: t\ntopology: { synthetic: \"pack:2 [numa] core:1 pu:1\" }\nmemory: { per_node: 8000000TiB }\n" + workload("op: kmalloc"),
                  expected: "t.yaml:3:21: error: memory: 2 node(s) x 8388608000000 MiB is more than this host can give"),
        BadConfig(rule: "zone sizes whose sum overflows exceed the node",
                  yaml: "name: t\nmemory: { per_node: 16MiB, zones: { DMA: 9223372036854771712, DMA32: 9223372036854771712 } }\n",
                  expected: "t.yaml:2:35: error: memory: zones DMA (8796093022207 MiB) + DMA32 (8796093022207 MiB) exceed memory per node (16 MiB)"),
        BadConfig(rule: "a PCP batch above the node's pages (6 × batch overflowed)",
                  yaml: memory("pcp: { batch: 9223372036854775807 }"),
                  expected: "t.yaml:3:62: error: memory: pcp batch must be 1…4096 (the node's pages), got 9223372036854775807"),
        BadConfig(rule: "a PCP high above the node's pages",
                  yaml: memory("pcp: { high: 4097 }"),
                  expected: "t.yaml:3:62: error: memory: pcp high must be 1…4096 (the node's pages), got 4097"),
        BadConfig(rule: "watermarks above the node's pages",
                  yaml: memory("watermarks: { min: 1, low: 2, high: 9223372036854775807 }"),
                  expected: "t.yaml:3:69: error: memory: watermarks must satisfy 0 <= min <= low <= high <= 4096 (the node's pages), got 1/2/9223372036854775807"),
        BadConfig(rule: "memory too small for the kernel's page-table root above the min watermarks",
                  yaml: "name: t\ntopology: { synthetic: \"pack:1 core:1 pu:1\" }\nmemory: { per_node: 64KiB, zones: { DMA: 0, DMA32: 0 } }\n" + workload("op: kmalloc"),
                  expected: "t.yaml:3:21: error: memory: 1 node(s) x 64 KiB leave 0 page(s) above the zones' min watermarks; starting needs 1 for page tables"),
        BadConfig(rule: "watermarks that keep every page leave none for page tables",
                  yaml: memory("watermarks: { min: 4096, low: 4096, high: 4096 }"),
                  expected: "t.yaml:3:69: error: memory: 2 node(s) x 16384 KiB leave 0 page(s) above the zones' min watermarks; starting needs 1"),
        BadConfig(rule: "each mmap workload's address space needs a page-table root at start",
                  yaml: "name: t\ntopology: { synthetic: \"pack:1 core:1 pu:1\" }\nmemory: { per_node: 136KiB, zones: { DMA: 0, DMA32: 0 } }\n"
                      + "workloads:\n  - { name: a, op: mmap }\n  - { name: b, op: mmap }\n",
                  expected: "t.yaml:3:21: error: memory: 1 node(s) x 136 KiB leave 2 page(s) above the zones' min watermarks; starting needs 3 for page tables"),
        BadConfig(rule: "an OOM wait longer than 30 days",
                  yaml: memory("oom_wait: 800h"),
                  expected: "t.yaml:3:67: error: memory.oom_wait: must be at most 30 days, got 2880000 s"),
        BadConfig(rule: "a vmalloc of 2 GiB or more cannot be recorded (the run stores sizes in 32 bits)",
                  yaml: head + workload("op: vmalloc, size: 3GiB"),
                  expected: "t.yaml:5:35: error: workloads[0].size: vmalloc of 3 GiB is more than a run can record: sizes must be below 2 GiB"),
        BadConfig(rule: "an mmap of 2 GiB likewise",
                  yaml: head + workload("op: mmap, size: 2GiB"),
                  expected: "t.yaml:5:32: error: workloads[0].size: mmap of 2 GiB is more than a run can record: sizes must be below 2 GiB"),
        BadConfig(rule: "the top of a uniform size range is checked too",
                  yaml: head + workload("op: mmap, size: { uniform: [1, 2147483648] }"),
                  expected: "t.yaml:5:47: error: workloads[0].size.uniform[1]: mmap of 2 GiB is more than a run can record"),
        BadConfig(rule: "a vmalloc larger than the modelled machine can never succeed",
                  yaml: head + workload("op: vmalloc, size: 64MiB"),
                  expected: "t.yaml:5:35: error: workloads[0].size: vmalloc of 64 MiB can never succeed: the modelled machine has 32 MiB"),
        BadConfig(rule: "a kmalloc larger than a node can never succeed, whatever max_order allows",
                  yaml: memory("max_order: 20").replacingOccurrences(of: "op: kmalloc", with: "op: kmalloc, size: 1GiB"),
                  expected: "t.yaml:5:35: error: workloads[0].size: kmalloc of 1 GiB can never succeed: the modelled node has 16 MiB"),
        BadConfig(rule: "a SLIT distance above 255 (10^11 made a 1 s injected run take 31 s)",
                  yaml: "name: t\ntopology: { synthetic: \"pack:2 [numa] core:1 pu:1\", distances: [[10, 100000000000], [21, 10]] }\n",
                  expected: "t.yaml:2:70: error: topology.distances: remote distance [0][1] must be 11…255, got 100000000000"),
        BadConfig(rule: "a remote SLIT distance of 10 or less",
                  yaml: "name: t\ntopology: { synthetic: \"pack:2 [numa] core:1 pu:1\", distances: [[10, 21], [5, 10]] }\n",
                  expected: "t.yaml:2:76: error: topology.distances: remote distance [1][0] must be 11…255, got 5"),
        BadConfig(rule: "a local SLIT distance other than 10",
                  yaml: "name: t\ntopology: { synthetic: \"pack:2 [numa] core:1 pu:1\", distances: [[10, 21], [21, 11]] }\n",
                  expected: "t.yaml:2:80: error: topology.distances: local distance [1][1] must be 10, got 11"),
        BadConfig(rule: "a user cache cannot take a kmalloc cache's name",
                  yaml: head + "caches: [ { name: kmalloc-64, size: 64 } ]\n",
                  expected: #"t.yaml:4:19: error: caches[0].name: "kmalloc-64" is reserved: the model creates the kmalloc-* and dma-kmalloc-* caches itself"#),
        BadConfig(rule: "nor a DMA kmalloc cache's",
                  yaml: head + "caches: [ { name: dma-kmalloc-1k, size: 64 } ]\n",
                  expected: #"t.yaml:4:19: error: caches[0].name: "dma-kmalloc-1k" is reserved"#),
        BadConfig(rule: "more caches than the slab registry holds",
                  yaml: head + "caches: [" + (0...SlabAllocator.maxUserCaches).map { "{ name: c\($0), size: 8 }" }.joined(separator: ", ") + "]\n",
                  expected: "t.yaml:4:9: error: caches: at most \(SlabAllocator.maxUserCaches) caches, got \(SlabAllocator.maxUserCaches + 1)"),
        BadConfig(rule: "mix weights whose sum is infinite",
                  yaml: head + workload("mix: [ { op: kmalloc, weight: 1e308 }, { op: kmalloc, weight: 1e308 } ]"),
                  expected: "t.yaml:5:21: error: workloads[0].mix: the weights add up to more than a number can hold"),
        BadConfig(rule: "weighted draws whose weights sum to infinity",
                  yaml: head + workload("op: kmalloc, size: { weighted: [[8, 1e308], [16, 1e308]] }"),
                  expected: "t.yaml:5:47: error: workloads[0].size.weighted: the weights add up to more than a number can hold"),
        BadConfig(rule: "sample_rate is at most one in a million",
                  yaml: head + "run: { sample_rate: 2000000 }\n",
                  expected: "t.yaml:4:21: error: run.sample_rate: must be 1…1000000, got 2000000"),
        BadConfig(rule: "a duration whose deadline would overflow",
                  yaml: head + "run: { duration: 5100000h }\n",
                  expected: "t.yaml:4:18: error: run.duration: must be at most 30 days, got 18360000000 s"),
        BadConfig(rule: "a warm-up longer than 30 days",
                  yaml: head + "run: { warmup: 31d }\n".replacingOccurrences(of: "31d", with: "745h"),
                  expected: "t.yaml:4:16: error: run.warmup: must be at most 30 days, got 2682000 s"),
        BadConfig(rule: "operations per CPU are bounded (the progress line multiplies them)",
                  yaml: head + "run: { operations: 9223372036854775807 }\n",
                  expected: "t.yaml:4:20: error: run.operations: must be 1…1000000000000, got 9223372036854775807"),
        BadConfig(rule: "a seed beyond 64 bits",
                  yaml: head + "run: { seed: 18446744073709551616 }\n",
                  expected: #"t.yaml:4:14: error: run.seed: expected an integer 0…18446744073709551615, got "18446744073709551616""#),
        BadConfig(rule: "an interleave policy over no node",
                  yaml: head + workload(#"op: mmap, policy: "interleave:,""#),
                  expected: "t.yaml:5:34: error: workloads[0].policy: interleave over no node"),
    ]

    @Test("each value that used to break run is refused at its key or value", arguments: bad)
    func refused(_ c: BadConfig) throws {
        do {
            _ = try ConfigLoaderTests.parse(c.yaml)
            Issue.record("accepted a config that breaks: \(c.rule)")
        } catch let e as ConfigError {
            #expect(e.description.hasPrefix(c.expected), "\(e.description)")
        } catch {
            Issue.record("not a ConfigError: \(error)")
        }
    }

    @Test("every kmalloc cache the model makes at boot is a reserved name")
    func kmallocNamesReserved() {
        for name in SlabAllocator.kmallocCacheNames {
            #expect(ConfigReader.reservedCachePrefixes.contains { name.hasPrefix($0) }, "\(name)")
        }
    }

    @Test("values at the edge of each bound are accepted")
    func edges() throws {
        let c = try ConfigLoaderTests.parse(Self.head + "run: { seed: 18446744073709551615, sample_rate: 1000000, duration: 720h }\n"
            + Self.workload("mix: [ { op: vmalloc, size: 32MiB }, { op: mmap, size: 2147483647 } ]"))
        #expect(c.run.seed == .max && c.run.sampleRate == 1_000_000 && c.run.durationNS == ConfigLimits.maxDurationNS)
        #expect(c.workloads[0].mix.map(\.size) == [.fixed(32 << 20), .fixed(Int(Int32.max))])
        let d = try ConfigLoaderTests.parse("name: t\ntopology: { synthetic: \"pack:2 [numa] core:1 pu:1\", distances: [[10, 255], [11, 10]] }\n"
            + Self.workload("op: kmalloc"))
        #expect(d.topology.distances == [[10, 255], [11, 10]])
    }
}
