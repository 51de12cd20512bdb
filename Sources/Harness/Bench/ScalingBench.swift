import Foundation
import KernelMM
import Topology

/// Throughput against CPU count for three workloads, each a real runner run on pinned CPUs:
/// a local-only slab workload (per-CPU freelists, nothing shared: should scale linearly), a
/// remote-free workload (half the CPUs allocate, half free: cmpxchg on shared slab words), and
/// a shared-zone workload (order-4 pages bypass the per-CPU lists: one zone lock for all), the
/// last once per zone policy: `shared-zone` (spin), `shared-zone-mutex`, `shared-zone-atomic`
/// (no lock: the lock-free buddy).
public enum ScalingBench {
    public struct Point: Codable, Sendable {
        public var workload: String
        public var cpus: Int
        public var opsPerSec: Double
        /// Over the workload's smallest run, per CPU (n × ops(n) / (n × ops(n0)/n0)).
        public var speedup: Double
    }

    public static var hostPUs: Int { HostBinding.shared.machine.pus.count }

    public static let workloads = ["local-slab", "remote-free", "shared-zone", "shared-zone-mutex", "shared-zone-atomic"]

    /// 1, 2, 4, 8, … up to the host's PUs, and the host's PU count itself.
    public static func cpuCounts(hostPUs: Int, max limit: Int? = nil) -> [Int] {
        let top = min(limit ?? hostPUs, hostPUs)
        var counts = Array(sequence(first: 1) { $0 * 2 < top ? $0 * 2 : nil })
        if counts.last != top { counts.append(top) }
        return counts
    }

    static func yaml(_ workload: String, cpus n: Int, durationMS: Int, sampleRate: Int? = nil) -> String {
        let rate = sampleRate.map { ", sample_rate: \($0)" } ?? ""
        let head = """
            name: scaling-\(workload)-\(n)
            topology: { synthetic: "pack:1 [numa] core:\(n) pu:1" }
            memory: { per_node: \(64 + 16 * n)MiB, zones: { DMA: 0MiB, DMA32: 0MiB } }
            caches: [ { name: obj, size: 256, flags: [SLAB_HWCACHE_ALIGN] } ]
            run: { duration: \(durationMS)ms, warmup: 200ms, seed: 1\(rate) }
            workloads:

            """
        switch workload {
        case "local-slab":
            return head + """
                  - name: local
                    cpus: all
                    lifetime: { keep: 64, order: lifo }
                    mix: [ { op: kmem_cache_alloc, cache: obj }, { op: kmalloc, size: 64 } ]
                """
        case "remote-free":
            let half = n / 2
            return head + """
                  - { name: rx, cpus: "0-\(half - 1)", op: kmem_cache_alloc, cache: obj, handoff: tx }
                  - { name: tx, cpus: "\(half)-\(n - 1)", op: kmem_cache_free, from: rx }
                """
        default:
            let policy = workload.hasPrefix("shared-zone-") ? String(workload.dropFirst("shared-zone-".count)) : "spin"
            return "locks: { zone: \(policy) }\n" + head + """
                  - { name: pages, cpus: all, op: alloc_pages, order: 4 }
                """
        }
    }

    /// Runs every workload at every count (remote-free from 2 CPUs) and returns the points.
    public static func run(cpuCounts: [Int], durationMS: Int, progress: (Point) -> Void = { _ in }) async throws -> [Point] {
        var points: [Point] = []
        for w in workloads {
            var base: Double? = nil
            for n in cpuCounts where w != "remote-free" || n >= 2 {
                let cfg = try ConfigLoader.parse(yaml: yaml(w, cpus: n, durationMS: durationMS), file: "scaling-\(w).yaml",
                                                 baseDirectory: FileManager.default.currentDirectoryPath)
                var options = Runner.Options()
                options.probeAccessCost = false
                let r = try await Runner.run(cfg, options: options).result
                guard r.complete else { throw BenchError("scaling \(w) on \(n) CPUs stopped: \(r.stopReason ?? "?")") }
                let perCPU = r.throughput.opsPerSec / Double(n)
                if base == nil { base = perCPU }
                let p = Point(workload: w, cpus: n, opsPerSec: r.throughput.opsPerSec, speedup: r.throughput.opsPerSec / base!)
                progress(p)
                points.append(p)
            }
        }
        return points
    }

    public static func csv(_ points: [Point]) -> String {
        "workload,cpus,ops_per_sec,speedup\n" + points.map { String(format: "%@,%d,%.1f,%.3f", $0.workload, $0.cpus, $0.opsPerSec, $0.speedup) }.joined(separator: "\n") + "\n"
    }

    public static let header = "workload            cpus      M ops/s   speedup  per-CPU efficiency"

    public static func row(_ p: Point) -> String {
        p.workload.padding(toLength: 18, withPad: " ", startingAt: 0)
            + String(format: " %5d %12.2f %8.2fx %10.0f%%", p.cpus, p.opsPerSec / 1e6, p.speedup, p.speedup / Double(p.cpus) * 100)
    }
}
