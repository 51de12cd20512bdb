import Foundation

/// `compare-allocators`: one config's object traffic through the modelled slab layer and through
/// each real malloc (glibc, and Debian's jemalloc, tcmalloc and mimalloc through LD_PRELOAD),
/// each run in its own process, the median of several runs, as a ratio table against glibc.
public enum AllocatorComparison {
    /// One contender: how to run it (`allocator` override, library to preload, further `run`
    /// options) and the folder its runs go to.
    public struct Contender: Sendable, Equatable {
        public var label: String
        public var allocator: String
        public var preload: String?
        public var arguments: [String]
        public var folder: String
        public init(label: String, allocator: String, preload: String?, arguments: [String] = [], folder: String? = nil) {
            self.label = label; self.allocator = allocator; self.preload = preload; self.arguments = arguments
            self.folder = folder ?? String(label.split(separator: " ").first ?? "run")
        }
    }

    /// Library files of the Debian packages libjemalloc2, libtcmalloc-minimal4, libmimalloc2.0.
    public static let peerLibraries: [(label: String, file: String, package: String)] = [
        ("jemalloc", "libjemalloc.so.2", "libjemalloc2"),
        ("tcmalloc", "libtcmalloc_minimal.so.4", "libtcmalloc-minimal4"),
        ("mimalloc", "libmimalloc.so.2", "libmimalloc2.0"),
    ]

    public static let libraryDirectories = ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib"]

    /// The slab layer as the config has it, the slab layer with percpu sheaves on every cache
    /// (Linux 7.0's arrangement, `--sheaves all`), glibc, then every peer whose library is
    /// installed; the missing ones are returned as `(label, package)` so the caller can say what
    /// to install.
    public static func contenders(libraryDirectories dirs: [String] = libraryDirectories)
        -> (found: [Contender], missing: [(label: String, package: String)]) {
        var found = [Contender(label: "slab (modelled kmalloc/kmem_cache)", allocator: "kernel", preload: nil),
                     Contender(label: "slab + sheaves on all caches (7.0)", allocator: "kernel", preload: nil,
                               arguments: ["--sheaves", "all"], folder: "slab-sheaves"),
                     Contender(label: "glibc malloc", allocator: "malloc", preload: nil)]
        var missing: [(String, String)] = []
        for lib in peerLibraries {
            if let dir = dirs.first(where: { FileManager.default.fileExists(atPath: "\($0)/\(lib.file)") }) {
                found.append(Contender(label: lib.label, allocator: "malloc", preload: "\(dir)/\(lib.file)"))
            } else {
                missing.append((lib.label, lib.package))
            }
        }
        return (found, missing)
    }

    /// Measured figures of one contender over its runs.
    public struct Row: Sendable {
        public var contender: Contender
        /// What the child process reported as its malloc (proves the preload took).
        public var mallocSeen: String
        public var opsPerSec: [Double]
        public var cpus: Int
        public var p99NS: UInt64

        public var median: Double { let s = opsPerSec.sorted(); return s.isEmpty ? 0 : s[s.count / 2] }
        /// Nanoseconds per operation on one CPU (operations include the workload's own work).
        public var nsPerOp: Double { median > 0 ? Double(cpus) * 1e9 / median : .infinity }
        public var spread: Double {
            guard let lo = opsPerSec.min(), let hi = opsPerSec.max(), median > 0 else { return 0 }
            return (hi - lo) / median
        }
        public init(contender: Contender, mallocSeen: String, opsPerSec: [Double], cpus: Int, p99NS: UInt64) {
            self.contender = contender; self.mallocSeen = mallocSeen; self.opsPerSec = opsPerSec; self.cpus = cpus; self.p99NS = p99NS
        }
    }

    /// The figures of one finished run, as a row entry.
    public static func figures(of r: RunResult) -> (opsPerSec: Double, cpus: Int, malloc: String, p99NS: UInt64) {
        let allocs = r.operations.filter { OpKind(rawValue: $0.op).map { !$0.isFree } ?? false }
        return (r.throughput.opsPerSec, r.throughput.perCPU.count, r.host.malloc ?? "unknown", allocs.map(\.p99NS).max() ?? 0)
    }

    /// The ratio table: time per operation against glibc's (below 1 is faster than glibc).
    public static func table(_ rows: [Row]) -> String {
        let glibc = rows.first { $0.contender.allocator == "malloc" && $0.contender.preload == nil }
        var out = "allocator".padding(toLength: 36, withPad: " ", startingAt: 0)
            + "  Mops/s   ns/op/CPU  spread  p99 alloc  x glibc  malloc in use\n"
        for r in rows {
            let ratio = glibc.map { String(format: "%7.2f", r.nsPerOp / $0.nsPerOp) } ?? "      -"
            out += r.contender.label.padding(toLength: 36, withPad: " ", startingAt: 0)
                + String(format: " %7.2f %11.1f %6.0f%% %8lluns  %@  ", r.median / 1e6, r.nsPerOp, r.spread * 100, r.p99NS, ratio)
                + (r.contender.allocator == "kernel" ? "-" : r.mallocSeen) + "\n"
        }
        return out
    }

    /// Whether a contender's run counts: it ended normally, or (a malloc contender only) with
    /// failed expectations, exit 4. A config's expectations describe the modelled slab layer
    /// (`cache.kmalloc-256.free_slowpath > 0`); a run on malloc leaves those figures at 0, which
    /// says nothing about its timing. The slab rows must still meet them.
    public static func usable(_ c: Contender, exitStatus: Int32) -> Bool {
        exitStatus == 0 || (exitStatus == 4 && c.allocator == "malloc")
    }

    /// A preload that did not take shows up as glibc in the child: the figure would be a lie.
    public static func preloadTook(_ row: Row) -> Bool {
        guard row.contender.preload != nil else { return true }
        return row.mallocSeen.hasPrefix(row.contender.label)
    }
}
