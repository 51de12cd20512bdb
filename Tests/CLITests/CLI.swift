import Foundation

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
        let p = Process()
        p.executableURL = binary
        p.arguments = args
        if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        // Both pipes drained at once (a child filling stderr while we wait on stdout would block),
        // with reads retried on EINTR: Foundation's readDataToEndOfFile traps on it, and other
        // tests' children deliver SIGCHLD to this process at any time.
        final class Box: @unchecked Sendable { var data = Data() }
        let errBox = Box()
        let errFD = err.fileHandleForReading.fileDescriptor
        let drained = DispatchSemaphore(value: 0)   // also orders the write before our read
        let errReader = Thread { errBox.data = readAll(errFD); drained.signal() }
        errReader.start()
        let o = readAll(out.fileHandleForReading.fileDescriptor)
        drained.wait()
        let e = errBox.data
        p.waitUntilExit()
        return Outcome(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                       stderr: String(decoding: e, as: UTF8.self))
    }

    static func readAll(_ fd: Int32) -> Data {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 { data.append(contentsOf: buffer[0..<n]); continue }
            if n < 0 && errno == EINTR { continue }
            return data
        }
    }

    /// Folder of the repository (for Configs/ and test fixtures).
    static var repoRoot: String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }
}
