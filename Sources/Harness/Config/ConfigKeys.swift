/// The keys each mapping accepts, in the order the hints list them.
enum ConfigKeys {
    static let top = ["name", "topology", "memory", "locks", "remote_cost", "caches", "run", "workloads", "faults", "vary", "expect", "sweep"]
    static let topology = ["host", "synthetic", "xml", "distances"]
    static let memory = ["per_node", "zones", "max_order", "prefault", "watermarks", "pcp", "oom_wait", "kswapd", "compaction"]
    static let locks = ["zone", "node_partial"]
    static let cache = ["name", "size", "align", "flags", "ctor", "sheaf_capacity"]
    static let run = ["duration", "operations", "warmup", "seed", "repetitions", "deterministic", "sample_rate",
                      "slub_debug", "validate_every", "on_slab_error", "sheaves"]
    static let workload = ["name", "cpus", "op", "size", "order", "cache", "prot", "policy", "huge", "mix", "gfp", "atomic_share", "lifetime",
                           "handoff", "from", "touch", "allocator", "trace"]
    static let faults = FaultKind.allCases.map(\.rawValue)
    static let mixEntry = ["op", "weight", "size", "order", "cache", "prot", "policy", "huge"]
}

/// Walks one config's node tree. Each method reads one section and throws a located
/// `ConfigError`; `path` (`workloads[1].mix[0].size`) starts each message, so the message alone
