import KernelMM

/// Every figure an `expect:` line may name, declared once: validation expands these families
/// for the config at hand, `Figures` fills exactly these names from a result (a test holds the
/// two together), and docs/CONFIG.md's list of figures is checked against `markdown`.
///
/// A family is a pattern with placeholders — `<class>` (atomic, nowait, blocking), `<node>`,
/// `<zone>` (DMA, DMA32, Normal), `<kind>` (zone, node_partial), `<op>`, `<cache>` — and the
/// fields it has.
public enum FigureCatalog {
    public struct Family: Sendable {
        public let pattern: String
        public let fields: [String]
        public let meaning: String
    }

    static let latency = ["p50", "p90", "p99", "p999", "max"]
    /// The percpu sheaf counters under their sysfs names.
    static let sheafFields = SlabAllocator.SheafStats.sysfsNames
    static let zoneFields = ["allocs", "failures", "watermark_hits", "reclaim_passes", "direct_reclaims", "sleeps",
                             "zone_fallbacks", "node_fallbacks", "pcp_refills", "pcp_drains", "reserve_allocs"]
    static let lockFields = ["acquisitions", "contended", "contended_pct", "spins", "sleeps", "wait_ns", "hold_ns",
                             "max_wait_ns", "max_hold_ns", "cas_attempts", "cas_failures", "retries_per_op",
                             "longest_retry_chain", "restarts", "aborted_claims"]

    public static let families: [Family] = [
        Family(pattern: "throughput", fields: ["ops_per_sec", "total_ops"],
               meaning: "operations of the measured phase, all CPUs"),
        Family(pattern: "<class>", fields: ["allocs", "failures", "reserve_allocs", "sleeps", "slept_ns", "direct_reclaims",
                                            "nofail_stalled"],
               meaning: "page allocations by GFP class; reserve_allocs passed the watermark only thanks to ALLOC_MIN_RESERVE/ALLOC_NON_BLOCK"),
        Family(pattern: "<class>.latency", fields: latency,
               meaning: "sampled latency (ns) of every allocating operation of the class together"),
        Family(pattern: "op.<op>.<class>", fields: ["count", "failures"] + latency,
               meaning: "one operation in one GFP class: count, failures, sampled latency (ns)"),
        Family(pattern: "zones", fields: zoneFields, meaning: "zone events summed over every zone"),
        Family(pattern: "zone[<node>].<zone>", fields: zoneFields + ["free_end", "pages"],
               meaning: "one zone's events; free_end is its free pages when the measured phase ended"),
        Family(pattern: "kswapd", fields: ["wakeups", "passes"], meaning: "kswapd of every node together"),
        Family(pattern: "vmstat", fields: ZoneVMEvent.allCases.map(\.description),
               meaning: "/proc/vmstat-style events of every zone together: extfrag (mm_page_alloc_extfrag: all, fragmenting, whole-pageblock steals), the high-atomic reserve, compaction, page migration and THP faults"),
        Family(pattern: "kswapd[<node>]", fields: ["wakeups", "passes"], meaning: "one node's kswapd"),
        Family(pattern: "locks.<kind>", fields: lockFields,
               meaning: "every zone lock, or every node-partial list_lock, together (lock_stat figures; ns); a lock-free (atomic) zone counts operations as acquisitions, operations that retried as contended and failed CASes as spins, and has the cas_* figures (0 for locks)"),
        Family(pattern: "numa", fields: ["local_allocs", "remote_allocs", "local_frees", "remote_frees"],
               meaning: "allocations served from the CPU's own node or another; slab frees into a slab of the freeing CPU's node or another"),
        Family(pattern: "binding", fields: ["checked_nodes", "verified_nodes", "unverified_nodes"],
               meaning: "nodes whose arena pages were found on their host node (move_pages) on a multi-node host; 0 checked on one node"),
        Family(pattern: "numa.measured", fields: ["local_ns", "remote_ns"],
               meaning: "access-cost probe: mean ns of local and of remote node pairs (absent with --no-probe)"),
        Family(pattern: "numa.modelled", fields: ["local_ns", "remote_ns"],
               meaning: "measured local cost × distance/10, local and remote pairs"),
        Family(pattern: "numa.injected", fields: ["remote_ns"],
               meaning: "the extra ns really spent per remote access with remote_cost: inject (0 otherwise)"),
        Family(pattern: "tlb", fields: ["l1_hits", "l2_hits", "misses", "walks", "faults", "single_invalidations",
                                        "full_flushes", "ipis_sent", "ipis_received", "shootdowns", "shootdown_wait_ns",
                                        "stale_uses"],
               meaning: "TLBs and shootdowns of every CPU together"),
        Family(pattern: "cache.<cache>", fields: ["active_objs", "slabs", "remote_frees", "alloc_fastpath", "alloc_slowpath",
                                                  "free_fastpath", "free_slowpath", "alloc_from_partial", "alloc_slab", "errors",
                                                  "slab_errors"] + sheafFields,
               meaning: "one slab cache: slabinfo, CONFIG_SLUB_STATS counters (the sheaf ones 0 without sheaves), SLUB debug errors (by report, and as the kernel's self-tests count them)"),
        Family(pattern: "slab", fields: ["alloc_fastpath", "alloc_slowpath", "free_fastpath", "free_slowpath"] + sheafFields,
               meaning: "every slab cache together: objects through the CPU slab's fast and slow paths and through the percpu sheaves"),
        Family(pattern: "validation", fields: ["passes", "errors"],
               meaning: "validate_slab_cache() passes over the debug caches (slub_debug) and the slab_errors they found"),
        Family(pattern: "handoff", fields: ["sent", "received", "full"], meaning: "objects passed between workloads"),
        Family(pattern: "invariants", fields: ["violations"], meaning: "invariant violations found after the drain"),
        Family(pattern: "faults", fields: ["injected", "detected", "missed", "unexplained"],
               meaning: "faults: injected misuse of every kind; unexplained counts debug reports no injected fault explains"),
        Family(pattern: "faults.<fault>", fields: ["injected", "detected", "missed"],
               meaning: "faults: one kind of injected misuse (double_free, invalid_free, foreign_free, red_zone, use_after_free, wrong_cache, wrong_order, sleep_in_atomic)"),
    ]

    /// What the placeholders stand for in one config.
    public struct Context: Sendable {
        public var nodes: Int
        public var caches: [String]
        public init(nodes: Int, caches: [String]) { self.nodes = nodes; self.caches = caches }
    }

    /// Every concrete figure name of a config.
    public static func names(_ ctx: Context) -> Set<String> {
        var out = Set<String>()
        for f in families {
            for prefix in expand(f.pattern, ctx) { for field in f.fields { out.insert(prefix + "." + field) } }
        }
        return out
    }

    static func expand(_ pattern: String, _ ctx: Context) -> [String] {
        let values: [String: [String]] = [
            "<class>": GFPClass.allCases.map(\.description),
            "<node>": (0..<ctx.nodes).map(String.init),
            "<zone>": ZoneType.allCases.map(\.description),
            "<kind>": ["zone", "node_partial"],
            "<op>": OpKind.allCases.map(\.rawValue),
            "<cache>": ctx.caches + SlabAllocator.kmallocCacheNames,
            "<fault>": FaultKind.allCases.map(\.rawValue),
        ]
        var results = [pattern]
        for (placeholder, options) in values where pattern.contains(placeholder) {
            results = results.flatMap { r in options.map { r.replacingOccurrences(of: placeholder, with: $0) } }
        }
        return results
    }

    /// The list of figures as docs/CONFIG.md shows it.
    public static var markdown: String {
        families.map { "- `\($0.pattern).{\($0.fields.joined(separator: ","))}`: \($0.meaning)" }.joined(separator: "\n") + "\n"
    }
}
