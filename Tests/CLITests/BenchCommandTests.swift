import Testing
import Foundation

/// `numastress bench` runs its cases on pinned CPUs and prints ratios against glibc measured in
/// the same run. Only the shape of the output is checked here: speed belongs to the benchmark.
@Suite struct BenchCommandTests {
    @Test("A short bench prints the glibc reference and a ratio for the page allocator")
    func shortRun() throws {
        let r = try CLI.run(["bench", "--filter", "order-0 + free (PCP), spin", "--iterations", "2000", "--runs", "1"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("benchmark") == true)
        #expect(lines.contains { $0.hasPrefix("glibc malloc+free 64B") })
        let page = lines.filter { $0.hasPrefix("alloc_pages order-0") }
        #expect(!page.isEmpty)
        // Last column is the ratio to glibc: a positive number.
        for l in page { #expect(Double(l.split(separator: " ").last!) ?? 0 > 0) }
    }

    @Test("--json gives one object per case with ns_per_op and ratio, under schema numastress.bench/1, and the executor table when selected")
    func json() throws {
        let r = try CLI.run(["bench", "--filter", "executor", "--iterations", "2000", "--runs", "1", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(doc["schema"] as? String == "numastress.bench/1")
        let cases = try #require(doc["cases"] as? [[String: Any]])
        #expect(cases.count >= 1)
        #expect(cases.allSatisfy { ($0["ns_per_op"] as? Double ?? 0) > 0 })
        let executor = try #require(doc["executor"] as? [[String: Any]])
        #expect(executor.map { $0["mode"] as? String } == ["bare pinned pthread", "CPU actor, whole batch per call",
                                                           "CPU actor, one call per 64 ops", "CPU actor, one call per op"])
    }

    @Test("--scaling writes scaling.csv with every workload at each CPU count, and report draws it")
    func scaling() throws {
        let out = NSTemporaryDirectory() + "numastress-scaling-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let r = try CLI.run(["bench", "--scaling", "--duration", "100ms", "--max-cpus", "2", "--results", out])
        #expect(r.status == 0, "\(r.stderr)")
        let dir = try #require(r.stdout.split(separator: "\n").last { $0.hasPrefix("results: ") }?.split(separator: " ")[1])
        let csv = try String(contentsOfFile: "\(dir)/scaling.csv", encoding: .utf8).split(separator: "\n")
        #expect(csv.first == "workload,cpus,ops_per_sec,speedup")
        #expect(csv.contains { $0.hasPrefix("local-slab,1,") } && csv.contains { $0.hasPrefix("shared-zone,1,") })
        let report = try CLI.run(["report", String(dir), "--no-plots"])
        #expect(report.status == 0, "\(report.stderr)")
        #expect(try String(contentsOfFile: "\(dir)/report.html", encoding: .utf8).contains("<h2>Scaling</h2>"))
    }

    @Test("Non-positive iterations are refused with status 2")
    func badArgs() throws {
        let r = try CLI.run(["bench", "--iterations", "0"])
        #expect(r.status == 2)
    }
}
