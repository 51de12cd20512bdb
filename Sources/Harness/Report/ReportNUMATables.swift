import Foundation

/// The NUMA section of a report: where allocations landed, what a cache line costs on each
/// node pair, and slab frees by another CPU than the slab's owner, with the cross-node ones
/// (off the diagonal) counted apart, since "remote" there first means another CPU.
enum ReportNUMATables {
    static func html(_ r: RunResult) -> String {
        let n = r.numa.localityMatrix.count
        guard n > 0 else { return "" }
        // Model node order, named by OS node number as numactl and sysfs name them.
        let names = (0..<n).map { "node \(r.topology.nodes.indices.contains($0) ? r.topology.nodes[$0].osIndex : $0)" }
        let cols = ["CPU node \\ memory node"] + names
        func rows<T>(_ m: [[T]], _ cell: (T) -> String) -> [[String]] {
            m.enumerated().map { [$0.offset < n ? names[$0.offset] : "node \($0.offset)"] + $0.element.map(cell) }
        }
        var body = (r.numa.binding ?? []).map { "<p>Binding: \(ReportPage.escape($0.line))</p>\n" }.joined()
        body += "<p>Distances (\(ReportPage.escape(r.numa.distanceOrigin))): "
            + r.numa.distances.map { "[" + $0.map(String.init).joined(separator: ", ") + "]" }.joined(separator: " ") + ".</p>\n"
        body += "<h3>Allocations by CPU node and memory node</h3>\n" + ReportPage.table(cols, rows(r.numa.localityMatrix) { ReportTables.count($0) })
        body += "<h3>numastat</h3>\n<p>Page allocations per node as the kernel counts them in <code>zone_statistics()</code> (also in <code>sys/devices/system/node/nodeN/numastat</code>): hit/miss against the node the allocation preferred, foreign on the preferred node when another served it, local/other against the allocating CPU's node.</p>\n"
        body += ReportPage.table(["counter"] + (0..<r.numastat.count).map { $0 < n ? names[$0] : "node \($0)" },
                                 r.numastatRows.map { [$0.name] + $0.values.map { ReportTables.count($0) } })
        if let m = r.numa.accessCost {
            body += "<h3>Access cost per cache line</h3>\n<p>Measured / modelled (local × distance/10); the run's remote cost: \(ReportPage.escape(r.numa.costLabel)).</p>\n"
            body += ReportPage.table(cols, (0..<m.measuredNS.count).map { i in
                [i < n ? names[i] : "node \(i)"] + (0..<m.measuredNS[i].count).map { j in String(format: "%.1f / %.1f ns", m.measuredNS[i][j], m.modelledNS[i][j]) }
            })
        }
        let (all, crossNode) = r.crossCPUFrees
        if all > 0 {
            body += "<h3>Cross-CPU slab frees</h3>\n<p>Objects freed by another CPU than the one whose slab they came from, by the freeing CPU's node (rows) and the slab's node (columns): \(ReportTables.count(all)) in all, of which \(ReportTables.count(crossNode)) cross-node (off the diagonal).</p>\n"
            body += ReportPage.table(["freeing node \\ slab node"] + names, rows(r.numa.remoteFrees) { ReportTables.count($0) })
        }
        if r.handoff.sent > 0 {
            body += "<p>Handoff: \(ReportTables.count(r.handoff.sent)) objects sent to consumer CPUs, \(ReportTables.count(r.handoff.received)) received, \(ReportTables.count(r.handoff.full)) freed by the producer (ring full).</p>\n"
        }
        return ReportTables.section("NUMA", body)
    }
}
