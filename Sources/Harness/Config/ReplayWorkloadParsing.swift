import Foundation
import KernelMM
import Topology

/// `op: replay, trace: FILE`: a workload that replays a recorded kmem trace (see
/// `numastress replay`) beside the config's synthetic workloads, so traced and synthetic load
/// contend for the same zones and caches.
extension ConfigReader {
    /// The replay workload when `op` is `replay` (nil otherwise: an ordinary workload).
    func replayWorkload(_ f: Fields, _ path: String, _ w: WorkloadSpec, machine: Machine, memory: MemoryConfig) throws -> WorkloadEntry? {
        guard let opNode = f["op"], case .scalar(let s) = opNode, s.string == "replay" else { return nil }
        for k in ConfigKeys.workload where f[k] != nil && !["name", "op", "trace"].contains(k) {
            throw fail(f.key(k), "\(path): \(k) does not apply to op: replay",
                       hint: "a replay workload runs the trace's own operations on the CPUs its trace CPUs map to")
        }
        guard let t = f["trace"] else { throw fail(opNode, "\(path): op: replay needs trace: FILE (from numastress trace record)") }
        let p = try string(t, "\(path).trace")
        let file = p.hasPrefix("/") ? p : URL(fileURLWithPath: baseDirectory).appendingPathComponent(p).path
        let plan: ReplayPlan
        do { plan = try ReplayPlan(path: file, machine: machine, maxOrder: memory.maxOrder) } catch { throw fail(t, "\(path).trace: \(error)") }
        var spec = w
        spec.replay = plan
        spec.cpus = .list(Array(Set(plan.cpus + [0])).sorted())   // CPU 0: see Replay.prepare
        return WorkloadEntry(spec: spec, fields: f, opFields: [])
    }

    /// After the workloads: the traced caches join the config's, and the run must suit a
    /// replay (it runs once, so no warm-up; CPUs wait for each other's allocations, so never
    /// all on one thread).
    func finishReplays(_ config: inout StressConfig, top: Fields) throws {
        let replays = config.workloads.compactMap(\.replay)
        guard !replays.isEmpty else { return }
        let at = top["workloads"]
        if config.run.deterministic {
            throw fail(at, "workloads: op: replay cannot run with run.deterministic (a free may wait for an allocation on another CPU)")
        }
        if config.run.warmupNS > 0 {
            throw fail(at, "workloads: op: replay needs run.warmup: 0s", hint: "a trace runs once; a warm-up would use it up before the measured phase")
        }
        for plan in replays {
            for c in plan.caches where !config.caches.contains(where: { $0.name == c.name }) {
                config.caches.append(CacheSpec(name: c.name, size: c.objectSize, flags: c.flags))
            }
        }
    }
}
