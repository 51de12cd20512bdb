import KernelMM

/// A result's figures by the names of `FigureCatalog`: what `expect:` lines and the contrast
/// table read. Every value is one the run counted; a figure the run did not produce (the
/// access-cost probe skipped) is absent rather than 0.
public struct Figures: Sendable {
    public var values: [String: Double]

    public subscript(_ name: String) -> Double? { values[name] }

    public init(_ r: RunResult, userCaches: [String]) {
        var v: [String: Double] = [:]
        func put(_ prefix: String, _ pairs: [(String, UInt64)]) { for (k, x) in pairs { v[prefix + "." + k] = Double(x) } }

        v["throughput.ops_per_sec"] = r.throughput.opsPerSec
        v["throughput.total_ops"] = Double(r.throughput.totalOps)

        for c in r.gfpClasses ?? [] {
            put(c.gfpClass, [("allocs", c.allocs), ("failures", c.failures), ("reserve_allocs", c.reserveAllocs),
                             ("sleeps", c.sleeps), ("slept_ns", c.sleptNS), ("direct_reclaims", c.directReclaims),
                             ("nofail_stalled", c.nofailStalled)])
            put(c.gfpClass + ".latency", [("p50", c.p50NS), ("p90", c.p90NS), ("p99", c.p99NS), ("p999", c.p999NS), ("max", c.maxNS)])
        }
        for kind in OpKind.allCases {
            for cls in GFPClass.allCases {
                let o = r.operations.first { $0.op == kind.rawValue && $0.gfpClass == cls.description }
                put("op.\(kind.rawValue).\(cls)", [("count", o?.count ?? 0), ("failures", o?.failures ?? 0), ("p50", o?.p50NS ?? 0),
                                                   ("p90", o?.p90NS ?? 0), ("p99", o?.p99NS ?? 0), ("p999", o?.p999NS ?? 0),
                                                   ("max", o?.maxNS ?? 0)])
            }
        }

        func zoneFields(_ e: ZoneEvents, reclaim: UInt64) -> [(String, UInt64)] {
            [("allocs", e.totalAllocs), ("failures", e.failures), ("watermark_hits", e.watermarkHits),
             ("reclaim_passes", reclaim), ("direct_reclaims", e.directReclaims), ("sleeps", e.sleeps),
             ("zone_fallbacks", e.zoneFallbacks), ("node_fallbacks", e.nodeFallbacks), ("pcp_refills", e.pcpRefills),
             ("pcp_drains", e.pcpDrains), ("reserve_allocs", e.reserveAllocsBy.total)]
        }
        put("zones", zoneFields(r.zones.map(\.events).reduce(ZoneEvents(), +), reclaim: r.zones.reduce(0) { $0 + $1.reclaimPasses }))
        for z in r.zones {
            put("zone[\(z.node)].\(z.zone)", zoneFields(z.events, reclaim: z.reclaimPasses)
                + [("free_end", UInt64(max(z.freePagesEnd, 0))), ("pages", UInt64(max(z.pages, 0)))])
        }

        for e in ZoneVMEvent.allCases { v["vmstat.\(e)"] = Double(r.vmstat?["\(e)"] ?? 0) }

        let kswapd = r.kswapd ?? []
        put("kswapd", [("wakeups", kswapd.reduce(0) { $0 + $1.wakeups }), ("passes", kswapd.reduce(0) { $0 + $1.passes })])
        for k in kswapd { put("kswapd[\(k.node)]", [("wakeups", k.wakeups), ("passes", k.passes)]) }

        for (kind, locks) in [("zone", r.locks.filter { $0.name.hasPrefix("zone ") }),
                              ("node_partial", r.locks.filter { !$0.name.hasPrefix("zone ") })] {
            let acq = locks.reduce(0) { $0 + $1.acquisitions }, contended = locks.reduce(0) { $0 + $1.contended }
            put("locks.\(kind)", [("acquisitions", acq), ("contended", contended), ("spins", locks.reduce(0) { $0 + $1.spins }),
                                  ("sleeps", locks.reduce(0) { $0 + $1.sleeps }), ("wait_ns", locks.reduce(0) { $0 + $1.waitNS }),
                                  ("hold_ns", locks.reduce(0) { $0 + $1.holdNS }),
                                  ("max_wait_ns", locks.map(\.maxWaitNS).max() ?? 0), ("max_hold_ns", locks.map(\.maxHoldNS).max() ?? 0)])
            v["locks.\(kind).contended_pct"] = acq == 0 ? 0 : Double(contended) / Double(acq) * 100
            // The lock-free zone's figures (all 0 for locks): see AtomicBuddyFigures.
            let cas = locks.compactMap(\.atomic).reduce(AtomicBuddyFigures(), +)
            put("locks.\(kind)", [("cas_attempts", cas.casAttempts), ("cas_failures", cas.casFailures),
                                  ("longest_retry_chain", cas.longestRetryChain), ("restarts", cas.restarts),
                                  ("aborted_claims", cas.abortedClaims)])
            v["locks.\(kind).retries_per_op"] = cas.retriesPerOperation
        }

        let n = r.numa
        func split(_ m: [[UInt64]]) -> (local: UInt64, remote: UInt64) {
            var l: UInt64 = 0, o: UInt64 = 0
            for (i, row) in m.enumerated() { for (j, x) in row.enumerated() { if i == j { l += x } else { o += x } } }
            return (l, o)
        }
        let allocs = split(n.localityMatrix), frees = split(n.remoteFrees)
        put("numa", [("local_allocs", allocs.local), ("remote_allocs", allocs.remote),
                     ("local_frees", frees.local), ("remote_frees", frees.remote)])
        let binding = n.binding ?? []
        put("binding", [("checked_nodes", UInt64(binding.count)), ("verified_nodes", UInt64(binding.filter(\.verified).count)),
                        ("unverified_nodes", UInt64(binding.filter { !$0.verified }.count))])
        func means(_ m: [[Double]]) -> (local: Double, remote: Double) {
            var l: [Double] = [], o: [Double] = []
            for (i, row) in m.enumerated() { for (j, x) in row.enumerated() where x > 0 { if i == j { l.append(x) } else { o.append(x) } } }
            let mean = { (a: [Double]) in a.isEmpty ? 0 : a.reduce(0, +) / Double(a.count) }
            return (mean(l), mean(o))
        }
        if let cost = n.accessCost {
            let measured = means(cost.measuredNS), modelled = means(cost.modelledNS)
            v["numa.measured.local_ns"] = measured.local
            v["numa.measured.remote_ns"] = measured.remote
            v["numa.modelled.local_ns"] = modelled.local
            v["numa.modelled.remote_ns"] = modelled.remote
            v["numa.injected.remote_ns"] = r.run.remoteCost == "inject" ? max(modelled.remote - modelled.local, 0) : 0
        }

        let t = r.tlb?.totals ?? TLB.Counters()
        put("tlb", [("l1_hits", t.l1Hits), ("l2_hits", t.l2Hits), ("misses", t.misses), ("walks", t.walks), ("faults", t.faults),
                    ("single_invalidations", t.singleInvalidations), ("full_flushes", t.fullFlushes), ("ipis_sent", t.ipisSent),
                    ("ipis_received", t.ipisReceived), ("shootdowns", r.tlb?.spaces.reduce(0) { $0 + $1.shootdowns } ?? 0),
                    ("shootdown_wait_ns", t.shootdownWaitNS), ("stale_uses", t.staleUses)])

        for name in userCaches + SlabAllocator.kmallocCacheNames {
            let c = r.caches.first { $0.info.name == name }
            let s = c?.info.stats
            put("cache.\(name)", [("active_objs", UInt64(c?.info.activeObjects ?? 0)), ("slabs", UInt64(c?.info.slabs ?? 0)),
                                  ("remote_frees", c?.info.remoteFrees ?? 0), ("alloc_fastpath", s?.allocFastpath ?? 0),
                                  ("alloc_slowpath", s?.allocSlowpath ?? 0), ("free_fastpath", s?.freeFastpath ?? 0),
                                  ("free_slowpath", s?.freeSlowpath ?? 0), ("alloc_from_partial", s?.allocFromPartial ?? 0),
                                  ("alloc_slab", s?.allocSlab ?? 0),
                                  ("errors", UInt64(c?.errors.values.reduce(0, +) ?? 0)),
                                  ("slab_errors", UInt64(c?.slabErrors.flatMap { $0 } ?? 0))]
                                  + Self.sheafFields(s?.sheaves))
        }
        // Every cache together: where the slab layer's traffic went.
        let all = r.caches.compactMap(\.info.stats)
        put("slab", [("alloc_fastpath", all.reduce(0) { $0 + $1.allocFastpath }), ("alloc_slowpath", all.reduce(0) { $0 + $1.allocSlowpath }),
                     ("free_fastpath", all.reduce(0) { $0 + $1.freeFastpath }), ("free_slowpath", all.reduce(0) { $0 + $1.freeSlowpath })]
            + Self.sheafFields(all.compactMap(\.sheaves).reduce(into: SlabAllocator.SheafStats(sheafCapacity: 0)) { $0.add($1) }))
        put("validation", [("passes", r.validation?.passes ?? 0), ("errors", r.validation?.errors ?? 0)])
        put("handoff", [("sent", r.handoff.sent), ("received", r.handoff.received), ("full", r.handoff.full)])
        v["invariants.violations"] = Double(r.invariants.violations.count)
        let f = r.faults
        put("faults", [("injected", UInt64(f?.injected ?? 0)), ("detected", UInt64(f?.detected ?? 0)),
                       ("missed", UInt64(f?.missed ?? 0)), ("unexplained", UInt64(f?.unexplained ?? 0))])
        for kind in FaultKind.allCases {
            let k = f?.kinds.first { $0.kind == kind.rawValue }
            put("faults.\(kind.rawValue)", [("injected", UInt64(k?.injected ?? 0)), ("detected", UInt64(k?.detected ?? 0)),
                                            ("missed", UInt64(k?.missed ?? 0))])
        }
        values = v
    }

    /// The sheaf counters of one cache or of all (zeros for a cache without sheaves).
    static func sheafFields(_ s: SlabAllocator.SheafStats?) -> [(String, UInt64)] {
        Array(zip(SlabAllocator.SheafStats.sysfsNames, (s ?? SlabAllocator.SheafStats(sheafCapacity: 0)).sysfsValues))
    }
}
