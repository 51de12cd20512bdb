import Testing
import Foundation

/// `numastress compare`: deterministic counters must match exactly; a changed workload shows up
/// as a readable table and exit status 1.
@Suite(.serialized) struct CompareCommandTests {
    func config(size: Int) -> String {
        """
        name: cmp
        topology: { synthetic: "pack:2 [numa] core:1 pu:1" }
        memory: { per_node: 16MiB, zones: { DMA: 1MiB, DMA32: 3MiB } }
        run: { deterministic: true, operations: 3000, seed: 5 }
        workloads:
          - { name: w, cpus: all, op: kmalloc, size: \(size), lifetime: { keep: 100, order: random } }
        """
    }

    func runOnce(_ yaml: String, dir: String, tag: String) throws -> String {
        let path = dir + "/\(tag).yaml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        let r = try CLI.run(["run", path, "--results", dir + "/\(tag)", "--quiet", "--no-probe"])
        #expect(r.status == 0, "\(r.stderr)")
        let runs = try FileManager.default.contentsOfDirectory(atPath: dir + "/\(tag)/cmp")
        return dir + "/\(tag)/cmp/\(runs[0])"
    }

    @Test("Two runs of the same deterministic config compare equal; a changed size fails with a table")
    func compare() throws {
        let dir = NSTemporaryDirectory() + "numastress-cmp-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = try runOnce(config(size: 64), dir: dir, tag: "a")
        let b = try runOnce(config(size: 64), dir: dir, tag: "b")
        let same = try CLI.run(["compare", a, b])
        #expect(same.status == 0, "\(same.stdout)")
        #expect(same.stdout.contains("0 failing"))
        let c = try runOnce(config(size: 512), dir: dir, tag: "c")
        let diff = try CLI.run(["compare", a, c, "--max-regression", "10%"])
        #expect(diff.status == 1)
        #expect(diff.stdout.hasPrefix("metric"))
        #expect(diff.stdout.contains("CHANGED"))
        #expect(diff.stdout.contains("numa.locality") || diff.stdout.contains("zone."))
    }
}
