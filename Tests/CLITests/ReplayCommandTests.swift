import Testing
import Foundation

/// `numastress replay` and `trace record` as a user runs them, on the real 2-node fixture.
@Suite(.serialized) struct ReplayCommandTests {
    let fixture = CLI.repoRoot + "/Tests/HarnessTests/Fixtures/kmem-2node.trace"

    func tempDir() -> String {
        let d = NSTemporaryDirectory() + "numastress-replay-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    @Test("Replaying the fixture prints a run's summary, the replay figures and the geometry table, and exits 0")
    func replays() throws {
        let out = tempDir()
        defer { try? FileManager.default.removeItem(atPath: out) }
        let r = try CLI.run(["replay", fixture, "--results", out, "--quiet", "--no-probe"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("invariants: OK"))
        #expect(r.stdout.contains("replay of \(fixture) (kernel 6.1.0-57-amd64, 4 CPUs, 2 nodes)"))
        #expect(r.stdout.contains("events: 5306 read"))
        #expect(r.stdout.contains("slab geometry, real kernel vs model"))
        let runs = try FileManager.default.contentsOfDirectory(atPath: out + "/replay-kmem-2node")
        #expect(runs.count == 1)
    }

    @Test("A damaged trace: skipped and counted, or with --strict exit 2 naming FILE:LINE")
    func damaged() throws {
        let out = tempDir()
        defer { try? FileManager.default.removeItem(atPath: out) }
        var lines = try String(contentsOfFile: fixture, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        let first = lines.firstIndex { !$0.hasPrefix("#") }!
        lines.insert("not a trace line", at: first + 3)
        let path = out + "/damaged.trace"
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let lenient = try CLI.run(["replay", path, "--results", out, "--quiet", "--no-probe"])
        #expect(lenient.status == 0, "\(lenient.stderr)")
        #expect(lenient.stdout.contains("malformed lines skipped: 1 (first: \(path):\(first + 4): no [cpu] column)"))
        let strict = try CLI.run(["replay", path, "--strict", "--results", out, "--quiet", "--no-probe"])
        #expect(strict.status == 2)
        #expect(strict.stderr.hasPrefix("\(path):\(first + 4): malformed trace line"))
    }

    @Test("trace record without a command says how to call it, exit 2")
    func recordNeedsCommand() throws {
        let r = try CLI.run(["trace", "record", "-o", NSTemporaryDirectory() + "none.trace"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("error:"))
    }
}
