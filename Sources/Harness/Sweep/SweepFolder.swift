import CArch
import Foundation

/// `DIR/<sweep-id>/`: sweep.json (the config text, the grid and the task list: everything a
/// task on any node needs), one ordinary results folder per task (`<point>/`, or
/// `<point>/rep<k>/` with --repeat), `.tasks/<n>.json` (which host took a task, when, and how
/// it ended) and, after a merge, sweep.csv and sweep.md. A task counts as done when its results
/// folder exists: folders are published whole by rename, so a killed task leaves none.
public struct SweepFolder: Sendable {
    public var path: String
    public var manifest: SweepManifest

    public static let manifestFile = "sweep.json"

    /// Creates `root/<config>-<timestamp>/` with its sweep.json.
    public static func create(_ plan: SweepPlan, root: String, options: SweepManifest.RunOptions) throws -> SweepFolder {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let absRoot = URL(fileURLWithPath: root).standardizedFileURL.path
        let absConfig = URL(fileURLWithPath: plan.configFile).standardizedFileURL.path
        var tasks: [SweepManifest.Task] = []
        for p in plan.points {
            for r in 0..<plan.repetitions {
                tasks.append(.init(index: tasks.count, point: p.index, repetition: r + 1,
                                   folder: plan.repetitions == 1 ? p.name : "\(p.name)/rep\(r + 1)"))
            }
        }
        let stamp = ResultWriter.timestamp()
        for n in 1...1000 {
            let id = "\(plan.configName)-\(stamp)" + (n == 1 ? "" : "-\(n)")
            let dir = absRoot + "/" + id
            guard mkdir(dir, 0o755) == 0 else {
                if errno == EEXIST { continue }
                throw SweepError("cannot create \(dir): \(String(cString: strerror(errno)))")
            }
            let m = SweepManifest(sweepId: id, config: plan.configName, configFile: absConfig, configText: plan.configText,
                                  axes: plan.axes, points: plan.points, repetitions: plan.repetitions, created: stamp,
                                  options: options, tasks: tasks)
            let folder = SweepFolder(path: dir, manifest: m)
            try folder.save()
            return folder
        }
        throw SweepError("cannot find a free sweep folder name under \(absRoot)")
    }

    /// Opens an existing sweep folder (for --resume, --merge, a Slurm task and report).
    public static func open(_ path: String) throws -> SweepFolder {
        let dir = URL(fileURLWithPath: path).standardizedFileURL.path
        let file = dir + "/" + manifestFile
        guard let data = FileManager.default.contents(atPath: file) else {
            throw SweepError("\(dir): no \(manifestFile) here: not a sweep folder (expected DIR/<sweep-id> as made by numastress sweep)")
        }
        do { return SweepFolder(path: dir, manifest: try SweepManifest.decoder().decode(SweepManifest.self, from: data)) } catch {
            throw SweepError("\(file): cannot be read: \(error)")
        }
    }

    public static func isSweep(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path + "/" + manifestFile) }

    public func save() throws {
        let data = try SweepManifest.encoder().encode(manifest)
        try ResultWriter.atomic(URL(fileURLWithPath: path), Self.manifestFile, String(decoding: data, as: UTF8.self) + "\n")
    }

    public func folder(_ t: SweepManifest.Task) -> String { path + "/" + t.folder }

    /// The task's results folder exists (a run folder, or a vary: run's folder of variants).
    public func isDone(_ t: SweepManifest.Task) -> Bool {
        let fm = FileManager.default
        return fm.fileExists(atPath: folder(t) + "/result.json") || fm.fileExists(atPath: folder(t) + "/contrast.json")
    }

    public var missing: [SweepManifest.Task] { manifest.tasks.filter { !isDone($0) } }

    public func point(_ t: SweepManifest.Task) -> SweepPoint { manifest.points[t.point] }

    // MARK: task records

    /// What became of a task, as the task itself recorded it.
    public struct TaskRecord: Codable, Sendable {
        public var state: String            // running, done, failed, interrupted
        public var host: String
        public var started: String
        public var ended: String? = nil
        public var reason: String? = nil
        public var slurmJob: String? = nil
    }

    var recordsDir: String { path + "/.tasks" }

    public func record(_ index: Int) -> TaskRecord? {
        guard let d = FileManager.default.contents(atPath: "\(recordsDir)/\(index).json") else { return nil }
        return try? SweepManifest.decoder().decode(TaskRecord.self, from: d)
    }

    func write(_ r: TaskRecord, for index: Int) {
        try? FileManager.default.createDirectory(atPath: recordsDir, withIntermediateDirectories: true)
        if let d = try? SweepManifest.encoder().encode(r) {
            try? ResultWriter.atomic(URL(fileURLWithPath: recordsDir), "\(index).json", String(decoding: d, as: UTF8.self) + "\n")
        }
    }

    /// Why a task has no results, in words, from its record, Slurm's queue and Slurm's log.
    public func whyMissing(_ t: SweepManifest.Task, queued: [Int: String] = [:]) -> String {
        let notice = slurmNotice(t.index).map { "; Slurm: \($0)" } ?? ""
        if let state = queued[t.index] { return "\(state.lowercased()) in Slurm job \(manifest.slurmJobs.last ?? "?")" }
        guard let r = record(t.index) else { return "never ran" + notice }
        switch r.state {
        case "running": return "started on \(r.host) at \(r.started) and left no result (killed, timed out or its node failed)" + notice
        case "done": return "finished on \(r.host) but its results folder is gone"
        default: return "\(r.state) on \(r.host): \(r.reason ?? "no reason recorded")" + notice
        }
    }

    /// What slurmstepd wrote into the task's newest log (`slurm/<job>_<index>.out`) about why it
    /// ended it: its `*** JOB … CANCELLED AT … DUE TO TIME LIMIT ***` lines.
    func slurmNotice(_ index: Int) -> String? {
        let dir = path + "/slurm"
        let logs = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix("_\(index).out") }
        guard let last = logs.max(by: { (Int($0.prefix { $0 != "_" }) ?? 0) < (Int($1.prefix { $0 != "_" }) ?? 0) }),
              let text = try? String(contentsOfFile: dir + "/" + last, encoding: .utf8) else { return nil }
        let line = text.split(separator: "\n").first { $0.contains("*** ") }
        return line.map { "\($0.trimmingCharacters(in: .whitespaces).prefix(200)) (slurm/\(last))" }
    }
}

/// sweep.json (`numastress.sweep/1`): written once when the sweep is made, amended with each
/// Slurm submission. Keys are snake_case.
public struct SweepManifest: Codable, Sendable {
    public var schema = "numastress.sweep/1"
    public var sweepId: String
    public var config: String
    public var configFile: String
    public var configText: String
    public var axes: [SweepAxis]
    public var points: [SweepPoint]
    public var repetitions: Int
    public var created: String
    public var options: RunOptions
    public var tasks: [Task]
    public var slurmJobs: [String] = []

    /// What every task's run is told beyond its config.
    public struct RunOptions: Codable, Sendable {
        public var probeAccessCost = true
        public init(probeAccessCost: Bool = true) { self.probeAccessCost = probeAccessCost }
    }

    /// One run: a point's repetition. Its index is its Slurm array index.
    public struct Task: Codable, Sendable, Equatable {
        public var index: Int
        public var point: Int
        public var repetition: Int
        public var folder: String
    }

    static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        e.keyEncodingStrategy = .convertToSnakeCase
        return e
    }

    static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        return d
    }
}
