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

    @Test("--json gives one object per case with ns_per_op and ratio")
    func json() throws {
        let r = try CLI.run(["bench", "--filter", "order-4", "--iterations", "1000", "--runs", "1", "--json"])
        #expect(r.status == 0)
        let arr = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [[String: Any]]
        #expect(arr.count >= 2)
        #expect(arr.allSatisfy { ($0["nsPerOp"] as? Double ?? 0) > 0 })
    }

    @Test("Non-positive iterations are refused with status 2")
    func badArgs() throws {
        let r = try CLI.run(["bench", "--iterations", "0"])
        #expect(r.status == 2)
    }
}
