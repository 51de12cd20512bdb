import Testing
import Foundation

/// `numastress run` and `validate` as a user runs them.
@Suite(.serialized) struct RunCommandTests {
    let root = CLI.repoRoot

    func tempDir() -> String {
        let d = NSTemporaryDirectory() + "numastress-cli-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    @Test("A short run prints the summary, writes the Results folder and exits 0")
    func shortRun() throws {
        let out = tempDir()
        defer { try? FileManager.default.removeItem(atPath: out) }
        let r = try CLI.run(["run", root + "/Configs/remote-free.yaml", "--duration", "300ms", "--warmup", "50ms",
                             "--results", out, "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("== Throughput"))
        #expect(r.stdout.contains("invariants: OK"))
        #expect(r.stdout.contains("cross-CPU slab frees") && r.stdout.contains("numa_foreign"))
        let runs = try FileManager.default.contentsOfDirectory(atPath: out + "/remote-free-2node")
        #expect(runs.count == 1)
        #expect(FileManager.default.fileExists(atPath: out + "/remote-free-2node/\(runs[0])/result.json"))
    }

    @Test("Ctrl-C stops the run within a second, still writes the result marked incomplete, exits 130")
    func interrupt() throws {
        let out = tempDir()
        defer { try? FileManager.default.removeItem(atPath: out) }
        let (status, seconds) = try CLI.runUntilSignal(SIGINT, results: out)
        #expect(seconds < 5, "stops promptly (clean-up and writing included)")
        #expect(status == 130)
        let dir = out + "/quickstart"
        let runs = try FileManager.default.contentsOfDirectory(atPath: dir)
        let json = try String(contentsOfFile: "\(dir)/\(runs[0])/result.json", encoding: .utf8)
        #expect(json.contains("\"complete\" : false"))
        #expect(json.contains("interrupted (SIGINT)"))
    }

    @Test("A bad config is one file:line:column line on stderr, exit 2, and nothing runs")
    func badConfig() throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/bad.yaml"
        try "name: bad\nworkloads:\n  - { name: a, op: kmalloc, size: 64, gfp: GFP_ATOMC }\n".write(toFile: path, atomically: true, encoding: .utf8)
        let r = try CLI.run(["run", path, "--results", dir + "/out"])
        #expect(r.status == 2)
        #expect(r.stderr.hasPrefix(path + ":3:"))
        #expect(r.stderr.contains("unknown GFP flag GFP_ATOMC"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/out"))
        let v = try CLI.run(["validate", path, root + "/Configs/quickstart.yaml"])
        #expect(v.status == 2)
        #expect(v.stdout.contains("quickstart.yaml: ok"))
    }
}
