import Foundation
import Histogram

/// Writes a run's folder, `Results/<config>/<timestamp>/`: result.json, summary.md, CSVs,
/// `.hgrm` percentile files, `proc/{buddyinfo,zoneinfo,slabinfo}` and kernel.log. Every file
/// is written to a temporary name and renamed, so a reader never sees half a file.
public enum ResultWriter {
    public static func write(_ outcome: RunOutcome, root: String) throws -> String {
        let r = outcome.result
        let stamp = timestamp()
        var dir = URL(fileURLWithPath: root).appendingPathComponent(r.config.name).appendingPathComponent(stamp)
        var n = 2
        while FileManager.default.fileExists(atPath: dir.path) {
            dir = dir.deletingLastPathComponent().appendingPathComponent("\(stamp)-\(n)")
            n += 1
        }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("proc"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("latency"), withIntermediateDirectories: true)
        try atomic(dir, "result.json", json(r))
        try atomic(dir, "summary.md", Summary.markdown(r))
        try atomic(dir, "per_cpu.csv", csv(["cpu", "node", "host_pu", "ops", "ops_per_sec", "atomic_ops"],
                                         r.throughput.perCPU.map { [$0.cpu, $0.node, $0.hostPU, $0.ops, $0.opsPerSec, $0.atomicOps] }))
        try atomic(dir, "operations.csv", csv(["op", "gfp_class", "count", "failures", "samples", "p50_ns", "p90_ns", "p99_ns", "p999_ns", "max_ns", "mean_ns"],
                                            r.operations.map { [$0.op, $0.gfpClass, $0.count, $0.failures, $0.samples, $0.p50NS, $0.p90NS, $0.p99NS, $0.p999NS, $0.maxNS, $0.meanNS] }))
        try atomic(dir, "locks.csv", csv(["lock", "policy", "acquisitions", "contended", "contended_pct", "spins", "sleeps", "wait_ns", "hold_ns", "max_wait_ns", "max_hold_ns"],
                                       r.locks.map { [$0.name, $0.policy.rawValue, $0.acquisitions, $0.contended, $0.contendedFraction * 100, $0.spins, $0.sleeps, $0.waitNS, $0.holdNS, $0.maxWaitNS, $0.maxHoldNS] }))
        try atomic(dir, "zones.csv", csv(["node", "zone", "pages", "free_end", "alloc_atomic", "alloc_nowait", "alloc_blocking", "fail_atomic", "fail_nowait", "fail_blocking", "frees", "zone_fallbacks", "node_fallbacks", "watermark_hits", "reclaim_passes", "direct_reclaims", "sleeps", "pcp_refills", "pcp_drains"],
                                       r.zones.map { z in let e = z.events; return [z.node, z.zone, z.pages, z.freePagesEnd, e.allocAtomic, e.allocNowait, e.allocBlocking, e.failAtomic, e.failNowait, e.failBlocking, e.frees, e.zoneFallbacks, e.nodeFallbacks, e.watermarkHits, z.reclaimPasses, e.directReclaims, e.sleeps, e.pcpRefills, e.pcpDrains] }))
        try atomic(dir, "caches.csv", csv(["cache", "active_objs", "num_objs", "objsize", "slot_size", "objperslab", "pagesperslab", "slabs", "remote_frees"],
                                        r.caches.map { [$0.info.name, $0.info.activeObjects, $0.info.totalObjects, $0.info.objectSize, $0.info.slotSize, $0.info.objectsPerSlab, $0.info.pagesPerSlab, $0.info.slabs, $0.info.remoteFrees] }))
        if let t = r.freeTimeline {
            let orders = t.zones.first?.blocks.first?.count ?? 0
            var rows: [[Any]] = []
            for z in t.zones {
                for (k, blocks) in z.blocks.enumerated() {
                    let pages = blocks.enumerated().reduce(0) { $0 + $1.element << $1.offset }
                    rows.append([Double(t.tNS[k]) / 1e9, z.node, z.zone] + blocks + [pages])
                }
            }
            try atomic(dir, "free_timeline.csv", csv(["t_s", "node", "zone"] + (0..<orders).map { "order\($0)" } + ["free_pages"], rows))
        }
        for (name, h) in outcome.histograms {
            var text = ""
            h.outputPercentileDistribution(to: &text, outputValueUnitScalingRatio: 1)
            try atomic(dir.appendingPathComponent("latency"), "\(name).hgrm", text)
        }
        try outcome.procViews.write(into: dir)
        try atomic(dir, "kernel.log", outcome.dmesg)
        return dir.path
    }

    public static func json(_ r: RunResult) -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: (try? enc.encode(r)) ?? Data("{}".utf8), as: UTF8.self) + "\n"
    }

    /// Reads a result.json back (for compare and tests).
    public static func read(_ path: String) throws -> RunResult {
        let dec = JSONDecoder()
        dec.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try dec.decode(RunResult.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    static func atomic(_ dir: URL, _ name: String, _ text: String) throws {
        let tmp = dir.appendingPathComponent(".\(name).tmp")
        try Data(text.utf8).write(to: tmp)
        if rename(tmp.path, dir.appendingPathComponent(name).path) != 0 {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: dir.appendingPathComponent(name).path])
        }
    }

    static func csv(_ header: [String], _ rows: [[Any]]) -> String {
        var out = header.joined(separator: ",") + "\n"
        for row in rows {
            out += row.map { v -> String in
                if let d = v as? Double { return String(format: "%.3f", d) }
                let s = "\(v)"
                return s.contains(",") || s.contains("\"") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
            }.joined(separator: ",") + "\n"
        }
        return out
    }

    static func timestamp() -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return f.string(from: Date())
    }
}
