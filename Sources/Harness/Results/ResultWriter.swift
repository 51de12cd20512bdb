import CArch
import Foundation
import Histogram
import KernelMM

/// Writes a run's folder, `Results/<config>/<timestamp>/`: result.json, summary.md, CSVs,
/// `.hgrm` percentile files, `proc/{buddyinfo,zoneinfo,slabinfo}` and kernel.log. The whole
/// folder is written under a hidden temporary name beside the final one and renamed into place
/// last, without replacing anything (a suffix when another run took the name): a reader, or a
/// kill in the middle, never leaves a visible half-written folder.
public enum ResultWriter {
    public static func write(_ outcome: RunOutcome, root: String) throws -> String {
        try publishFolder(config: outcome.result.config.name, root: root) { try writeFolder(outcome, into: $0) }
    }

    /// A `vary:` run: `Results/<config>/<timestamp>/` holding one ordinary result folder per
    /// variant that ran, `contrast.md` (what `run` printed) and `contrast.json` (the table and
    /// the expectations), published as one folder like a plain result.
    public static func writeContrast(_ o: ContrastOutcome, root: String) throws -> String {
        try publishFolder(config: o.config.name, root: root) { try writeContrastFolder(o, into: $0) }
    }

    /// The contents of a `vary:` run's folder (also what a sweep point of a vary: config holds).
    static func writeContrastFolder(_ o: ContrastOutcome, into tmp: URL) throws {
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        for run in o.runs { try writeFolder(run.outcome, into: tmp.appendingPathComponent(run.variant.name)) }
        try atomic(tmp, "contrast.md", "# \(o.config.name)\n\n```\n" + ContrastTable.summary(o, resultDir: nil) + "```\n")
        try atomic(tmp, "contrast.json", contrastJSON(o))
    }

    /// Fills a hidden folder under `root/<config>/` and renames it to its timestamp; on any
    /// error the hidden folder is removed and nothing is left behind.
    static func publishFolder(config: String, root: String, fill: (URL) throws -> Void) throws -> String {
        let parent = URL(fileURLWithPath: root).appendingPathComponent(config)
        try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
        let tmp = parent.appendingPathComponent(".writing-\(getpid())-\(UInt32.random(in: 0 ... .max))")
        do {
            try fill(tmp)
            return try publish(tmp, in: parent, as: timestamp())
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            throw error
        }
    }

    struct ContrastFile: Codable {
        var schema = "numastress.contrast/2"
        var config: String
        var complete: Bool
        var variants: [VariantEntry]
        var table: ContrastTable.Table
        var expectations: [ExpectationOutcome]
        struct VariantEntry: Codable { var name: String; var settings: String; var ran: Bool; var complete: Bool }
    }

    public static func contrastJSON(_ o: ContrastOutcome) -> String {
        let file = ContrastFile(
            config: o.config.name, complete: o.complete,
            variants: o.config.variants.map { v in
                let r = o.runs.first { $0.variant.name == v.name }?.outcome.result
                return .init(name: v.name, settings: v.settings, ran: r != nil, complete: r?.complete ?? false)
            },
            table: ContrastTable.table(o), expectations: o.expectations)
        return encode(file)
    }

    /// Renames the finished folder to `stamp`, or `stamp-2`, `stamp-3`… when taken.
    static func publish(_ tmp: URL, in parent: URL, as stamp: String) throws -> String {
        for n in 1...1000 {
            let dir = parent.appendingPathComponent(n == 1 ? stamp : "\(stamp)-\(n)")
            if arch_rename_noreplace(tmp.path, dir.path) == 0 { return dir.path }
            guard errno == EEXIST || errno == ENOTEMPTY else { throw ResultWriteError.posix(dir.path, errno) }
        }
        throw ResultWriteError.posix(parent.path, EEXIST)
    }

    static func writeFolder(_ outcome: RunOutcome, into dir: URL) throws {
        let r = outcome.result
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("proc"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("latency"), withIntermediateDirectories: true)
        try atomic(dir, "result.json", json(r))
        try atomic(dir, "summary.md", Summary.markdown(r))
        // Every row names its run, config and variant, so CSVs of many runs concatenate.
        let tag: [Any] = [r.run.id ?? r.run.started, r.config.name, r.variant ?? ""]
        func csv(_ header: [String], _ rows: [[Any]]) -> String { Self.csv(["run_id", "config", "variant"] + header, rows.map { tag + $0 }) }
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
            let types = MigrateType.allCases.map { "free_\(String(describing: $0).lowercased())" }
            var rows: [[Any]] = []
            for z in t.zones {
                for (k, blocks) in z.blocks.enumerated() {
                    let pages = blocks.enumerated().reduce(0) { $0 + $1.element << $1.offset }
                    let byType: [Any] = z.freeByType.map { $0[k].map { $0 as Any } } ?? types.map { _ in "" as Any }
                    rows.append([Double(t.tNS[k]) / 1e9, z.node, z.zone] + blocks + [pages] + byType)
                }
            }
            try atomic(dir, "free_timeline.csv", csv(["t_s", "node", "zone"] + (0..<orders).map { "order\($0)" } + ["free_pages"] + types, rows))
        }
        for (name, h) in outcome.histograms {
            var text = ""
            h.outputPercentileDistribution(to: &text, outputValueUnitScalingRatio: 1)
            try atomic(dir.appendingPathComponent("latency"), "\(name).hgrm", text)
        }
        try outcome.procViews.write(into: dir)
        try atomic(dir, "kernel.log", outcome.dmesg)
    }

    /// Checks, before anything runs, that `root` can receive results: it is (or can be made) a
    /// folder and a probe file can be created and removed in it. Returns the reason otherwise.
    public static func checkWritable(root: String) -> String? {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: root, isDirectory: &isDir), !isDir.boolValue {
            return "\(root) is not a folder"
        }
        do {
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        } catch {
            return "cannot create \(root): \(ResultWriteError.describe(error))"
        }
        let probe = (root as NSString).appendingPathComponent(".numastress-probe-\(getpid())")
        let fd = open(probe, O_CREAT | O_EXCL | O_WRONLY, 0o644)
        if fd < 0 { return "cannot write in \(root): \(String(cString: strerror(errno)))" }
        close(fd)
        unlink(probe)
        return nil
    }

    public static func json(_ r: RunResult) -> String { encode(r) }

    /// A JSON file of the folder, written as every machine-readable output is (`JSONCoding`).
    static func encode<T: Encodable>(_ value: T) -> String {
        (try? JSONCoding.string(value)) ?? "{}\n"
    }

    /// Reads a result.json back (for compare, report and tests). Results of schema
    /// `numastress.result/1` had camelCase keys (the Swift names) and stay readable.
    public static func read(_ path: String) throws -> RunResult {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        struct Version: Decodable { var schema: String? }
        if (try? JSONDecoder().decode(Version.self, from: data))?.schema == "numastress.result/1" {
            let dec = JSONDecoder()
            dec.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            var r = try dec.decode(RunResult.self, from: data)
            r.schema = RunResult.schema
            return r
        }
        return try JSONCoding.decode(RunResult.self, from: data)
    }

    /// One file of the (still hidden) folder, with write(2) so that a full disk is an errno.
    static func atomic(_ dir: URL, _ name: String, _ text: String) throws {
        let path = dir.appendingPathComponent(name).path
        let fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ResultWriteError.posix(path, errno) }
        defer { close(fd) }
        var bytes = Array(text.utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw ResultWriteError.posix(path, n < 0 ? errno : ENOSPC) }
            done += n
        }
        bytes.removeAll()
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

    /// The one timestamp style of results folders: `20261129T231800Z` (UTC).
    public static func timestamp() -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return f.string(from: Date())
    }
}

/// Why a results folder could not be written, in a user's words.
public enum ResultWriteError: Error, CustomStringConvertible {
    case posix(String, Int32)

    public var description: String {
        switch self {
        case .posix(let path, let code): return "\(path): \(String(cString: strerror(code)))"
        }
    }

    public static func describe(_ error: Error) -> String {
        if let e = error as? ResultWriteError { return e.description }
        let ns = error as NSError
        if let under = ns.userInfo[NSUnderlyingErrorKey] as? NSError, under.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(under.code)))
        }
        return ns.localizedDescription
    }
}
