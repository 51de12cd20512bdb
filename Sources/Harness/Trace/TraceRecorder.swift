import CArch
import Foundation

/// `numastress trace record`: runs a command with the kmem tracepoints on and streams what its
/// process tree allocates and frees in the kernel into a trace file, behind a header that says
/// which kernel and machine it came from (see `TraceHeader`).
///
/// Only the command's processes are traced (`set_event_pid` with the `event-fork` option, so
/// children it forks join), unless `allCPUs` asks for the whole system. The command starts
/// behind a gate (a shell waiting on a pipe) so that its pid is in `set_event_pid` before it
/// runs a single instruction of its own.
public enum TraceRecorder {
    public static let defaultEvents = ["kmalloc", "kfree", "kmem_cache_alloc", "kmem_cache_free",
                                       "mm_page_alloc", "mm_page_free", "mm_page_alloc_zone_locked", "mm_page_pcpu_drain"]

    public struct Options: Sendable {
        public var output: String = "numastress.trace"
        public var events: [String] = TraceRecorder.defaultEvents
        /// Trace every process on every CPU, not only the command's.
        public var allCPUs = false
        /// Ring-buffer size per CPU while recording.
        public var bufferKB = 16384
        public var command: [String] = []
        public init() {}
    }

    public struct Outcome: Sendable {
        public var eventLines: Int
        public var bytes: Int
        public var lostEvents: Int
        /// The command's exit status (128+N when a signal ended it).
        public var status: Int32
        public var seconds: Double
    }

    public static func record(_ o: Options) throws -> Outcome {
        guard !o.command.isEmpty else { throw TraceError("no command to trace (numastress trace record -o FILE -- COMMAND…)") }
        // Stop signals are noted, not fatal, until the instance is removed (see GatedChild.wait).
        RecorderSignals.install()
        defer { RecorderSignals.reset() }
        let fs = try Tracefs(instanceName: "numastress-\(getpid())")
        defer { fs.close() }
        let available = fs.availableEvents()
        for e in o.events where !available.contains(e) {
            throw TraceError("this kernel has no kmem:\(e) tracepoint (events/kmem has: \(available.joined(separator: " ")))")
        }
        var header = machineHeader()
        header.command = o.command.joined(separator: " ")
        header.events = o.events
        header.extra["scope"] = o.allCPUs ? "system" : "command"
        header.extra["recorded"] = ISO8601DateFormatter().string(from: Date())

        let outFD = open(o.output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard outFD >= 0 else { throw TraceError("cannot write \(o.output): \(String(cString: strerror(errno)))") }
        defer { close(outFD) }
        var written = 0
        func emit(_ s: String) { written += s.utf8.count; _ = s.withCString { Foundation.write(outFD, $0, strlen($0)) } }
        emit(header.lines().joined(separator: "\n") + "\n")

        try fs.write("tracing_on", "0")
        try fs.write("buffer_size_kb", String(o.bufferKB))
        for e in o.events { try fs.write("events/kmem/\(e)/enable", "1") }
        if !o.allCPUs { try fs.write("options/event-fork", "1") }

        let child = try GatedChild(o.command)
        var status: Int32 = 127
        let started = Clock.now()
        do {
            if !o.allCPUs { try fs.write("set_event_pid", String(child.pid)) }
            try fs.write("tracing_on", "1")
        } catch {
            child.abandon()
            throw error
        }
        // The reader runs while the command does: a full ring buffer loses events.
        let pump = TracePipePump(path: fs.instance + "/trace_pipe", output: outFD)
        pump.start()
        child.open()
        status = child.wait()
        try? fs.write("tracing_on", "0")
        let lines = pump.finish()
        let lost = fs.lostEvents()
        emit("# lost-events: \(lost)\n# exit-status: \(status)\n")
        return Outcome(eventLines: lines, bytes: written + pump.bytes, lostEvents: lost, status: status,
                       seconds: Clock.now() - started)
    }

    /// Kernel version, CPUs, nodes and the /proc views, read before the command runs.
    static func machineHeader() -> TraceHeader {
        var h = TraceHeader()
        h.kernel = (try? String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        let cpus = CPUList.read("/sys/devices/system/cpu/possible")
        h.cpus = cpus.isEmpty ? Int(arch_online_cpus()) : (cpus.max()! + 1)
        let nodes = CPUList.read("/sys/devices/system/node/possible")
        h.nodes = max(nodes.count, 1)
        var cpuNode = Array(repeating: 0, count: h.cpus ?? 0)
        for n in nodes {
            for c in CPUList.read("/sys/devices/system/node/node\(n)/cpulist") where c < cpuNode.count { cpuNode[c] = n }
        }
        h.cpuNodes = cpuNode
        for view in ["slabinfo", "buddyinfo", "zoneinfo"] {
            if let text = readProcFile("/proc/\(view)") { h.snapshots[view] = text }
        }
        return h
    }
}

/// The whole of a /proc file: read(2) to end of file. /proc files report size 0 and seq_file
/// hands out about a page per read, so a reader that trusts the size or reads once gets a
/// fraction of /proc/slabinfo.
func readProcFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var data = [UInt8]()
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 { if errno == EINTR { continue }; return nil }
        if n == 0 { break }
        data.append(contentsOf: buf[0..<n])
    }
    return String(decoding: data, as: UTF8.self)
}

/// A kernel cpulist ("0-3,8,10-11") as numbers.
enum CPUList {
    static func parse(_ text: String) -> [Int] {
        var out: [Int] = []
        for part in text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",") {
            let ends = part.split(separator: "-").compactMap { Int($0) }
            if ends.count == 2, ends[0] <= ends[1] { out.append(contentsOf: ends[0]...ends[1]) } else if ends.count == 1 { out.append(ends[0]) }
        }
        return out
    }

    static func read(_ path: String) -> [Int] {
        parse((try? String(contentsOfFile: path, encoding: .utf8)) ?? "")
    }
}

/// Seconds on the monotonic clock, for the recording's duration.
private enum Clock {
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
