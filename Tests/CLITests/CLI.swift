import Foundation
import Harness

/// Runs the built `numastress` binary the way a user does and captures what it says.
enum CLI {
    struct Outcome { var status: Int32; var stdout: String; var stderr: String }

    static var binary: URL {
        // The test bundle sits next to the products in .build/<config>/.
        var dir = Bundle.main.bundleURL
        while dir.path != "/" && !FileManager.default.fileExists(atPath: dir.appendingPathComponent("numastress").path) {
            dir.deleteLastPathComponent()
        }
        let candidate = dir.appendingPathComponent("numastress")
        if FileManager.default.fileExists(atPath: candidate.path) { return candidate }
        for t in Bundle.allBundles { let u = t.bundleURL.deletingLastPathComponent().appendingPathComponent("numastress"); if FileManager.default.fileExists(atPath: u.path) { return u } }
        return URL(fileURLWithPath: ".build/debug/numastress")
    }

    static func run(_ args: [String], cwd: String? = nil) throws -> Outcome {
        let out = try ChildProcess.run(binary.path, args, cwd: cwd)
        return Outcome(status: out.status, stdout: out.stdout, stderr: out.stderr)
    }

    /// Starts a long quickstart run, sends `signal` after 1.5 s and waits; returns the exit
    /// status and how long the process took to end after the signal.
    static func runUntilSignal(_ signal: Int32, results: String) throws -> (status: Int32, seconds: Double) {
        let p = Process()
        p.executableURL = binary
        p.arguments = ["run", repoRoot + "/Configs/quickstart.yaml", "--duration", "60s", "--warmup", "0s", "--results", results,
                       "--quiet", "--no-probe"]
        p.standardOutput = Pipe()
        p.standardError = Pipe()
        try p.run()
        usleep(1_500_000)
        let sent = Date()
        kill(p.processIdentifier, signal)
        p.waitUntilExit()
        return (p.terminationStatus, Date().timeIntervalSince(sent))
    }

    /// Folder of the repository (for Configs/ and test fixtures).
    static var repoRoot: String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }
}
