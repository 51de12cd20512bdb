import Testing
import Foundation
@testable import Harness

/// `numastress sweep` below the command line: the grid, validation of every point before any
/// runs, the task folders, resume and the merge.
@Suite(.serialized) struct SweepTests {
    /// One node, two CPUs, a fixed number of operations in the deterministic mode: a point
    /// runs in a fraction of a second and its counters repeat exactly.
    static let yaml = """
        name: sweep-test
        topology: { synthetic: "pack:1 core:2 pu:1" }
        memory: { per_node: 32MiB, zones: { DMA: 0MiB, DMA32: 0MiB } }
        locks: { zone: spin }
        run: { deterministic: true, operations: 300, seed: 1, warmup: 0s }
        workloads:
          - { name: w, cpus: all, op: kmalloc, size: 64, lifetime: { keep: 16, order: fifo } }
        expect:
          - invariants.violations == 0
        """

    static func tempDir(_ tag: String) -> String {
        let d = NSTemporaryDirectory() + "numastress-sweep-\(tag)-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    static func axes(_ args: String...) throws -> [SweepAxis] { try SweepAxis.merged(args.map { a throws(SweepError) in try SweepAxis.parse(a) }) }

    static func options() -> Runner.Options {
        var o = Runner.Options()
        o.probeAccessCost = false
        o.ownSignalHandlers = false
        return o
    }

    @Test("The grid is the cartesian product of the axes, the last axis varying fastest, each point named by index and values")
    func expansion() throws {
        let points = SweepGrid.expand(try Self.axes("locks.zone=spin,mutex", "run.seed=1,2,3"))
        #expect(points.count == 6)
        #expect(points.map(\.name) == ["000-spin-1", "001-spin-2", "002-spin-3", "003-mutex-1", "004-mutex-2", "005-mutex-3"])
        #expect(points[4].settings == ["locks.zone=mutex", "run.seed=2"])
        #expect(points[4].choice == [1, 1])
        #expect(SweepGrid.expand(try Self.axes("workloads.w.gfp=GFP_KERNEL | __GFP_NOWARN"))[0].name == "000-GFP_KERNEL_GFP_NOWARN")
    }

    @Test("--grid splits values on top-level commas only, joins a key given twice, and refuses keys that describe the runs")
    func gridArguments() throws {
        let a = try SweepAxis.parse("workloads.w.cpus=\"0-1,3\",all")
        #expect(a.values.map(\.text) == ["\"0-1,3\"", "all"])
        let b = try SweepAxis.parse("workloads.w.lifetime={ keep: 8, order: fifo },{ keep: 16, order: lifo }")
        #expect(b.values.count == 2)
        #expect(try Self.axes("locks.zone=spin", "locks.zone=mutex").map { $0.values.map(\.text) } == [["spin", "mutex"]])
        #expect(throws: SweepError.self) { try SweepAxis.parse("name=a,b") }
        #expect(throws: SweepError.self) { try SweepAxis.parse("locks.zone") }
        #expect(throws: SweepError.self) { try SweepAxis.parse("locks.zone=spin,,mutex") }
        #expect(a.column == "workloads_w_cpus")
    }

    @Test("Every point is validated before anything runs: each bad one is named with its settings and the file position of the setting")
    func validationNamesBadPoints() throws {
        do {
            _ = try SweepPlan.make(file: "test.yaml", text: Self.yaml, axes: try Self.axes("locks.zone=spin,bogus", "run.seed=1,2"), repetitions: 1)
            Issue.record("a grid with a bad value was accepted")
        } catch let e as SweepError {
            #expect(e.description.contains("2 of 4 sweep points cannot run"))
            #expect(e.description.contains("point 002-bogus-1 (locks.zone=bogus, run.seed=1): test.yaml:4:16: error: locks.zone"))
            #expect(e.description.contains("point 003-bogus-2"))
            #expect(!e.description.contains("point 000"))
        }
        #expect(throws: SweepError.self) {
            _ = try SweepPlan.make(file: "test.yaml", text: Self.yaml, axes: try Self.axes("workloads.nope.gfp=GFP_KERNEL"), repetitions: 1)
        }
    }

    @Test("A config's sweep: section is the grid when no --grid is given, and a bad value in it is located at its line")
    func sweepSection() throws {
        let text = Self.yaml + "\nsweep: { locks.zone: [spin, mutex], run.seed: 7 }\n"
        let plan = try SweepPlan.make(file: "test.yaml", text: text, axes: [], repetitions: 1)
        #expect(plan.points.map(\.settings) == [["locks.zone=spin", "run.seed=7"], ["locks.zone=mutex", "run.seed=7"]])
        #expect(plan.configs[1].locks.zone == .mutex && plan.configs[1].run.seed == 7)
        let bad = Self.yaml + "\nsweep: { locks.zone: [spin, nope] }\n"
        do {
            _ = try SweepPlan.make(file: "test.yaml", text: bad, axes: [], repetitions: 1)
            Issue.record("accepted")
        } catch let e as SweepError {
            #expect(e.description.contains("test.yaml:10:29: error: locks.zone"), "\(e)")
        }
        // The section's shape is checked when any command loads the config.
        #expect(throws: ConfigError.self) { _ = try ConfigLoader.parse(yaml: Self.yaml + "\nsweep: [a]\n", file: "t", baseDirectory: ".") }
        #expect(throws: ConfigError.self) { _ = try ConfigLoader.parse(yaml: Self.yaml + "\nsweep: { name: [a, b] }\n", file: "t", baseDirectory: ".") }
    }

    @Test("Resume runs only the tasks without results; a finished task's folder is left untouched")
    func resumeRunsOnlyMissing() async throws {
        let root = Self.tempDir("resume")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let plan = try SweepPlan.make(file: "test.yaml", text: Self.yaml, axes: try Self.axes("locks.zone=spin,mutex", "run.seed=1,2"), repetitions: 1)
        let folder = try SweepFolder.create(plan, root: root, options: .init(probeAccessCost: false))
        let first = await SweepRunner.runLocal(folder, tasks: folder.manifest.tasks, options: Self.options(), progress: false)
        #expect(first.map(\.state) == ["done", "done", "done", "done"])
        #expect(folder.missing.isEmpty)
        // A task killed mid-run leaves no folder and a record that says it started.
        let stamp = try FileManager.default.attributesOfItem(atPath: folder.folder(folder.manifest.tasks[0]) + "/result.json")[.modificationDate] as? Date
        try FileManager.default.removeItem(atPath: folder.folder(folder.manifest.tasks[2]))
        folder.write(.init(state: "running", host: "node7", started: "20260101T000000Z"), for: 2)
        let reopened = try SweepFolder.open(folder.path)
        #expect(reopened.missing.map(\.index) == [2])
        #expect(reopened.whyMissing(reopened.manifest.tasks[2]).contains("started on node7"))
        let merged = try SweepMerge.merge(reopened)
        #expect(merged.unfinished.map(\.task.index) == [2])
        #expect(merged.unfinished[0].label.contains("point 002-mutex-1 (locks.zone=mutex, run.seed=1)"))
        let again = await SweepRunner.runLocal(reopened, tasks: reopened.missing, options: Self.options(), progress: false)
        #expect(again.count == 1 && again[0].state == "done")
        #expect(reopened.missing.isEmpty)
        let after = try FileManager.default.attributesOfItem(atPath: folder.folder(folder.manifest.tasks[0]) + "/result.json")[.modificationDate] as? Date
        #expect(stamp == after, "a finished point must not run again")
    }

    @Test("The merge writes one row per point × repetition with the grid, host and key figures; a missing task keeps its row")
    func mergeColumnsAndRows() async throws {
        let root = Self.tempDir("merge")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let plan = try SweepPlan.make(file: "test.yaml", text: Self.yaml, axes: try Self.axes("locks.zone=spin,mutex"), repetitions: 2)
        let folder = try SweepFolder.create(plan, root: root, options: .init(probeAccessCost: false))
        #expect(folder.manifest.tasks.map(\.folder) == ["000-spin/rep1", "000-spin/rep2", "001-mutex/rep1", "001-mutex/rep2"])
        _ = await SweepRunner.runLocal(folder, tasks: Array(folder.manifest.tasks.prefix(3)), options: Self.options(), progress: false)
        let out = try SweepMerge.merge(folder)
        #expect(Array(out.header.prefix(9)) == ["run_id", "sweep_id", "point", "repetition", "config", "variant", "locks_zone", "host", "complete"])
        for c in ["throughput_ops_per_sec", "atomic_p50_ns", "blocking_p99_ns", "zone_lock_contended_pct", "zone_lock_spins",
                  "zone_lock_sleeps", "zone_lock_wait_ns", "alloc_failures", "reclaim_passes", "remote_frees", "expectations_passed", "status"] {
            #expect(out.header.contains(c), "column \(c)")
        }
        #expect(out.header.allSatisfy { $0 == $0.lowercased() && !$0.contains(" ") && !$0.contains(".") })
        #expect(out.rows.count == 4)
        let col = { (name: String) in out.header.firstIndex(of: name)! }
        #expect(out.rows.map { $0[col("status")] } == ["ok", "ok", "ok", "missing"])
        #expect(out.rows.map { $0[col("locks_zone")] } == ["spin", "spin", "mutex", "mutex"])
        #expect(out.rows[0][col("host")] == ProcessInfo.processInfo.hostName)
        #expect(out.rows[0][col("config")] == "sweep-test")
        #expect(out.rows[0][col("run_id")] == "\(folder.manifest.sweepId)/000-spin/rep1")
        #expect(out.rows[0][col("expectations_passed")] == "1" && out.rows[0][col("expectations_total")] == "1")
        // Deterministic runs: both repetitions of a point count the same operations.
        #expect(out.rows[0][col("total_ops")] == out.rows[1][col("total_ops")])
        #expect(out.rows[3][col("reason")] == "never ran")
        let csv = try String(contentsOfFile: folder.path + "/sweep.csv", encoding: .utf8)
        #expect(csv.split(separator: "\n").count == 5)
        let md = try String(contentsOfFile: folder.path + "/sweep.md", encoding: .utf8)
        #expect(md.contains("## Not finished") && md.contains("point 001-mutex (locks.zone=mutex) rep 2: never ran"))
    }

    @Test("A point of a vary: config is a contrast: one row per variant, named in the variant column")
    func varyPointsHaveVariantRows() async throws {
        let root = Self.tempDir("vary")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let text = Self.yaml.replacingOccurrences(of: "expect:\n  - invariants.violations == 0", with: "vary: { workloads.w.size: { small: 32, large: 128 } }")
        let plan = try SweepPlan.make(file: "test.yaml", text: text, axes: try Self.axes("locks.zone=spin"), repetitions: 1)
        let folder = try SweepFolder.create(plan, root: root, options: .init(probeAccessCost: false))
        _ = await SweepRunner.runLocal(folder, tasks: folder.manifest.tasks, options: Self.options(), progress: false)
        let out = try SweepMerge.merge(folder)
        let v = out.header.firstIndex(of: "variant")!
        #expect(out.rows.map { $0[v] } == ["large", "small"])
        #expect(out.rows.map { $0[out.header.firstIndex(of: "run_id")!] }.allSatisfy { $0.hasSuffix("/000-spin/large") || $0.hasSuffix("/000-spin/small") })
    }

    @Test("A task that fails on its node (its topology file is not there) is named in the merge as failed with the reason; --resume runs only it")
    func failedTaskNamedAndResumed() async throws {
        let root = Self.tempDir("failed")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("TopologyTests/Fixtures/qemu-3n-memonly.xml").path
        let xml = root + "/machine.xml"
        try FileManager.default.copyItem(atPath: fixture, toPath: xml)
        let text = Self.yaml.replacingOccurrences(of: "{ synthetic: \"pack:1 core:2 pu:1\" }", with: "{ xml: machine.xml }")
        try text.write(toFile: root + "/cfg.yaml", atomically: true, encoding: .utf8)
        let plan = try SweepPlan.make(file: root + "/cfg.yaml", axes: try Self.axes("locks.zone=spin,mutex"), repetitions: 1)
        let folder = try SweepFolder.create(plan, root: root + "/out", options: .init(probeAccessCost: false))
        let t = folder.manifest.tasks
        #expect(await SweepRunner.runTask(folder, t[0], options: Self.options()).state == "done")
        try FileManager.default.removeItem(atPath: xml)
        let failed = await SweepRunner.runTask(folder, t[1], options: Self.options())
        #expect(failed.state == "failed" && (failed.reason ?? "").contains("machine.xml"), "\(failed)")
        let merged = try SweepMerge.merge(folder)
        let status = merged.header.firstIndex(of: "status")!
        #expect(merged.rows.map { $0[status] } == ["ok", "failed"])
        #expect(merged.unfinished.map(\.label) == ["point 001-mutex (locks.zone=mutex)"])
        #expect(merged.unfinished[0].why.contains("failed on \(ProcessInfo.processInfo.hostName)"))
        try FileManager.default.copyItem(atPath: fixture, toPath: xml)
        let again = await SweepRunner.runLocal(folder, tasks: folder.missing, options: Self.options(), progress: false)
        #expect(again.count == 1 && again[0].state == "done")
        #expect(try SweepMerge.merge(folder).rows.map { $0[status] } == ["ok", "ok"])
    }
}
