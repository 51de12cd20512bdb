import Foundation

/// The tracefs files of one private ftrace instance (`instances/<name>` under the tracefs
/// mount, kernel/trace/trace.c `instance_mkdir`): its own ring buffer, event switches,
/// `set_event_pid` and options. Recording in an instance of our own leaves the global
/// tracing state (and anyone else's trace) as it was; removing the instance undoes everything
/// set in it. When tracefs was not mounted, it is mounted here and unmounted at `close()`.
final class Tracefs {
    let root: String
    let instance: String
    private let mountedHere: Bool
    private var closed = false

    static let mountPoints = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"]

    /// Finds or mounts tracefs and creates the instance. Errors say what is missing.
    init(instanceName: String) throws {
        guard geteuid() == 0 else {
            throw TraceError("trace record needs root: tracefs and the kmem tracepoints are root-only (try: sudo numastress trace record …)")
        }
        var found = Self.mountPoints.first { FileManager.default.fileExists(atPath: $0 + "/trace_pipe") }
        var mounted = false
        if found == nil {
            let target = Self.mountPoints[0]
            if mount("nodev", target, "tracefs", 0, nil) == 0 {
                found = target
                mounted = true
            } else {
                let why = String(cString: strerror(errno))
                throw TraceError("tracefs is not available: it is not mounted and `mount -t tracefs nodev \(target)` failed (\(why)); is the kernel built with CONFIG_TRACING, and is this a container without CAP_SYS_ADMIN?")
            }
        }
        root = found!
        mountedHere = mounted
        instance = root + "/instances/" + instanceName
        if mkdir(instance, 0o755) != 0 && errno != EEXIST {
            let why = String(cString: strerror(errno))
            if mounted { umount(root) }
            throw TraceError("cannot create the ftrace instance \(instance): \(why)")
        }
    }

    /// The kmem events this kernel has (events/kmem/*).
    func availableEvents(system: String = "kmem") -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "\(root)/events/\(system)")) ?? [])
            .filter { FileManager.default.fileExists(atPath: "\(root)/events/\(system)/\($0)/enable") }.sorted()
    }

    func write(_ file: String, _ value: String) throws {
        let path = instance + "/" + file
        let fd = open(path, O_WRONLY | O_TRUNC)
        guard fd >= 0 else { throw TraceError("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { Foundation.close(fd) }
        let ok = value.withCString { Foundation.write(fd, $0, strlen($0)) } >= 0
        guard ok else { throw TraceError("cannot write \"\(value)\" to \(path): \(String(cString: strerror(errno)))") }
    }

    func read(_ file: String) -> String? { try? String(contentsOfFile: instance + "/" + file, encoding: .utf8) }

    /// Events lost by the instance's ring buffer: overrun (overwritten before they were read)
    /// plus dropped (refused when full), summed over per_cpu/cpu*/stats.
    func lostEvents() -> Int {
        let cpus = (try? FileManager.default.contentsOfDirectory(atPath: instance + "/per_cpu")) ?? []
        var lost = 0
        for c in cpus {
            guard let text = read("per_cpu/\(c)/stats") else { continue }
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: ":", maxSplits: 1)
                guard parts.count == 2 else { continue }
                let key = parts[0].trimmingCharacters(in: .whitespaces)
                if key == "overrun" || key == "dropped events" {
                    lost += Int(parts[1].trimmingCharacters(in: .whitespaces)) ?? 0
                }
            }
        }
        return lost
    }

    /// Turns the instance's events off and removes it (and unmounts what was mounted here).
    func close() {
        guard !closed else { return }
        closed = true
        try? write("tracing_on", "0")
        try? write("events/enable", "0")
        try? write("set_event_pid", "")
        if rmdir(instance) != 0 {
            FileHandle.standardError.write(Data("numastress: warning: could not remove \(instance): \(String(cString: strerror(errno)))\n".utf8))
        }
        if mountedHere { umount(root) }
    }

    deinit { close() }
}
