import Foundation

/// The parts of a report about what the run claimed and went through beyond the allocator
/// tables: its `expect:` verdicts, the figures per GFP class, kswapd, and the checks at the end
/// (drain, invariants, kernel log). Each section is left out when the result has no such data.
enum ReportRunChecks {
    static func expectations(_ r: RunResult) -> String {
        guard let e = r.expectations, !e.isEmpty else { return "" }
        let failed = e.filter { !$0.passed }.count
        let verdict = failed == 0 ? "All \(e.count) expectations hold." : "\(failed) of \(e.count) expectations FAILED."
        return ReportTables.section("Expectations", note: "The config's expect: lines, checked against this run. " + verdict,
                                    ReportPage.table(["verdict", "config line", "expectation", "measured"], e.map { o in
            [o.passed ? "PASS" : "FAIL", "\(o.line)", (o.variant.map { "[\($0)] " } ?? "") + o.text,
             o.measured]
        }))
    }

    static func gfpClasses(_ r: RunResult) -> String {
        guard let g = r.gfpClasses, !g.isEmpty else { return "" }
        func c(_ v: UInt64) -> String { ReportTables.count(v) }
        var body = ReportPage.table(["GFP class", "allocs", "failures", "via reserves", "sleeps", "slept", "direct reclaims",
                                     "NOFAIL stalled", "samples", "p50", "p90", "p99", "p99.9", "max"], g.map { x in
            [x.gfpClass, c(x.allocs), c(x.failures), c(x.reserveAllocs), c(x.sleeps), ReportTables.ns(x.sleptNS), c(x.directReclaims),
             c(x.nofailStalled), c(x.samples), ReportTables.ns(x.p50NS), ReportTables.ns(x.p90NS), ReportTables.ns(x.p99NS),
             ReportTables.ns(x.p999NS), ReportTables.ns(x.maxNS)]
        })
        if let k = r.kswapd, !k.isEmpty {
            body += "<h3>kswapd</h3>\n" + ReportPage.table(["node", "wake-ups", "balance passes"], k.map { ["node \($0.node)", c($0.wakeups), c($0.passes)] })
        }
        return ReportTables.section("GFP classes", note: "What each class of caller went through: allocations that passed only thanks to the reserves (ALLOC_MIN_RESERVE / ALLOC_NON_BLOCK), sleeps for free pages, direct reclaim, and allocation latency over all its operations.", body)
    }

    static func checks(_ r: RunResult) -> String {
        var body = ""
        if let drain = r.drain { body += "<p class=\"bad\">Drain: \(ReportPage.escape(drain))</p>\n" }
        if r.invariants.checked == false {
            body += "<p class=\"bad\">Invariants: not checked (the drain did not finish).</p>\n"
        } else if r.invariants.passed {
            body += "<p>Invariants: OK (pages conserved, buddy state as at boot, every object back).</p>\n"
        } else {
            body += "<p class=\"bad\">Invariants: FAILED</p>\n<ul>" + r.invariants.violations.map { "<li>\(ReportPage.escape($0))</li>" }.joined() + "</ul>\n"
        }
        let stalled = r.zones.reduce(UInt64(0)) { $0 + $1.events.nofailStalled }
        if stalled > 0 { body += "<p>\(ReportTables.count(stalled)) __GFP_NOFAIL allocation(s) were still retrying when the run ended (stalled, not failed).</p>\n" }
        let log = r.kernelLog.filter { $0.value > 0 }.sorted { $0.key < $1.key }
        body += "<p>Kernel log: " + (log.isEmpty ? "quiet" : ReportPage.escape(log.map { "\($0.key) \($0.value)" }.joined(separator: ", "))) + ".</p>\n"
        return ReportTables.section("Checks", body)
    }
}
