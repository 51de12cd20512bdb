import Foundation
import CArch

/// Copies an instance's `trace_pipe` into the trace file on its own thread while the command
/// runs. `trace_pipe` is a consuming read (kernel/trace/trace.c `tracing_read_pipe`): what is
/// read leaves the ring buffer, so a reader that keeps up loses nothing however long the
/// command runs. Opened non-blocking: after tracing stops, a read that finds nothing ends it.
final class TracePipePump: @unchecked Sendable {
    private let path: String
    private let output: Int32
    private let done = UnsafeMutablePointer<UInt32>.allocate(capacity: 1)
    private let finished = DispatchSemaphore(value: 0)
    private(set) var bytes = 0
    private(set) var lines = 0
    private var error: String?

    init(path: String, output: Int32) {
        self.path = path
        self.output = output
        done.initialize(to: 0)
    }

    deinit { done.deallocate() }

    func start() {
        let t = Thread { [self] in run(); finished.signal() }
        t.name = "numastress-trace-pump"
        t.start()
    }

    /// Called once tracing is off: the pump empties the buffer and stops. Returns the lines copied.
    func finish() -> Int {
        arch_store_release_u32(done, 1)
        finished.wait()
        if let error { FileHandle.standardError.write(Data("numastress: warning: \(error)\n".utf8)) }
        return lines
    }

    private func run() {
        let fd = open(path, O_RDONLY | O_NONBLOCK)
        guard fd >= 0 else { error = "cannot open \(path): \(String(cString: strerror(errno)))"; return }
        defer { close(fd) }
        let size = 1 << 20
        let buf = UnsafeMutablePointer<UInt8>.allocate(capacity: size)
        defer { buf.deallocate() }
        var emptyAfterDone = 0
        while true {
            let n = read(fd, buf, size)
            if n > 0 {
                var off = 0
                while off < n {
                    let w = write(output, buf + off, n - off)
                    if w < 0 { if errno == EINTR { continue }; error = "writing the trace: \(String(cString: strerror(errno)))"; return }
                    off += w
                }
                bytes += n
                lines += countNewlines(buf, n)
                emptyAfterDone = 0
                continue
            }
            if n < 0 && errno != EAGAIN && errno != EINTR { error = "reading \(path): \(String(cString: strerror(errno)))"; return }
            if arch_load_acquire_u32(done) != 0 {
                emptyAfterDone += 1
                if emptyAfterDone >= 3 { return }   // a few empty reads in a row: the buffer is drained
            }
            usleep(5_000)
        }
    }

    private func countNewlines(_ p: UnsafeMutablePointer<UInt8>, _ n: Int) -> Int {
        var c = 0
        for i in 0..<n where p[i] == 0x0A { c += 1 }
        return c
    }
}

