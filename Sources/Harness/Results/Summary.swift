import Foundation
import KernelMM

/// The end-of-run summary: the contrasts side by side — GFP_ATOMIC vs GFP_KERNEL latency and
/// failures, spin vs mutex waits, local vs remote cost — as a terminal table and as markdown.
public enum Summary {
    public static func text(_ r: RunResult, resultDir: String? = nil) -> String {
        render(r, markdown: false) + (resultDir.map { "\nresults: \($0)\n" } ?? "")
    }

    public static func markdown(_ r: RunResult) -> String {
        "# \(r.config.name)\n\n" + render(r, markdown: true)
    }

    static func render(_ r: RunResult, markdown md: Bool) -> String {
        var out = ""
        func section(_ title: String) { out += md ? "\n## \(title)\n\n" : "\n== \(title)\n" }
        func table(_ header: [String], _ rows: [[String]]) { out += TextTable.render(header, rows, markdown: md) }
        let status = r.complete ? "complete" : "INCOMPLETE (\(r.stopReason ?? "stopped"))"
        out += "run \(r.config.name): \(r.run.mode), seed \(r.run.seed), \(String(format: "%.2f", Double(r.run.elapsedNS) / 1e9)) s, \(status)\n"
        out += "topology \(r.topology.source): \(r.topology.nodes.count) node(s), \(r.topology.pus.count) CPU(s), \(r.host.mapping) on \(r.host.pus) host PU(s)\n"
        if let shake = r.run.shake { out += "schedule shaking: \(shake)\n" }
        out += "locks: zone \(r.run.zoneLock), node partial \(r.run.nodePartialLock); remote cost: \(r.numa.costLabel)\n"

        section("Throughput")
        out += "\(r.throughput.totalOps) ops, \(fmt(r.throughput.opsPerSec)) ops/s\n"
        if !r.throughput.perWorkload.isEmpty {
            table(["workload", "ops"], r.throughput.perWorkload.sorted { $0.key < $1.key }.map { [$0.key, "\($0.value)"] })
        }

        section("Operations by GFP class (sampled latency)")
        table(["op", "gfp", "count", "fail", "p50", "p99", "p99.9", "max"],
              r.operations.map { [$0.op, $0.gfpClass, "\($0.count)", "\($0.failures)", ns($0.p50NS), ns($0.p99NS), ns($0.p999NS), ns($0.maxNS)] })

        section("Locks")
        let busy = r.locks.filter { $0.acquisitions > 0 }.sorted { $0.waitNS > $1.waitNS }.prefix(8)
        table(["lock", "policy", "acq", "contended", "spins", "sleeps", "wait", "max wait", "hold"],
              busy.map { [$0.name, $0.policy.rawValue, "\($0.acquisitions)", String(format: "%.1f%%", $0.contendedFraction * 100),
                          "\($0.spins)", "\($0.sleeps)", ns($0.waitNS), ns($0.maxWaitNS), ns($0.holdNS)] })
        // Lock-free zones: acq = operations, contended = operations that retried, spins = failed CASes.
        for l in busy { if let a = l.atomic {
            out += "  \(l.name) (atomic): \(a.casAttempts) CAS, \(a.casFailures) failed ("
                + String(format: "%.4f", a.retriesPerOperation) + " retries/op), longest retry chain \(a.longestRetryChain), "
                + "restarts \(a.restarts), aborted claims \(a.abortedClaims)\n"
        } }

        section("Zones")
        let zones = r.zones.filter { $0.pages > 0 && ($0.events.totalAllocs > 0 || $0.events.failures > 0) }
        table(["zone", "allocs", "fail a/n/b", "fallback z/n", "wmark hits", "reclaim", "sleeps", "free end"],
              zones.map { z in let e = z.events
                  return ["\(z.node) \(z.zone)", "\(e.totalAllocs)", "\(e.failAtomic)/\(e.failNowait)/\(e.failBlocking)",
                          "\(e.zoneFallbacks)/\(e.nodeFallbacks)", "\(e.watermarkHits)", "\(z.reclaimPasses)/\(e.directReclaims)",
                          "\(e.sleeps)", "\(z.freePagesEnd)"] })
        let stalled = r.zones.reduce(0) { $0 + $1.events.nofailStalled }
        if stalled > 0 {
            out += "\(stalled) __GFP_NOFAIL allocation(s) still retrying when the run ended (stalled; not failures)\n"
        }

        if !r.caches.isEmpty {
            section("Slab caches")
            // Slow-path shares are CONFIG_SLUB_STATS counts since the cache was created (warm-up included).
            func pct(_ part: UInt64, _ whole: UInt64) -> String { whole == 0 ? "-" : String(format: "%.1f%%", Double(part) * 100 / Double(whole)) }
            table(["cache", "objsize", "objs", "slabs", "slow alloc", "slow free", "cpu partial a/f", "cross-CPU frees", "errors"],
                  r.caches.map { c in
                      let st = c.info.stats
                      return [c.info.name, "\(c.info.objectSize)", "\(c.info.totalObjects)", "\(c.info.slabs)",
                              st.map { pct($0.allocSlowpath, $0.allocEvents) } ?? "-",
                              st.map { pct($0.freeSlowpath, $0.freeEvents) } ?? "-",
                              st.map { "\($0.cpuPartialAlloc)/\($0.cpuPartialFree)" } ?? "-",
                              "\(c.info.remoteFrees)", "\(c.errors.values.reduce(0, +))"] })
        }

        section("NUMA")
        for check in r.numa.binding ?? [] { out += "binding: \(check.line)\n" }
        let n = r.numa.localityMatrix.count
        // Rows and columns are in the model's node order, named by OS node number as numactl does.
        let names = (0..<n).map { "node \(r.topology.nodes.indices.contains($0) ? r.topology.nodes[$0].osIndex : $0)" }
        out += "allocations, CPU node (rows) x memory node (columns):\n"
        table(["cpu\\mem"] + names, r.numa.localityMatrix.enumerated().map { [names[$0.offset]] + $0.element.map { "\($0)" } })
        if let cost = r.numa.accessCost {
            out += "access cost per load, measured:\n"
            table(["cpu\\mem"] + names, cost.measuredNS.enumerated().map { [names[$0.offset]] + $0.element.map { String(format: "%.1fns", $0) } })
            out += "access cost per load, modelled (local x distance/10):\n"
            table(["cpu\\mem"] + names, cost.modelledNS.enumerated().map { [names[$0.offset]] + $0.element.map { String(format: "%.1fns", $0) } })
        }
        out += "numastat (page allocations, as /sys/devices/system/node/nodeN/numastat):\n"
        table(["counter"] + (0..<r.numastat.count).map { $0 < n ? names[$0] : "node \($0)" }, r.numastatRows.map { [$0.name] + $0.values.map { "\($0)" } })
        if r.numa.remoteFrees.joined().contains(where: { $0 > 0 }) {
            // "Remote" here is another CPU than the slab's owner; only off-diagonal cells crossed nodes.
            let f = r.crossCPUFrees
            out += "cross-CPU slab frees (\(f.all), of which \(f.crossNode) cross-node), freeing node (rows) x slab node (columns):\n"
            table(["free\\slab"] + names, r.numa.remoteFrees.enumerated().map { [names[$0.offset]] + $0.element.map { "\($0)" } })
        }
        if r.handoff.sent > 0 { out += "handoff: \(r.handoff.sent) sent, \(r.handoff.received) received, \(r.handoff.full) freed locally (ring full)\n" }

        if let t = r.tlb {
            section("TLB")
            let c = t.totals
            let lookups = c.l1Hits + c.l2Hits + c.misses
            out += "lookups \(lookups): L1 hits \(c.l1Hits), STLB hits \(c.l2Hits), misses \(c.misses); walks \(c.walks) (\(c.walks == 0 ? 0 : c.walkLevels / c.walks) levels avg), faults \(c.faults)\n"
            out += "shootdowns: \(c.ipisSent) IPIs sent, \(c.ipisReceived) received; invlpg \(c.singleInvalidations), full flushes \(c.fullFlushes), lazy vmalloc purges \(t.lazyPurges)\n"
            let busy = t.spaces.filter { $0.shootdowns > 0 }
            if !busy.isEmpty {
                table(["address space", "shootdowns", "CPUs each", "mean wait", "max wait"],
                      busy.map { [$0.name, "\($0.shootdowns)", String(format: "%.1f", $0.meanTargets), ns(UInt64($0.meanWaitNS)), ns($0.maxWaitNS)] })
            }
        }

        if let f = r.faults {
            section("Injected faults")
            table(["fault", "rate", "injected", "detected", "missed"],
                  f.kinds.filter { $0.rate > 0 || $0.injected > 0 }.map { [$0.kind, "\($0.rate)", "\($0.injected)", "\($0.detected)", "\($0.missed)"] })
            out += "slub_debug: \(f.slubDebug); \(f.injected) injected, \(f.detected) detected, \(f.missed) missed; \(f.unexplained) report(s) no fault explains\n"
            out += f.missedFaults.prefix(5).map { "  missed: \($0)\n" }.joined()
        }

        section("Checks")
        if let e = r.expectations, !e.isEmpty {
            section("Expectations")
            out += ExpectationCheck.lines(e)
        }
        if let drain = r.drain { out += "drain: \(drain)\n" }
        if r.invariants.checked == false { out += "invariants: not checked\n" }
        else if r.invariants.passed { out += "invariants: OK (pages conserved, buddy state as at boot, every object back)\n" }
        else { out += "invariants: FAILED\n" + r.invariants.violations.map { "  - \($0)\n" }.joined() }
        let log = r.kernelLog.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
        out += "kernel log: " + (log.isEmpty ? "quiet" : log.joined(separator: ", ")) + "\n"
        if let v = r.validation {
            out += "slab validation: \(v.passes) pass\(v.passes == 1 ? "" : "es"), \(v.errors) slab_errors\n"
        }
        return out
    }

    static func ns(_ v: UInt64) -> String {
        if v >= 1_000_000 { return String(format: "%.1fms", Double(v) / 1e6) }
        if v >= 10_000 { return String(format: "%.1fus", Double(v) / 1e3) }
        return "\(v)ns"
    }

    static func fmt(_ v: Double) -> String { Progress.si(v) }
}
