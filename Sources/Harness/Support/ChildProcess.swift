import CArch
import Foundation

/// Runs a helper program (git, gnuplot) and collects what it prints. Pipes are read with
/// `read(2)` retried on EINTR: Foundation's `readDataToEndOfFile` traps on an interrupted read,
/// and a process that starts children receives SIGCHLD at any time.
public enum ChildProcess {
    public struct Output: Sendable { public var status: Int32; public var stdout: String; public var stderr: String }

    /// `environment`: the child's whole environment (nil: this process's). A child still running
    /// after `timeout` seconds is terminated (then killed) and reported with status 124, so that
    /// no helper program can hang the command that started it.
    public static func run(_ executable: String, _ args: [String], cwd: String? = nil,
                           environment: [String: String]? = nil, timeout: Double = 600) throws -> Output {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = args
        if let environment { p.environment = environment }
        if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let timedOut = Flag()
        let watchdog = DispatchWorkItem { [p, timedOut] in
            guard p.isRunning else { return }
            timedOut.set()
            p.terminate()
            DispatchQueue.global().asyncAfter(deadline: .now() + 2) { [p] in
                if p.isRunning { kill(p.processIdentifier, SIGKILL) }
            }
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
        // stderr drains on its own thread, so a child filling it cannot block on us.
        final class Box: @unchecked Sendable { var data = Data() }
        let errBox = Box()
        let errFD = err.fileHandleForReading.fileDescriptor
        let drained = DispatchSemaphore(value: 0)   // also orders the write before our read
        let errReader = Thread { errBox.data = readAll(errFD); drained.signal() }
        errReader.start()
        let outText = readAll(out.fileHandleForReading.fileDescriptor)
        drained.wait()
        let errText = errBox.data
        p.waitUntilExit()
        watchdog.cancel()
        let status = timedOut.isSet ? 124 : p.terminationStatus
        // The pipes must outlive the reads: a FileHandle closes its descriptor when it goes,
        // and by then the number could name another file of this process.
        withExtendedLifetime((out, err)) {}
        return Output(status: status, stdout: String(decoding: outText, as: UTF8.self),
                      stderr: String(decoding: errText, as: UTF8.self))
    }

    public static func readAll(_ fd: Int32) -> Data {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 { data.append(contentsOf: buffer[0..<n]); continue }
            if n < 0 && errno == EINTR { continue }
            return data
        }
    }
}

/// A flag one thread sets and another reads, with release/acquire ordering; the class keeps
/// the word alive for as long as any closure holds it.
final class Flag: @unchecked Sendable {
    private let word = UnsafeMutablePointer<UInt32>.allocate(capacity: 1)
    init() { word.initialize(to: 0) }
    deinit { word.deallocate() }
    func set() { arch_store_release_u32(word, 1) }
    var isSet: Bool { arch_load_acquire_u32(word) != 0 }
}
