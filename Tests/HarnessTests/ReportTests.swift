import Testing
import Foundation
@testable import Harness
import KernelMM

/// `numastress report`: the numbers behind each plot come from the Results folder as written,
/// and a real run's report holds its plots as PNG images inside one offline HTML page.
@Suite(.serialized) struct ReportTests {
    @Test("An .hgrm percentile file becomes (value, percent) points; header and footer lines are skipped")
    func hgrm() {
        let text = """
               Value     Percentile TotalCount 1/(1-Percentile)

              10.000 0.000000000000          3           1.00
             120.000 0.500000000000         50           2.00
            4000.000 1.000000000000        100            inf
        #[Mean    =      150.000, StdDeviation   =       20.000]
        #[Max     =     4000.000, Total count    =          100]
        """
        let points = PlotData.cdf(hgrm: text)
        #expect(points.count == 3)
        #expect(points[1].ns == 120 && points[1].pct == 50)
        #expect(points.last!.pct == 100)
        #expect(PlotData.totalCount(hgrm: text) == 100)
        // On the 1/(1-p) axis the median sits at 2 and the maximum at the sample count.
        let curve = LatencyPlot.points(PlotData.CDF(op: "kmalloc", gfpClass: "atomic", points: points, samples: 100))
        #expect(curve.map(\.x) == [1, 2, 100])
    }

    @Test("Lock waits: one sum per policy, then the most contended locks; uncontended locks and a policy's only lock are not drawn twice")
    func lockWaits() throws {
        func lock(_ name: String, _ policy: LockPolicy, contended: UInt64, waits: [UInt64]) -> LockSnapshot {
            let json = """
                {"name": "\(name)", "policy": "\(policy.rawValue)", "acquisitions": 100, "contended": \(contended), "spins": 0,
                 "sleeps": 0, "wait_ns": 0, "hold_ns": 0, "max_wait_ns": 0, "max_hold_ns": 0, "wait_histogram": \(waits), "hold_histogram": []}
                """
            return try! JSONCoding.decode(LockSnapshot.self, from: Data(json.utf8))
        }
        let hs = PlotData.lockWaits([lock("zone 0 Normal", .spin, contended: 5, waits: [95, 0, 5]),
                                     lock("kmalloc-64 node 0 partial", .spin, contended: 0, waits: [100, 0, 0]),
                                     lock("zone 1 Normal", .mutex, contended: 9, waits: [91, 4, 5])])
        #expect(hs.map(\.label) == ["all spin locks", "all mutex locks (zone 1 Normal only)", "zone 0 Normal (spin)"])
        #expect(hs[0].buckets == [195, 0, 5])
        // Each bucket is a step across its own range; an empty bucket breaks the outline.
        #expect(LockPlot.steps([9, 5, 0, 2]) == "1 5\n2 5\n\n4 2\n8 2")
        // Nothing waited and no hold recorded: no plot, since zeros cannot sit on a log axis.
        #expect(LockPlot.make([PlotData.WaitHistogram(label: "all spin locks", policy: "spin", buckets: [10, 0])]) == nil)
        // Holds alone still give a (one-panel) plot.
        let holds = try #require(LockPlot.make([PlotData.WaitHistogram(label: "all spin locks", policy: "spin", buckets: [10, 0], hold: [0, 4, 6])]))
        #expect(holds.data.keys.sorted() == ["lock-holds.dat"] && holds.script.contains("no acquisition had to wait"))
    }

    @Test("scaling.csv gives one curve per workload; a malformed line names its line number")
    func scaling() throws {
        let curves = try PlotData.scaling(csv: "workload,cpus,ops_per_sec\nlocal,1,100\nlocal,2,190\nremote,2,80\n")
        #expect(curves.map(\.workload) == ["local", "remote"])
        #expect(curves[0].points.map(\.cpus) == [1, 2])
        #expect(throws: ReportError.self) { try PlotData.scaling(csv: "workload,cpus,ops_per_sec\nlocal,x,1\n") }
    }

    @Test("Axes speak in units: ns/µs/ms ticks, percentiles a decade apart, rates scaled by the largest")
    func axes() {
        #expect(PlotAxes.time(500) == "500 ns" && PlotAxes.time(1000) == "1 µs" && PlotAxes.time(1_500_000) == "1.5 ms" && PlotAxes.time(33_554) == "33.6 µs")
        let y = PlotAxes.timeTics(axis: "y", lo: 40, hi: 30_000)
        #expect(y.contains("\"100 ns\" 100.0") && y.contains("\"1 µs\" 1000.0") && y.contains("\"100 µs\" 100000.0"))
        #expect(!y.contains("k\""), "no 1k/33k style labels")
        let x = PlotAxes.percentileTics(maxX: 4000)
        #expect(x.contains("\"50%%\" 2") && x.contains("\"99.9%%\" 1000.0") && !x.contains("99.99%"))
        #expect(x.hasSuffix("set xrange [1:6000.0]\n"))
        #expect(PlotAxes.rateUnit(max: 42_000).unit == "k ops/s" && PlotAxes.rateUnit(max: 3e6).unit == "M ops/s")
        #expect(ReportTables.count(41_840_448) == "41\u{202F}840\u{202F}448")
        // One node: every cell equal, and the colour scale still has a width.
        let m = AccessCostMatrix(measuredNS: [[80]], modelledNS: [[80]], bytes: 1 << 20, hostHasFewerNodes: false)
        let r = NUMACostPlot.range(m)
        #expect(r.lo < 80 && r.hi > 80)
    }

    @Test("A CSV line splits on commas outside quotes; doubled quotes are literal")
    func csvFields() {
        #expect(ReportCSV.fields("a,\"b,c\",\"say \"\"hi\"\"\",") == ["a", "b,c", "say \"hi\"", ""])
    }

    static let shortRun = """
        name: report-test
        topology: { synthetic: "pack:2 [numa] core:1 pu:1", distances: [[10, 21], [21, 10]] }
        memory: { per_node: 32MiB, zones: { DMA: 0MiB, DMA32: 0MiB } }
        caches: [ { name: obj, size: 128 } ]
        run: { duration: 300ms, warmup: 0s, seed: 3, sample_rate: 1 }
        workloads:
          - name: mix
            cpus: all
            atomic_share: 0.3
            lifetime: { keep: 64, order: random }
            mix:
              - { op: kmem_cache_alloc, cache: obj }
              - { op: alloc_pages, order: { uniform: [0, 4] } }
        """

    /// CI installs gnuplot (scripts/test); elsewhere the plot test runs where gnuplot is.
    static var canPlot: Bool { Gnuplot.executable != nil || ProcessInfo.processInfo.environment["CI"] == "true" }

    @Test("A real run's report embeds a PNG for each plot: latency per GFP class, lock waits, NUMA cost, free pages per order and per migrate type, per CPU",
          .enabled(if: canPlot))
    func realRun() async throws {
        let root = NSTemporaryDirectory() + "numastress-report-\(getpid())"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try Self.shortRun.write(toFile: root + "/report-test.yaml", atomically: true, encoding: .utf8)
        let outcome = try await Runner.run(try ConfigLoader.load(path: root + "/report-test.yaml"))
        let dir = try ResultWriter.write(outcome, root: root)
        let report = try Report.write(dir)
        let names = report.plots.map { URL(fileURLWithPath: $0).lastPathComponent }
        #expect(names.contains("latency.png") && names.contains("lock-times.png"))
        #expect(names.contains("numa-cost.png") && names.contains("free-pages.png") && names.contains("per-cpu.png"))
        #expect(names.contains("free-pages-by-type.png"))
        #expect(report.skipped.isEmpty, "\(report.skipped)")
        // The per-CPU bars carry the exact rates, not a rounded table.
        let bars = try String(contentsOfFile: dir + "/plots/per-cpu.dat", encoding: .utf8)
        let rate = outcome.result.throughput.perCPU[0].opsPerSec / PlotAxes.rateUnit(max: outcome.result.throughput.perCPU.map(\.opsPerSec).max()!).divisor
        #expect(bars.contains(String(format: "0 %.6g", rate)))
        for p in report.plots {
            let png = try #require(FileManager.default.contents(atPath: p))
            #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]), "\(p) is not a PNG")
        }
        let html = try String(contentsOfFile: report.html, encoding: .utf8)
        #expect(html.components(separatedBy: "src=\"data:image/png;base64,").count - 1 == report.plots.count)
        #expect(html.contains("<h2>Throughput</h2>") && html.contains("<h2>Locks</h2>") && html.contains("<h2>NUMA</h2>"))
        #expect(html.contains("<h2>Config</h2>") && html.contains("<table>"))
        #expect(!html.contains("http://") && !html.contains("https://"), "the page must not need the network")
        // The timeline covers the measured phase.
        let t = try #require(outcome.result.freeTimeline)
        #expect(t.tNS.count >= 3 && t.zones.allSatisfy { $0.blocks.count == t.tNS.count && $0.freeByType?.count == t.tNS.count })
    }

    @Test("Without gnuplot the tables-only report still works; a folder without results is refused clearly")
    func noPlotsAndBadFolder() throws {
        let dir = NSTemporaryDirectory() + "numastress-report-scaling-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "workload,cpus,ops_per_sec\nlocal-slab,1,1000000\nlocal-slab,2,1900000\n".write(toFile: dir + "/scaling.csv", atomically: true, encoding: .utf8)
        let out = try Report.write(dir, plots: false)
        let html = try String(contentsOfFile: out.html, encoding: .utf8)
        #expect(html.contains("<td class=\"t\">local-slab</td><td>2</td><td>1.90</td><td>1.90×</td>"))
        let empty = NSTemporaryDirectory() + "numastress-report-empty-\(getpid())"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: empty) }
        #expect { try Report.write(empty) } throws: { ($0 as? ReportError)?.description.contains("not a Results folder") == true }
        #expect { try Report.write(empty + "/nope") } throws: { ($0 as? ReportError)?.description.contains("no such folder") == true }
    }

    static let singleNode = """
        name: report-one-node
        topology: { synthetic: "pack:1 [numa] core:2 pu:1" }
        memory: { per_node: 16MiB, zones: { DMA: 0MiB, DMA32: 0MiB } }
        run: { duration: 200ms, warmup: 0s, seed: 5, sample_rate: 1 }
        workloads:
          - { name: pages, cpus: all, op: alloc_pages, order: { uniform: [0, 2] }, lifetime: { keep: 16, order: fifo } }
        """

    /// Runs `yaml` and writes its Results folder under a fresh temporary root.
    static func resultFolder(_ yaml: String, name: String, edit: (inout RunOutcome) -> Void = { _ in }) async throws -> (root: String, dir: String) {
        let root = NSTemporaryDirectory() + "numastress-\(name)-\(getpid())"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try yaml.write(toFile: root + "/c.yaml", atomically: true, encoding: .utf8)
        var outcome = try await Runner.run(try ConfigLoader.load(path: root + "/c.yaml"))
        edit(&outcome)
        return (root, try ResultWriter.write(outcome, root: root))
    }

    @Test("A single-node result gets its report.html, NUMA heatmap included (1x1 used to stop the whole report)")
    func singleNode() async throws {
        let (root, dir) = try await Self.resultFolder(Self.singleNode, name: "report-one-node")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let report = try Report.write(dir + "/", plots: Self.canPlot)
        #expect(report.html == dir + "/report.html")
        let html = try String(contentsOfFile: report.html, encoding: .utf8)
        #expect(html.contains("NUMAStress: report-one-node") && html.contains("<h2>Zones</h2>") && html.contains("<h3>numastat</h3>"))
        // The run's sysfs view: every allocation was local and preferred its own node.
        let numastat = try String(contentsOfFile: dir + "/sys/devices/system/node/node0/numastat", encoding: .utf8)
        #expect(numastat.hasPrefix("numa_hit ") && numastat.contains("\nnuma_miss 0\nnuma_foreign 0\ninterleave_hit 0\n"))
        #expect(numastat.hasSuffix("other_node 0\n"))
        if Self.canPlot {
            let names = report.plots.map { URL(fileURLWithPath: $0).lastPathComponent }
            #expect(names.contains("numa-cost.png") && names.contains("latency.png") && names.contains("per-cpu.png"))
            #expect(!report.skipped.contains { $0.contains("numa") || $0.contains("gnuplot failed") }, "\(report.skipped)")
            #expect(!html.contains("lock-times: gnuplot"))
        }
    }

    @Test("An interrupted result gets a report that says so; a plot without data is named, not fatal")
    func interrupted() async throws {
        let (root, dir) = try await Self.resultFolder(Self.singleNode, name: "report-interrupted") { o in
            o.result.complete = false
            o.result.stopReason = "interrupted (SIGINT)"
            o.result.freeTimeline = nil
            o.result.numa.accessCost = nil
        }
        defer { try? FileManager.default.removeItem(atPath: root) }
        let report = try Report.write(dir, plots: Self.canPlot)
        let html = try String(contentsOfFile: report.html, encoding: .utf8)
        #expect(html.contains("INCOMPLETE") && html.contains("did not finish (interrupted (SIGINT))"))
        #expect(report.skipped.contains { $0.hasPrefix("NUMA access cost") })
        #expect(report.skipped.contains { $0.hasPrefix("free pages over time") })
        #expect(report.skipped.contains { $0.hasPrefix("free pages per migrate type") })
        #expect(html.contains("Not drawn:"))
    }

    @Test("A result.json this build cannot decode still gives a page, from the CSV files, with the reason")
    func unreadableResult() throws {
        let dir = NSTemporaryDirectory() + "numastress-report-foreign-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "{\"schema\": \"numastress.result/9\"}".write(toFile: dir + "/result.json", atomically: true, encoding: .utf8)
        try "cpu,node,ops\n0,0,1200\n1,1,\"1,300\"\n".write(toFile: dir + "/per_cpu.csv", atomically: true, encoding: .utf8)
        let report = try Report.write(dir, plots: false)
        let html = try String(contentsOfFile: report.html, encoding: .utf8)
        #expect(report.skipped.first?.contains("result.json could not be read (missing key complete") == true, "\(report.skipped)")
        #expect(html.contains("<h2>per_cpu.csv</h2>") && html.contains("<td>1,300</td>"))
    }

    @Test("A vary: run's folder gets a contrast page linking each variant's own report")
    func contrast() async throws {
        let root = NSTemporaryDirectory() + "numastress-report-vary-\(getpid())"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try (Self.singleNode.replacingOccurrences(of: "name: report-one-node", with: "name: report-vary")
             + "\nvary: { locks.zone: [spin, mutex] }\n").write(toFile: root + "/c.yaml", atomically: true, encoding: .utf8)
        let outcome = try await ContrastRunner.run(try ConfigLoader.load(path: root + "/c.yaml"))
        let dir = try ResultWriter.writeContrast(outcome, root: root)
        let report = try Report.write(dir, plots: Self.canPlot)
        let html = try String(contentsOfFile: report.html, encoding: .utf8)
        #expect(html.contains("NUMAStress contrast: report-vary") && html.contains("<a href=\"spin/report.html\">"))
        #expect(html.contains("<a href=\"mutex/report.html\">") && html.contains("<h2>Contrast</h2>"))
        for v in ["spin", "mutex"] {
            let page = try String(contentsOfFile: "\(dir)/\(v)/report.html", encoding: .utf8)
            #expect(page.contains("variant \(v) of a vary: run"))
        }
        if Self.canPlot {
            #expect(report.plots.contains { $0.hasSuffix("/plots/contrast.png") }, "\(report.skipped)")
        }
    }
}
