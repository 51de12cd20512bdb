import Foundation
import KernelMM

/// The report's tables, built from the decoded result (not from summary.md): each section is a
/// heading, a sentence saying what the figures are, and a table, with times in ns/µs/ms and
/// counts grouped by thousands so that columns can be compared at a glance.
enum ReportTables {
    static func html(_ r: RunResult) -> String {
        [ReportRunChecks.expectations(r), throughput(r), operations(r), ReportRunChecks.gfpClasses(r), locks(r), zones(r),
         ReportNUMATables.html(r), caches(r), tlb(r), ReportRunChecks.checks(r)].joined()
    }

    static func section(_ title: String, note: String? = nil, _ body: String) -> String {
        "<h2>\(ReportPage.escape(title))</h2>\n" + (note.map { "<p>\(ReportPage.escape($0))</p>\n" } ?? "") + body
    }

    /// 41840448 → "41 840 448" (narrow no-break spaces).
    static func count<T: BinaryInteger>(_ v: T) -> String {
        let digits = Array(String(v).reversed())
        var out = ""
        for (i, d) in digits.enumerated() {
            if i > 0 && i % 3 == 0 && d != "-" { out.append("\u{202F}") }
            out.append(d)
        }
        return String(out.reversed())
    }

    static func ns<T: BinaryInteger>(_ v: T) -> String { PlotAxes.time(Double(v)) }
    static func rate(_ v: Double) -> String { Progress.si(v) + " ops/s" }
    static func pct(_ part: UInt64, _ whole: UInt64) -> String {
        whole == 0 ? "-" : String(format: "%.2f%%", Double(part) * 100 / Double(whole))
    }

    static func throughput(_ r: RunResult) -> String {
        var body = "<p>\(count(r.throughput.totalOps)) operations in \(String(format: "%.2f s", Double(r.run.elapsedNS) / 1e9)): \(rate(r.throughput.opsPerSec)).</p>\n"
        if r.repetitions.count > 1 {
            body += ReportPage.table(["repetition", "ops", "ops/s"], r.repetitions.enumerated().map { i, x in
                ["\(i + 1)", count(x.totalOps), rate(x.opsPerSec)]
            })
        }
        if !r.throughput.perWorkload.isEmpty {
            body += ReportPage.table(["workload", "ops"], r.throughput.perWorkload.sorted { $0.key < $1.key }.map { [$0.key, count($0.value)] })
        }
        body += ReportPage.table(["CPU", "node", "host PU", "ops", "ops/s", "atomic ops"], r.throughput.perCPU.map { c in
            ["cpu\(c.cpu)", "\(c.node)", "\(c.hostPU)", count(c.ops), rate(c.opsPerSec), count(c.atomicOps)]
        })
        return section("Throughput", body)
    }

    static func operations(_ r: RunResult) -> String {
        guard !r.operations.isEmpty else { return "" }
        return section("Operations by GFP class", note: "Latency percentiles over the sampled operations (one in \(r.run.sampleRate) on average).",
                       ReportPage.table(["op", "GFP class", "count", "failures", "samples", "p50", "p90", "p99", "p99.9", "max", "mean"],
                                        r.operations.map { o in
            [o.op, o.gfpClass, count(o.count), count(o.failures), count(o.samples), ns(o.p50NS), ns(o.p90NS), ns(o.p99NS),
             ns(o.p999NS), ns(o.maxNS), PlotAxes.time(o.meanNS)]
        }))
    }

    static func locks(_ r: RunResult) -> String {
        let used = r.locks.filter { $0.acquisitions > 0 }.sorted { ($0.waitNS, $0.acquisitions) > ($1.waitNS, $1.acquisitions) }
        guard !used.isEmpty else { return "" }
        return section("Locks", note: "Every lock taken in the measured phase, most total wait first (lock_stat style; times summed over acquisitions).",
                       ReportPage.table(["lock", "policy", "acquisitions", "contended", "spins", "sleeps", "wait total", "wait max", "hold mean", "hold max"],
                                        used.map { l in
            [l.name, l.policy.rawValue, count(l.acquisitions), pct(l.contended, l.acquisitions), count(l.spins), count(l.sleeps),
             ns(l.waitNS), ns(l.maxWaitNS), ns(l.holdNS / max(l.acquisitions, 1)), ns(l.maxHoldNS)]
        }))
    }

    static func zones(_ r: RunResult) -> String {
        let shown = r.zones.filter { $0.pages > 0 }
        guard !shown.isEmpty else { return "" }
        return section("Zones", note: "Page allocator events per zone (allocations and failures by GFP class: atomic / nowait / blocking).",
                       ReportPage.table(["zone", "pages", "free at end", "allocs a/n/b", "failures a/n/b", "frees", "zone fallbacks",
                                         "node fallbacks", "watermark hits", "reclaim passes", "direct reclaims", "sleeps", "PCP refills/drains"],
                                        shown.map { z in
            let e = z.events
            return ["node \(z.node) \(z.zone)", count(z.pages), count(z.freePagesEnd),
                    "\(count(e.allocAtomic)) / \(count(e.allocNowait)) / \(count(e.allocBlocking))",
                    "\(count(e.failAtomic)) / \(count(e.failNowait)) / \(count(e.failBlocking))", count(e.frees),
                    count(e.zoneFallbacks), count(e.nodeFallbacks), count(e.watermarkHits), count(z.reclaimPasses),
                    count(e.directReclaims), count(e.sleeps), "\(count(e.pcpRefills)) / \(count(e.pcpDrains))"]
        }))
    }

    static func caches(_ r: RunResult) -> String {
        guard !r.caches.isEmpty else { return "" }
        return section("Slab caches", note: "slabinfo figures at the end of the measured phase; fast/slow path shares are CONFIG_SLUB_STATS counts since the cache was made (warm-up included).",
                       ReportPage.table(["cache", "objsize", "active / total objs", "slabs", "pages/slab", "slow alloc", "slow free",
                                         "cpu partial alloc/free", "cross-CPU frees", "errors"], r.caches.map { c in
            let i = c.info, st = i.stats
            return [i.name, "\(i.objectSize)", "\(count(i.activeObjects)) / \(count(i.totalObjects))", count(i.slabs), "\(i.pagesPerSlab)",
                    st.map { pct($0.allocSlowpath, $0.allocEvents) } ?? "-",
                    st.map { pct($0.freeSlowpath, $0.freeEvents) } ?? "-",
                    st.map { "\(count($0.cpuPartialAlloc)) / \(count($0.cpuPartialFree))" } ?? "-",
                    count(i.remoteFrees), count(c.errors.values.reduce(0, +))]
        }))
    }

    static func tlb(_ r: RunResult) -> String {
        guard let t = r.tlb else { return "" }
        let c = t.totals
        var body = ReportPage.table(["lookups", "L1 hits", "STLB hits", "misses", "walks", "faults", "IPIs sent", "IPIs received",
                                     "invlpg", "full flushes", "lazy purges", "stale uses"],
                                    [[count(c.l1Hits + c.l2Hits + c.misses), count(c.l1Hits), count(c.l2Hits), count(c.misses),
                                      count(c.walks), count(c.faults), count(c.ipisSent), count(c.ipisReceived),
                                      count(c.singleInvalidations), count(c.fullFlushes), count(t.lazyPurges), count(c.staleUses)]])
        let busy = t.spaces.filter { $0.shootdowns > 0 }
        if !busy.isEmpty {
            body += ReportPage.table(["address space", "shootdowns", "CPUs each", "mean wait", "max wait", "page-table pages"], busy.map { s in
                [s.name, count(s.shootdowns), String(format: "%.1f", s.meanTargets), PlotAxes.time(s.meanWaitNS), ns(s.maxWaitNS), count(s.pageTablePages)]
            })
        }
        return section("TLB", note: "Translations and shootdowns (IPIs are real messages between the pinned CPU threads).", body)
    }
}
