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
    }

    @Test("Lock waits: one sum per policy, then the most contended locks; uncontended locks are not drawn alone")
    func lockWaits() throws {
        func lock(_ name: String, _ policy: LockPolicy, contended: UInt64, waits: [UInt64]) -> LockSnapshot {
            let json = """
                {"name": "\(name)", "policy": "\(policy.rawValue)", "acquisitions": 100, "contended": \(contended), "spins": 0,
                 "sleeps": 0, "waitNS": 0, "holdNS": 0, "maxWaitNS": 0, "maxHoldNS": 0, "waitHistogram": \(waits), "holdHistogram": []}
                """
            return try! JSONDecoder().decode(LockSnapshot.self, from: Data(json.utf8))
        }
        let hs = PlotData.lockWaits([lock("zone 0 Normal", .spin, contended: 5, waits: [95, 0, 5]),
                                     lock("kmalloc-64 node 0 partial", .spin, contended: 0, waits: [100, 0, 0]),
                                     lock("zone 1 Normal", .mutex, contended: 9, waits: [91, 4, 5])])
        #expect(hs.map(\.label) == ["all spin locks", "all mutex locks", "zone 1 Normal (mutex)", "zone 0 Normal (spin)"])
        #expect(hs[0].buckets == [195, 0, 5])
        // Empty buckets break the curve instead of being bridged by it.
        let gapped = try #require(ReportPlots.lockWaits([PlotData.WaitHistogram(label: "all spin locks", policy: "spin", buckets: [9, 5, 0, 2])]))
        #expect(gapped.data["lock-waits.dat"] == "2 5\n\n8 2\n")
        // A policy without a single wait draws nothing: gnuplot cannot put zeros on a log axis.
        let plot = ReportPlots.lockWaits([PlotData.WaitHistogram(label: "all spin locks", policy: "spin", buckets: [10, 0])])
        #expect(plot == nil)
    }

    @Test("scaling.csv gives one curve per workload; a malformed line names its line number")
    func scaling() throws {
        let curves = try PlotData.scaling(csv: "workload,cpus,ops_per_sec\nlocal,1,100\nlocal,2,190\nremote,2,80\n")
        #expect(curves.map(\.workload) == ["local", "remote"])
        #expect(curves[0].points.map(\.cpus) == [1, 2])
        #expect(throws: ReportError.self) { try PlotData.scaling(csv: "workload,cpus,ops_per_sec\nlocal,x,1\n") }
    }

    @Test("The summary's markdown tables become HTML tables, with text escaped")
    func markdown() {
        let html = ReportPage.markdown("# t\n\n## Locks\n\n| lock | wait |\n|------|-----:|\n| a<b | 5ns |\n", dropTitle: true)
        #expect(html == "<h3>Locks</h3>\n<table>\n<tr><th>lock</th><th>wait</th></tr>\n<tr><td>a&lt;b</td><td>5ns</td></tr>\n</table>\n")
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

    @Test("A real run's report embeds a PNG for each plot: latency per GFP class, lock waits, NUMA cost, free pages, per CPU",
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
        #expect(names.contains("latency-atomic.png") && names.contains("latency-blocking.png"))
        #expect(names.contains("numa-cost.png") && names.contains("free-pages.png") && names.contains("per-cpu.png"))
        for p in report.plots {
            let png = try #require(FileManager.default.contents(atPath: p))
            #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]), "\(p) is not a PNG")
        }
        let html = try String(contentsOfFile: report.html, encoding: .utf8)
        #expect(html.components(separatedBy: "src=\"data:image/png;base64,").count - 1 == report.plots.count)
        #expect(html.contains("<h2>Summary</h2>") && html.contains("<h2>Config</h2>") && html.contains("<table>"))
        #expect(!html.contains("http://") && !html.contains("https://"), "the page must not need the network")
        // The timeline covers the measured phase.
        let t = try #require(outcome.result.freeTimeline)
        #expect(t.tNS.count >= 3 && t.zones.allSatisfy { $0.blocks.count == t.tNS.count })
    }

    @Test("Without gnuplot the tables-only report still works; a folder without results is refused clearly")
    func noPlotsAndBadFolder() throws {
        let dir = NSTemporaryDirectory() + "numastress-report-scaling-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "workload,cpus,ops_per_sec\nlocal-slab,1,1000000\nlocal-slab,2,1900000\n".write(toFile: dir + "/scaling.csv", atomically: true, encoding: .utf8)
        let out = try Report.write(dir, plots: false)
        let html = try String(contentsOfFile: out.html, encoding: .utf8)
        #expect(html.contains("<td>local-slab</td><td>2</td><td>1.90</td><td>1.90×</td>"))
        let empty = NSTemporaryDirectory() + "numastress-report-empty-\(getpid())"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: empty) }
        #expect { try Report.write(empty) } throws: { ($0 as? ReportError)?.description.contains("not a Results folder") == true }
        #expect { try Report.write(empty + "/nope") } throws: { ($0 as? ReportError)?.description.contains("no such folder") == true }
    }
}
