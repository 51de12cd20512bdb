/// Figures of a concurrent run that do not depend on how fast the machine was: events per
/// operation or per allocation, which the code's design fixes and the interleaving only
/// jitters. A slower neighbour stretches every operation alike and leaves them be; a change in
/// the allocator's paths (an extra lock round trip, a slow path taken more often) moves them.
/// Raw counters of a concurrent run are not comparable at all (they grow with speed).
public enum StableRatios {
    /// Ratio name → value for one repetition's result. Names:
    /// - `lock.<lock class>.acquisitions_per_op`: per operation of the run, over every node's
    ///   instance of the lock ("zone 0 Normal" and "zone 1 Normal" are the class "zone Normal");
    /// - `slab.<cache>.alloc_slowpath_share`, `slab.<cache>.free_slowpath_share`: the share of
    ///   allocations (frees) that left the lock-free per-CPU path;
    /// - `numa.remote_frees_per_op`: frees into a slab another CPU holds, per operation;
    /// - `zone.pcp_refills_per_alloc`: per-CPU page list refills per page allocation.
    public static func of(_ r: RunResult) -> [String: Double] {
        var out: [String: Double] = [:]
        let ops = Double(r.throughput.totalOps)
        guard ops > 0 else { return out }
        var acquisitions: [String: UInt64] = [:]
        for l in r.locks { acquisitions[lockClass(l.name), default: 0] += l.acquisitions }
        for (name, n) in acquisitions { out["lock.\(name).acquisitions_per_op"] = Double(n) / ops }
        for c in r.caches {
            guard let s = c.info.stats else { continue }
            let allocs = s.allocEvents, frees = s.freeEvents
            if allocs > 0 { out["slab.\(c.info.name).alloc_slowpath_share"] = Double(s.allocSlowpath) / Double(allocs) }
            if frees > 0 { out["slab.\(c.info.name).free_slowpath_share"] = Double(s.freeSlowpath) / Double(frees) }
        }
        // Frees into a slab another CPU has frozen, same node or not (the cmpxchg path).
        let remote = r.numa.remoteFrees.reduce(UInt64(0)) { $0 + $1.reduce(0, +) }
        out["numa.remote_frees_per_op"] = Double(remote) / ops
        let pageAllocs = r.zones.reduce(UInt64(0)) { $0 + $1.events.totalAllocs }
        if pageAllocs > 0 {
            out["zone.pcp_refills_per_alloc"] = Double(r.zones.reduce(UInt64(0)) { $0 + $1.events.pcpRefills }) / Double(pageAllocs)
        }
        return out
    }

    /// A lock's name without its node number: the instances of one lock on every node are one
    /// class (the nodes of a symmetric config share the work, not always evenly).
    static func lockClass(_ name: String) -> String {
        name.split(separator: " ").filter { !$0.allSatisfy(\.isNumber) }.joined(separator: " ")
    }
}
