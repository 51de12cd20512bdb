import Testing
import Foundation
import Harness

/// `numastress sweep` as a user runs it: the issue's acceptance grid on Configs/quickstart.yaml
/// (shorter runs), locally and, where a Slurm controller answers, as a job array.
@Suite(.serialized) struct SweepCommandTests {
    static let grid = ["--grid", "locks.zone=spin,mutex", "--grid", "run.duration=300ms", "--grid", "run.warmup=100ms"]

    static func tempDir(_ tag: String) -> String {
        NSTemporaryDirectory() + "numastress-sweepcli-\(tag)-\(getpid())"
    }

    /// The sweep folder the command printed (`merged: DIR/sweep.csv, …`).
    static func folder(_ out: String) throws -> String {
        let line = try #require(out.split(separator: "\n").first { $0.hasPrefix("merged: ") })
        return String(line.dropFirst("merged: ".count).prefix { $0 != "," }.dropLast("/sweep.csv".count))
    }

    static func csv(_ dir: String) throws -> [[String]] {
        try String(contentsOfFile: dir + "/sweep.csv", encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    }

    static var slurmMissing: String? { SlurmArray.unavailable() }

    @Test("A local sweep runs every point into its folder, merges one row per point, and report draws the categorical axis as bars")
    func localEndToEnd() throws {
        let out = Self.tempDir("local")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let r = try CLI.run(["sweep", CLI.repoRoot + "/Configs/quickstart.yaml"] + Self.grid + ["--on", "local", "--results", out, "--no-probe"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("sweep [2/2] point 001-mutex-300ms-100ms") && r.stderr.contains("ETA"))
        let dir = try Self.folder(r.stdout)
        let rows = try Self.csv(dir)
        #expect(rows.count == 3)
        #expect(rows[0].prefix(9) == ["run_id", "sweep_id", "point", "repetition", "config", "variant", "locks_zone", "run_duration", "run_warmup"])
        let status = rows[0].firstIndex(of: "status")!
        #expect(rows.dropFirst().allSatisfy { $0[status] == "ok" })
        #expect(FileManager.default.fileExists(atPath: dir + "/000-spin-300ms-100ms/result.json"))
        #expect(FileManager.default.fileExists(atPath: dir + "/sweep.md"))
        let rep = try CLI.run(["report", dir] + (ReportCommandTests.hasGnuplot ? [] : ["--no-plots"]))
        #expect(rep.status == 0, "\(rep.stderr)")
        if ReportCommandTests.hasGnuplot { #expect(rep.stdout.contains("plot: \(dir)/plots/sweep-locks_zone.png")) }
        #expect(rep.stdout.contains("not drawn: run.duration: one value"))
    }

    @Test("A bad point stops the sweep before anything runs, named with its settings (exit 2, no folder)")
    func badPoint() throws {
        let out = Self.tempDir("bad")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let r = try CLI.run(["sweep", CLI.repoRoot + "/Configs/quickstart.yaml", "--grid", "locks.zone=spin,sleepy", "--results", out])
        #expect(r.status == 2)
        #expect(r.stderr.contains("point 001-sleepy (locks.zone=sleepy)") && r.stderr.contains("quickstart.yaml:7:"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test("SIGTERM ends a local sweep after recording the finished points (exit 143); --resume runs only the rest")
    func stopAndResume() throws {
        let out = Self.tempDir("stop")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let p = Process()
        p.executableURL = CLI.binary
        p.arguments = ["sweep", CLI.repoRoot + "/Configs/quickstart.yaml", "--grid", "locks.zone=spin,mutex", "--grid", "run.duration=400ms,2s",
                       "--grid", "run.warmup=0s", "--results", out, "--no-probe", "--quiet"]
        p.standardOutput = Pipe(); p.standardError = Pipe()
        try p.run()
        // Wait for the first point's folder, then stop the second one midway.
        let deadline = Date().addingTimeInterval(120)
        var first: String? = nil
        while first == nil && Date() < deadline {
            usleep(100_000)
            first = (try? FileManager.default.contentsOfDirectory(atPath: out))?.first.map { "\(out)/\($0)/000-spin-400ms-0s" }
            if let f = first, !FileManager.default.fileExists(atPath: f) { first = nil }
        }
        let dir = try #require(first).components(separatedBy: "/000-").first!
        usleep(1_000_000)
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        #expect(p.terminationStatus == 143)
        let rows = try Self.csv(dir)
        let status = rows[0].firstIndex(of: "status")!
        #expect(rows.dropFirst().map { $0[status] } == ["ok", "interrupted", "missing", "missing"])
        let r = try CLI.run(["sweep", "--resume", dir, "--quiet", "--no-probe"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("4 of 4 task(s) have results"))
    }

    @Test("--on slurm submits one job array and gives the same columns and rows as local; --resume resubmits only a missing point",
          .enabled(if: slurmMissing == nil, "Slurm unavailable (scripts/slurm-local start runs one): \(slurmMissing ?? "")"))
    func slurm() throws {
        let out = Self.tempDir("slurm")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let r = try CLI.run(["sweep", CLI.repoRoot + "/Configs/quickstart.yaml"] + Self.grid + ["--on", "slurm", "--results", out, "--no-probe"])
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        let dir = try Self.folder(r.stdout)
        let rows = try Self.csv(dir)
        #expect(rows.count == 3)
        let local = SweepMerge.header(try SweepFolder.open(dir).manifest)
        #expect(rows[0] == local)
        let host = rows[0].firstIndex(of: "host")!
        #expect(rows.dropFirst().allSatisfy { !$0[host].isEmpty })
        let script = try String(contentsOfFile: dir + "/slurm/array-1.sh", encoding: .utf8)
        #expect(script.contains("#SBATCH --array=0-1") && script.contains("#SBATCH --exclusive"))
        // A point whose task left nothing is named and is the only one resubmitted.
        try FileManager.default.removeItem(atPath: dir + "/001-mutex-300ms-100ms")
        let merged = try CLI.run(["sweep", "--merge", dir])
        #expect(merged.status == 1 && merged.stdout.contains("not finished: point 001-mutex-300ms-100ms"))
        let again = try CLI.run(["sweep", "--resume", dir, "--on", "slurm", "--quiet"])
        #expect(again.status == 0, "\(again.stdout)\n\(again.stderr)")
        let second = try String(contentsOfFile: dir + "/slurm/array-2.sh", encoding: .utf8)
        #expect(second.contains("#SBATCH --array=1\n"))
    }

    @Test("A Slurm task cancelled mid-run is named in the merge with its host and Slurm's notice",
          .enabled(if: slurmMissing == nil, "Slurm unavailable (scripts/slurm-local start runs one): \(slurmMissing ?? "")"))
    func slurmKilledTask() throws {
        let out = Self.tempDir("slurmkill")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let r = try CLI.run(["sweep", CLI.repoRoot + "/Configs/quickstart.yaml", "--grid", "run.duration=60s", "--grid", "run.warmup=0s",
                             "--on", "slurm", "--no-wait", "--results", out, "--no-probe", "--quiet"])
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        let dir = try #require(r.stdout.split(separator: "\n").first { $0.hasPrefix("merge when it has finished: ") }
            .map { String($0.split(separator: " ").last!) })
        let folder = try SweepFolder.open(dir)
        let job = try #require(folder.manifest.slurmJobs.first)
        // Cancel once the task has recorded that it started, then wait for Slurm to let go.
        let deadline = Date().addingTimeInterval(60)
        while folder.record(0)?.state != "running" && Date() < deadline { usleep(200_000) }
        #expect(folder.record(0)?.state == "running")
        usleep(1_000_000)
        _ = try ChildProcess.run(SlurmArray.which("scancel")!, ["\(job)_0"])
        while !SlurmArray.queued([job]).isEmpty && Date() < deadline { usleep(200_000) }
        let merged = try CLI.run(["sweep", "--merge", dir])
        #expect(merged.status == 1)
        let line = try #require(merged.stdout.split(separator: "\n").first { $0.hasPrefix("not finished: point 000-60s-0s") })
        #expect(line.contains("on \(ProcessInfo.processInfo.hostName)") && line.contains("CANCELLED"), "\(line)")
        #expect(merged.stdout.contains("resume: numastress sweep --resume \(dir) --on slurm"))
    }
}
