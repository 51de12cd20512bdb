import Testing
import Foundation
import Harness

/// What a user of `timeout`, systemd, Slurm or a full disk meets: every signal leaves a result,
/// results are written whole or not at all, and nothing outside the run can hang it.
@Suite(.serialized) struct RunReliabilityTests {
    let root = CLI.repoRoot

    func tempDir() -> String {
        let d = NSTemporaryDirectory() + "numastress-rel-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    /// Folders under `dir`, hidden ones included.
    func entries(_ dir: String) -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] }

    func runUntilSignal(_ signal: Int32, out: String) throws -> Int32 {
        let p = Process()
        p.executableURL = CLI.binary
        p.arguments = ["run", root + "/Configs/quickstart.yaml", "--duration", "60s", "--warmup", "0s", "--results", out,
                       "--quiet", "--no-probe"]
        p.standardOutput = Pipe()
        p.standardError = Pipe()
        try p.run()
        usleep(1_500_000)
        let sent = Date()
        kill(p.processIdentifier, signal)
        p.waitUntilExit()
        #expect(Date().timeIntervalSince(sent) < 5, "stops promptly")
        return p.terminationStatus
    }

    @Test("SIGTERM and SIGHUP end the run like Ctrl-C: result marked incomplete with the signal, exit 128+N",
          arguments: [(SIGTERM, "SIGTERM"), (SIGHUP, "SIGHUP")])
    func signals(_ signal: Int32, _ name: String) throws {
        let out = tempDir()
        defer { try? FileManager.default.removeItem(atPath: out) }
        #expect(try runUntilSignal(signal, out: out) == 128 + signal)
        let runs = entries(out + "/quickstart")
        #expect(runs.count == 1 && !runs[0].hasPrefix("."), "one visible folder, no temporary left: \(runs)")
        let r = try ResultWriter.read("\(out)/quickstart/\(runs[0])/result.json")
        #expect(!r.complete)
        #expect(r.stopSignal == name)
        #expect(r.stopReason == "interrupted (\(name))")
    }

    @Test("A results path that is a file is refused before the run: exit 2 with the path and why")
    func resultsIsAFile() throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/plain-file"
        try "x".write(toFile: file, atomically: true, encoding: .utf8)
        let t0 = Date()
        let r = try CLI.run(["run", root + "/Configs/quickstart.yaml", "--duration", "30s", "--results", file, "--quiet"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("--results: \(file) is not a folder"), "\(r.stderr)")
        #expect(Date().timeIntervalSince(t0) < 10, "refused before the 30 s run")
    }

    /// A small tmpfs, read-only or nearly full; nil (and the reason printed) where mounting is
    /// not allowed, such as without root.
    func mountTmpfs(_ options: String) -> String? {
        let dir = tempDir()
        guard let r = try? ChildProcess.run("/bin/mount", ["-t", "tmpfs", "-o", options, "none", dir], timeout: 30), r.status == 0 else {
            print("skipped: cannot mount a tmpfs here (needs root)")
            return nil
        }
        return dir
    }

    func unmount(_ dir: String) {
        _ = try? ChildProcess.run("/bin/umount", [dir], timeout: 30)
        try? FileManager.default.removeItem(atPath: dir)
    }

    @Test("A read-only results folder is refused before the run")
    func readOnlyResults() throws {
        guard let dir = mountTmpfs("ro,size=1m") else { return }
        defer { unmount(dir) }
        let r = try CLI.run(["run", root + "/Configs/quickstart.yaml", "--duration", "30s", "--results", dir, "--quiet"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("cannot write in \(dir): Read-only file system"), "\(r.stderr)")
    }

    @Test("A full disk after the run: the summary is printed, the failure said, exit 3, nothing half-written left")
    func fullDisk() throws {
        guard let dir = mountTmpfs("size=24k") else { return }
        defer { unmount(dir) }
        let r = try CLI.run(["run", root + "/Configs/quickstart.yaml", "--duration", "200ms", "--warmup", "0s",
                             "--results", dir, "--quiet", "--no-probe"])
        #expect(r.status == 3, "\(r.stderr)")
        #expect(r.stdout.contains("== Throughput"), "the summary is not lost")
        #expect(r.stderr.contains("results were not written") && r.stderr.contains("No space left on device"), "\(r.stderr)")
        #expect(entries(dir + "/quickstart").isEmpty, "no visible or temporary folder: \(entries(dir + "/quickstart"))")
    }

    @Test("A run in a network namespace without loopback completes (no child process can hang it)")
    func noLoopback() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare"),
              let probe = try? ChildProcess.run("/usr/bin/unshare", ["-n", "true"], timeout: 30), probe.status == 0 else {
            print("skipped: unshare -n is not allowed here")
            return
        }
        let out = tempDir()
        defer { try? FileManager.default.removeItem(atPath: out) }
        let r = try ChildProcess.run("/usr/bin/unshare", ["-n", CLI.binary.path, "run", root + "/Configs/quickstart.yaml",
                                                          "--duration", "200ms", "--warmup", "0s", "--results", out, "--quiet", "--no-probe"],
                                     timeout: 120)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("complete"))
    }
}
