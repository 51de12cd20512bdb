import Testing
import Foundation
import Harness

/// The conventions a script relies on: `--version`, documented exit statuses for every command
/// (usage errors are 64), `--json` on run, validate and compare, and defaults found in the
/// package rather than in the current folder.
@Suite(.serialized) struct CLIConventionsTests {
    static let commands = ["run", "validate", "figures", "compare", "topology", "bench", "compare-allocators", "report", "trace", "replay"]

    @Test("--version names the version and the git revision")
    func version() throws {
        let r = try CLI.run(["--version"])
        #expect(r.status == 0)
        #expect(r.stdout.range(of: #"^numastress \d+\.\d+\.\d+ \(git ([0-9a-f]{7}|unknown)\)\n$"#, options: .regularExpression) != nil, "\(r.stdout)")
    }

    @Test("Every command's help lists its exit statuses, usage errors included; a usage error exits 64")
    func exitStatuses() throws {
        for c in Self.commands {
            let h = try CLI.run(["help", c])
            let text = h.stdout.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "  ", with: " ")
            #expect(text.contains("Exit status:"), "\(c)")
            #expect(text.contains("64 a usage error"), "\(c)")
        }
        #expect(try CLI.run(["run", "--no-such-option"]).status == 64)
        #expect(try CLI.run(["run", "--allocator", "jemalloc"]).status == 64)
        #expect(try CLI.run(["run", "--shake", "1:2"]).status == 64)
        let help = try CLI.run(["help", "run"]).stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(help.contains("(values: kernel, malloc)"))
    }

    @Test("run --json from another folder: the package's quickstart, the result on stdout, the summary on stderr")
    func runJSON() throws {
        let dir = NSTemporaryDirectory() + "numastress-cli-json-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try CLI.run(["run", "--json", "--duration", "100ms", "--warmup", "0s", "--quiet", "--no-probe", "--results", dir + "/r"], cwd: dir)
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(doc["schema"] as? String == RunResult.schema)
        #expect((doc["config"] as? [String: Any])?["name"] as? String == "quickstart")
        #expect(r.stderr.contains("results: \(dir)/r/quickstart/"))
    }

    @Test("validate --json: each file's verdict, with the error's line and column")
    func validateJSON() throws {
        let dir = NSTemporaryDirectory() + "numastress-cli-validate-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "name: bad\nworkloads:\n  - { name: w, cpus: all, op: kmalloc, size: -3 }\n".write(toFile: dir + "/bad.yaml", atomically: true, encoding: .utf8)
        let r = try CLI.run(["validate", "--json", CLI.repoRoot + "/Configs/quickstart.yaml", dir + "/bad.yaml"])
        #expect(r.status == 2)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(doc["schema"] as? String == "numastress.validate/1")
        let v = try #require(doc["configs"] as? [[String: Any]])
        #expect(v.map { $0["valid"] as? Bool } == [true, false])
        let e = try #require(v[1]["error"] as? [String: Any])
        #expect(e["line"] as? Int == 3 && (e["column"] as? Int ?? 0) > 1 && (e["file"] as? String)?.hasSuffix("bad.yaml") == true, "\(e)")
    }

    @Test("compare --json: every metric with its verdict, and the exit status of the table")
    func compareJSON() throws {
        let dir = NSTemporaryDirectory() + "numastress-cli-compare-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try CLI.run(["run", CLI.repoRoot + "/Configs/regression/slab-remote.yaml", "--quiet", "--no-probe", "--results", dir])
        #expect(r.status == 0, "\(r.stderr)")
        let folder = try #require(try FileManager.default.subpathsOfDirectory(atPath: dir).first { $0.hasSuffix("result.json") })
        let path = dir + "/" + folder
        let c = try CLI.run(["compare", "--json", "--no-timings", path, path])
        #expect(c.status == 0, "\(c.stderr)")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(c.stdout.utf8)) as? [String: Any])
        #expect(doc["schema"] as? String == "numastress.compare/1")
        #expect(doc["failed"] as? Bool == false)
        let metrics = try #require(doc["metrics"] as? [[String: Any]])
        #expect(!metrics.isEmpty && metrics.allSatisfy { $0["verdict"] as? String == "ok" })
    }
}
