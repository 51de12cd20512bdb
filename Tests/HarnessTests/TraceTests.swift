import Testing
import Foundation
@testable import Harness
import KernelMM
import Topology

/// Recorded kmem traces: parsing lines of two kernel versions, the real 2-node fixture (see
/// Fixtures/README.md), pairing, a replay end to end, the slab geometry, damaged files.
@Suite(.serialized) struct TraceTests {
    static let fixture = Bundle.module.url(forResource: "Fixtures/kmem-2node", withExtension: "trace")!.path
    static let codXML = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("TopologyTests/Fixtures/28intel64-2p2g7c-CoDgroups.v1tov2.xml").path

    static func parse(_ line: String) -> TraceLineParser.Outcome {
        var p = TraceLineParser()
        var bytes = Array(line.utf8)
        return bytes.withUnsafeMutableBufferPointer { p.parse(UnsafeBufferPointer($0), number: 1) }
    }

    @Test("A 6.18 kmem_cache_alloc line: CPU, pid, time, pointer, sizes, the %pGg mask")
    func parsesCurrentLine() throws {
        let line = " dpkg-21695 [000] ..... 1185.412431: kmem_cache_alloc: call_site=alloc_buffer_head+0x1d/0x90 ptr=000000005c7eca90 name=buffer_head bytes_req=104 bytes_alloc=104 gfp_flags=GFP_NOFS|__GFP_ZERO|__GFP_NOFAIL|__GFP_HARDWALL|__GFP_ACCOUNT node=-1 accounted=true"
        guard case .event(let e) = Self.parse(line) else { Issue.record("not an event"); return }
        #expect(e.kind == .cacheAlloc && e.cpu == 0 && e.pid == 21695)
        #expect(e.timeNS == 1_185_412_431_000)
        #expect(e.address == 0x5c7e_ca90 && e.bytesReq == 104 && e.bytesAlloc == 104 && e.node == -1)
        #expect(e.gfp == GFP([.nofs, .zero, .nofail, .hardwall, .account]))
        #expect(e.nameID == 0)
    }

    @Test("A page event, a 6.1 line with a module after the call site, a comm with spaces, and bad lines")
    func parsesVariants() {
        guard case .event(let p) = Self.parse(" dpkg-21695 [003] ..... 1185.412431: mm_page_alloc: page=00000000e1b21652 pfn=0x290559 order=2 migratetype=0 gfp_flags=GFP_NOFS|__GFP_NOFAIL|__GFP_COMP|__GFP_HARDWALL") else {
            Issue.record("page line"); return
        }
        #expect(p.kind == .pageAlloc && p.cpu == 3 && p.address == 0x290559 && p.order == 2)
        guard case .event(let k) = Self.parse("              sh-146     [002] .....    55.480026: kfree: call_site=p9_client_clunk+0x49/0x70 [9pnet] ptr=000000001b2bf8c1") else {
            Issue.record("module suffix"); return
        }
        #expect(k.kind == .kfree && k.address == 0x1b2b_f8c1 && k.timeNS == 55_480_026_000)
        guard case .event(let c) = Self.parse(" kworker/u8:1 x-77 [001] d..1. 10.000001: kmalloc: call_site=f+0x1/0x2 ptr=00000000000000aa bytes_req=7 bytes_alloc=8 gfp_flags=GFP_ATOMIC|__GFP_NO_OBJ_EXT node=-1") else {
            Issue.record("comm with spaces"); return
        }
        #expect(c.pid == 77 && c.gfp == .atomic)
        if case .event = Self.parse("garbage") { Issue.record("garbage parsed") }
        if case .event = Self.parse(" a-1 [000] ..... 1.000001: kmalloc: ptr=zz bytes_alloc=8") { Issue.record("bad hex parsed") }
        if case .event = Self.parse(" a-1 [000] ..... 1.000001: kfree: call_site=x") { Issue.record("kfree without ptr parsed") }
        if case .foreign = Self.parse(" a-1 [000] ..... 1.000001: sched_switch: prev=a") {} else { Issue.record("foreign event") }
    }

    @Test("The fixture's header and events: a 6.1 kernel, 4 CPUs on 2 nodes, 5306 events, nothing lost or malformed")
    func readsFixture() throws {
        var reader = TraceReader(path: Self.fixture)
        var byKind: [TraceEvent.Kind: Int] = [:]
        try reader.read { e, _ in byKind[e.kind, default: 0] += 1 }
        let h = reader.header
        #expect(h.kernel == "6.1.0-57-amd64" && h.cpus == 4 && h.nodes == 2 && h.cpuNodes == [0, 0, 1, 1])
        #expect(h.lostEvents == 0)
        #expect(h.snapshots["slabinfo"]?.hasPrefix("slabinfo - version: 2.1") == true)
        #expect(h.snapshots["zoneinfo"]?.contains("Node 1") == true)
        #expect(reader.counts.events == 5306 && reader.counts.malformed == 0)
        #expect(byKind[.kmalloc] == 891 && byKind[.cacheAlloc] == 1421 && byKind[.pageAlloc] == 277)
    }

    static func twoNode() throws -> Topology.Machine {
        try TopologyLoader.load(.synthetic("pack:2 [numa] core:2 pu:1"), distances: nil)
    }

    @Test("Pairing: every allocation is freed in the trace, held to the end, or overwritten; frees of older objects are skipped")
    func pairs() throws {
        let plan = try ReplayPlan(path: Self.fixture, machine: Self.twoNode())
        let f = plan.figures
        let allocs = (f.replayed["kmalloc"] ?? 0) + (f.replayed["kmem_cache_alloc"] ?? 0) + (f.replayed["alloc_pages"] ?? 0)
        let overwritten = f.skipped[ReplayPlan.Skip.overwritten.rawValue] ?? 0
        #expect(allocs == (f.replayed["free"] ?? 0) + f.liveAtEnd + overwritten)
        #expect(f.skipped[ReplayPlan.Skip.preTraceFree.rawValue] ?? 0 > 0)
        #expect(f.skipped[ReplayPlan.Skip.modelInternal.rawValue] == 158)
        #expect(f.cpuMap == [0, 1, 2, 3])
        #expect(f.tracedRemoteFrees > 0 && f.remoteFrees == f.tracedRemoteFrees)
        // Every slot is allocated on one CPU and freed on one.
        var allocSlots = Set<Int32>(), freeSlots = Set<Int32>()
        for (_, ops) in plan.streams {
            for op in ops where op.slot >= 0 { if op.kind == .free { freeSlots.insert(op.slot) } else { allocSlots.insert(op.slot) } }
        }
        #expect(allocSlots == freeSlots && allocSlots.count == plan.slotCount)
        #expect(plan.caches.contains { $0.name == "vm_area_struct" && $0.objectSize == 152 })
    }

    @Test("On one node with one CPU every trace CPU lands on CPU 0 and no free is remote")
    func mapsOntoSmallerShape() throws {
        let one = try TopologyLoader.load(.synthetic("pack:1 [numa] core:1 pu:1"), distances: nil)
        let plan = try ReplayPlan(path: Self.fixture, machine: one)
        #expect(plan.figures.cpuMap == [0, 0, 0, 0] && plan.figures.remoteFrees == 0 && plan.cpus == [0])
    }

    static func quick() -> Runner.Options {
        var o = Runner.Options()
        o.probeAccessCost = false
        return o
    }

    @Test("The fixture replays on its recorded shape: every operation runs, invariants hold, the figures are in the result")
    func replays() async throws {
        let p = try Replay.prepare(trace: Self.fixture)
        #expect(p.config.topology.source == .synthetic("pack:2 [numa] core:2 pu:1"))
        let o = try await Replay.run(p, options: Self.quick())
        let r = o.run.result
        #expect(r.complete && r.invariants.passed, "\(r.invariants.violations.prefix(5))")
        #expect(r.replay?.events == 5306)
        #expect(r.throughput.totalOps == UInt64(p.plan.operationCount))
        #expect(ResultWriter.json(r).contains("\"replay\""))
    }

    @Test("The fixture replays on the 4-node CoD XML with mutex locks")
    func replaysOnCoDWithMutex() async throws {
        var opts = Replay.Options()
        opts.topology = .xml(path: Self.codXML)
        opts.locks = .mutex
        let p = try Replay.prepare(trace: Self.fixture, options: opts)
        #expect(p.config.locks.zone == .mutex)
        let o = try await Replay.run(p, options: Self.quick())
        #expect(o.run.result.complete && o.run.result.invariants.passed)
        #expect(o.run.result.throughput.totalOps == UInt64(p.plan.operationCount))
    }

    @Test("Geometry: kmalloc caches and most named caches match the 6.1 guest; constructor caches differ by their free pointer")
    func geometry() async throws {
        let p = try Replay.prepare(trace: Self.fixture)
        let o = try await Replay.run(p, options: Self.quick())
        let rows = Dictionary(uniqueKeysWithValues: o.geometry.map { ($0.name, $0) })
        #expect(rows["kmalloc-64"]?.differences.isEmpty == true)
        #expect(rows["vm_area_struct"]?.differences.isEmpty == true)
        #expect(rows["anon_vma"]?.differences.first == "objsize 104 vs 96")
        #expect(SlabGeometry.table(o.geometry).contains("caches have the real kernel's geometry"))
    }

    @Test("A damaged trace: bad lines are skipped and counted; with strict the first is FILE:LINE")
    func damaged() throws {
        let text = try String(contentsOfFile: Self.fixture, encoding: .utf8)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let first = lines.firstIndex { !$0.hasPrefix("#") }!
        lines.insert("this is not a trace line", at: first + 10)
        lines[first + 20] = String(lines[first + 20].prefix(40))
        let path = NSTemporaryDirectory() + "damaged-\(getpid()).trace"
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let plan = try ReplayPlan(path: path, machine: Self.twoNode())
        #expect(plan.figures.malformedLines == 2)
        #expect(plan.figures.events == 5305)
        do {
            _ = try ReplayPlan(path: path, machine: Self.twoNode(), strict: true)
            Issue.record("strict accepted a damaged trace")
        } catch let e as TraceReader.Malformed {
            #expect(e.line == first + 11)
            #expect(e.description.hasPrefix("\(path):\(first + 11): "))
        }
    }

    static func mixed(warmup: String, duration: String = "30ms") -> String {
        """
        name: traced-plus-synthetic
        topology: { synthetic: "pack:2 [numa] core:2 pu:1" }
        memory: { per_node: 64MiB }
        run: { duration: \(duration), warmup: \(warmup) }
        workloads:
          - { name: traced, op: replay, trace: kmem-2node.trace }
          - { name: noise, cpus: "node:1", op: kmalloc, size: 256, lifetime: { keep: 64 } }
        """
    }

    @Test("A config may replay a trace beside synthetic load; cut short by its duration, every object still comes back")
    func configWorkload() async throws {
        let dir = URL(fileURLWithPath: Self.fixture).deletingLastPathComponent().path
        let c = try ConfigLoader.parse(yaml: Self.mixed(warmup: "0s"), file: "mixed.yaml", baseDirectory: dir)
        #expect(c.workloads[0].replay != nil && c.caches.contains { $0.name == "vm_area_struct" })
        let r = try await Runner.run(c, options: Self.quick()).result
        #expect(r.complete && r.invariants.passed, "\(r.invariants.violations.prefix(5))")
        #expect(throws: ConfigError.self) {
            try ConfigLoader.parse(yaml: Self.mixed(warmup: "1s"), file: "mixed.yaml", baseDirectory: dir)
        }
    }
}
