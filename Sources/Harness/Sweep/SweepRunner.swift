import CArch
import Foundation

/// Runs a sweep's tasks: each an ordinary run (a `vary:` run for a config that has one) of its
/// point's config, published whole into its folder of the sweep. The same `runTask` serves a
/// local sweep, one point after another, and each task of a Slurm job array on its own node.
/// A task records on which host it started before it runs and how it ended after, so a task
/// that was killed is told apart from one that never started.
public enum SweepRunner {
    /// One task from start to its record. Never throws: whatever goes wrong is the record.
    public static func runTask(_ folder: SweepFolder, _ t: SweepManifest.Task, options: Runner.Options,
                               slurmJob: String? = nil) async -> SweepFolder.TaskRecord {
        let m = folder.manifest
        var rec = SweepFolder.TaskRecord(state: "running", host: ProcessInfo.processInfo.hostName,
                                         started: ResultWriter.timestamp(), slurmJob: slurmJob)
        func finish(_ state: String, _ reason: String? = nil) -> SweepFolder.TaskRecord {
            rec.state = state; rec.reason = reason; rec.ended = ResultWriter.timestamp()
            folder.write(rec, for: t.index)
            return rec
        }
        if folder.isDone(t) { return finish("done", "already had results") }
        folder.write(rec, for: t.index)
        let point = folder.point(t)
        let config: StressConfig
        do { config = try SweepPlan.config(file: m.configFile, text: m.configText, axes: m.axes, point: point) } catch {
            return finish("failed", "\(error)")
        }
        var opts = options
        opts.ownSignalHandlers = false
        opts.probeAccessCost = options.probeAccessCost && m.options.probeAccessCost
        let final = URL(fileURLWithPath: folder.folder(t))
        let fill: (URL) throws -> Void
        let complete: Bool
        do {
            if config.variants.isEmpty {
                let o = try await Runner.run(config, options: opts)
                complete = o.result.complete
                fill = { try ResultWriter.writeFolder(o, into: $0) }
            } else {
                let o = try await ContrastRunner.run(config, options: opts)
                complete = o.complete
                fill = { try ResultWriter.writeContrastFolder(o, into: $0) }
            }
        } catch {
            return finish("failed", "cannot start: \(error)")
        }
        // An interrupted run is not a point's answer: it stays missing, for --resume.
        let signal = StopSignal.pending
        if signal != 0 && !complete { return finish("interrupted", "stopped by \(StopSignal.name(signal))") }
        do { try publish(final, fill: fill) } catch {
            return finish("failed", "results not written: \(ResultWriteError.describe(error))")
        }
        return finish("done", complete ? nil : "the run did not complete (see its result.json)")
    }

    /// Fills a hidden folder beside `final` and renames it into place, never over another.
    static func publish(_ final: URL, fill: (URL) throws -> Void) throws {
        let parent = final.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
        let tmp = parent.appendingPathComponent(".writing-\(final.lastPathComponent)-\(getpid())-\(UInt32.random(in: 0 ... .max))")
        do {
            try fill(tmp)
            guard arch_rename_noreplace(tmp.path, final.path) == 0 else { throw ResultWriteError.posix(final.path, errno) }
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            throw error
        }
    }

    /// A local sweep: the tasks one after another (two stress runs at once would disturb each
    /// other), a line per task with an ETA on stderr, and no new task after a stop signal.
    public static func runLocal(_ folder: SweepFolder, tasks: [SweepManifest.Task], options: Runner.Options,
                                progress: Bool) async -> [SweepFolder.TaskRecord] {
        var records: [SweepFolder.TaskRecord] = []
        let start = Date()
        var spent: [Double] = []
        for (i, t) in tasks.enumerated() {
            if StopSignal.pending != 0 { break }
            let p = folder.point(t)
            if progress {
                let eta = estimate(spent: spent, left: tasks.count - i, elapsed: Date().timeIntervalSince(start))
                let rep = folder.manifest.repetitions > 1 ? " rep \(t.repetition)" : ""
                log("sweep [\(i + 1)/\(tasks.count)] \(p.label)\(rep) · \(eta)")
            }
            let began = Date()
            let rec = await runTask(folder, t, options: options)
            spent.append(Date().timeIntervalSince(began))
            records.append(rec)
            if progress && rec.state != "done" { log("sweep: \(p.name): \(rec.state): \(rec.reason ?? "")") }
        }
        if progress {
            let done = records.filter { $0.state == "done" }.count
            log("sweep: \(done) of \(tasks.count) task(s) done in \(clock(Date().timeIntervalSince(start)))")
        }
        return records
    }

    /// `elapsed 1m04s · ETA 2m10s`: the mean task time so far times the tasks left, counting
    /// the one starting (none before the first task ends: there is nothing to go on yet).
    static func estimate(spent: [Double], left: Int, elapsed: Double) -> String {
        let per = spent.isEmpty ? nil : spent.reduce(0, +) / Double(spent.count)
        let eta = per.map { clock($0 * Double(left)) } ?? "after the first point"
        return "elapsed \(clock(elapsed)) · ETA \(eta)"
    }

    static func clock(_ s: Double) -> String {
        let t = Int(s.rounded())
        return t >= 3600 ? String(format: "%dh%02dm", t / 3600, t % 3600 / 60) : t >= 60 ? String(format: "%dm%02ds", t / 60, t % 60) : "\(t)s"
    }

    static func log(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }
}
