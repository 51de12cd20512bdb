import Testing
import Foundation

/// `numastress report` on the Results folder of Configs/quickstart.yaml, as a user makes it.
@Suite(.serialized) struct ReportCommandTests {
    static var hasGnuplot: Bool {
        (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/gnuplot") }
            || ProcessInfo.processInfo.environment["CI"] == "true"
    }

    @Test("The quickstart's report is one HTML page with its plots inside", .enabled(if: hasGnuplot))
    func quickstart() throws {
        let out = NSTemporaryDirectory() + "numastress-rc-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let run = try CLI.run(["run", CLI.repoRoot + "/Configs/quickstart.yaml", "--duration", "500ms", "--warmup", "100ms",
                               "--results", out, "--quiet"])
        #expect(run.status == 0, "\(run.stderr)")
        let dir = try #require(run.stdout.split(separator: "\n").last { $0.hasPrefix("results: ") }).dropFirst("results: ".count)
        let r = try CLI.run(["report", String(dir)])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.split(separator: "\n").filter { $0.hasPrefix("plot: ") }.count >= 5)
        let html = try String(contentsOfFile: "\(dir)/report.html", encoding: .utf8)
        #expect(html.hasPrefix("<!DOCTYPE html>") && html.contains("NUMAStress: quickstart"))
        #expect(html.contains("data:image/png;base64,"))
    }

    @Test("A folder that is not a Results folder is refused with status 2 and a reason")
    func badFolder() throws {
        let r = try CLI.run(["report", "/nonexistent/results"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("no such folder"))
    }
}
