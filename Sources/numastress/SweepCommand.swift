import ArgumentParser
import Foundation
import Harness

struct SweepCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run a config over a grid of settings, locally or as a Slurm job array, and merge the results into sweep.csv.",
        discussion: """
            Every point of the grid (the cartesian product of the --grid axes, or of the config's sweep: \
            section) is validated before anything runs, then each runs as an ordinary run into \
            DIR/<sweep-id>/<point>/. --resume DIR runs only the points without results; --merge DIR \
            writes sweep.csv and sweep.md again. See docs/SWEEPS.md.
            Exit status: 0 every task has results; 1 some have none (named in the merge); 2 bad config, \
            grid or options (nothing ran); 128+N stopped by signal N after recording what finished.
            """)

    @Argument(help: "The config to sweep (not with --resume, --merge or --task).")
    var config: String?

    @Option(name: .customLong("grid"), help: "KEY=V1,V2,…: an axis of the grid (a vary: key path such as locks.zone or workloads.NAME.gfp). Repeat for more axes.")
    var grid: [String] = []

    @Option(name: .customLong("repeat"), help: "Run each point this many times (one row each).")
    var repeatCount = 1

    @Option(help: "Where the points run: local (one after another on this machine) or slurm (one job array).")
    var on: Where = .local

    @Option(help: "Folder that receives <sweep-id>/.")
    var results = "Results/sweeps"

    @Option(help: "Run the points of this sweep folder that have no results yet.")
    var resume: String?

    @Option(help: "Merge this sweep folder's results into sweep.csv and sweep.md, running nothing.")
    var merge: String?

    @Option(help: ArgumentHelp("Run one task of this sweep folder (what each Slurm array task does).", visibility: .hidden))
    var task: String?

    @Option(name: .customLong("task-index"), help: ArgumentHelp("The task to run with --task (default: $SLURM_ARRAY_TASK_ID).", visibility: .hidden))
    var taskIndex: Int?

    @Option(help: "Slurm partition.")
    var partition: String?

    @Option(help: "Slurm time limit per task (sbatch --time, e.g. 10:00).")
    var time: String?

    @Option(name: .customLong("sbatch-arg"), parsing: .unconditionalSingleValue, help: "An extra sbatch argument (repeatable), e.g. --sbatch-arg=--constraint=skylake.")
    var sbatchArgs: [String] = []

    @Option(name: .customLong("max-parallel"), help: "Slurm: at most this many tasks at once (the %K of --array).")
    var maxParallel: Int?

    @Flag(name: .customLong("no-wait"), help: "Slurm: submit and return; merge later with --merge DIR.")
    var noWait = false

    @Flag(help: "No progress lines.")
    var quiet = false

    @Flag(name: .customLong("no-probe"), help: "Skip measuring the NUMA access-cost matrix in every point.")
    var noProbe = false

    enum Where: String, ExpressibleByArgument, CaseIterable { case local, slurm }

    func run() async throws {
        let modes = [config != nil, resume != nil, merge != nil, task != nil].filter { $0 }.count
        guard modes == 1 else { throw failInput("give one of: CONFIG, --resume DIR, --merge DIR") }
        if let merge { return try mergeOnly(merge) }
        if let task { return try await runTask(task) }
        let folder: SweepFolder
        do {
            if let resume {
                guard grid.isEmpty, repeatCount == 1 else { throw SweepError("--resume runs the sweep's own grid: no --grid or --repeat with it") }
                folder = try SweepFolder.open(resume)
            } else {
                let axes = try SweepAxis.merged(grid.map { arg throws(SweepError) in try SweepAxis.parse(arg) })
                let plan = try SweepPlan.make(file: config!, axes: axes, repetitions: repeatCount)
                if on == .slurm, let why = SlurmArray.unavailable() { throw SweepError("--on slurm: \(why)") }
                if let why = ResultWriter.checkWritable(root: results) { throw SweepError("--results: \(why)") }
                folder = try SweepFolder.create(plan, root: results, options: .init(probeAccessCost: !noProbe))
                if !quiet {
                    SweepOutput.err("sweep \(folder.manifest.sweepId): \(plan.points.count) point(s) × \(plan.repetitions) = \(plan.taskCount) task(s), every point validated; folder \(folder.path)")
                }
            }
        } catch let e as SweepError {
            throw failInput(e.description)
        } catch let e as ConfigError {
            throw failInput(e.description)
        }
        let todo = folder.missing
        if todo.isEmpty { SweepOutput.err("sweep: every task already has results") }
        switch on {
        case .local: try await runLocal(folder, todo)
        case .slurm: try runSlurm(folder, todo)
        }
    }

    func runLocal(_ folder: SweepFolder, _ todo: [SweepManifest.Task]) async throws {
        StopSignal.install()
        defer { StopSignal.reset() }
        var options = Runner.Options()
        options.ownSignalHandlers = false
        options.probeAccessCost = !noProbe
        _ = await SweepRunner.runLocal(folder, tasks: todo, options: options, progress: !quiet)
        try finish(folder)
    }

    func runSlurm(_ folder: SweepFolder, _ todo: [SweepManifest.Task]) throws {
        guard !todo.isEmpty else { return try finish(folder) }
        if let why = SlurmArray.unavailable() { throw failInput("--on slurm: \(why)") }
        var settings = SlurmArray.Settings(executable: SweepOutput.executable)
        settings.partition = partition; settings.time = time; settings.sbatchArgs = sbatchArgs; settings.maxParallel = maxParallel
        var f = folder
        let job: String
        do { job = try SlurmArray.submit(&f, tasks: todo, settings: settings) } catch {
            throw failInput("\(error)")
        }
        print("slurm: submitted job array \(job) (\(todo.count) task(s)) for \(f.path)")
        if noWait {
            print("merge when it has finished: numastress sweep --merge \(f.path)")
            return
        }
        StopSignal.install()
        defer { StopSignal.reset() }
        do {
            if try !SlurmArray.wait(job, folder: f, tasks: todo, progress: !quiet) {
                print("stopped waiting; job \(job) goes on: numastress sweep --merge \(f.path) when it has finished")
            }
        } catch {
            throw failInput("\(error)")
        }
        try finish(f)
    }

    func runTask(_ dir: String) async throws {
        let folder: SweepFolder
        do { folder = try SweepFolder.open(dir) } catch { throw failInput("\(error)") }
        guard let index = taskIndex ?? ProcessInfo.processInfo.environment["SLURM_ARRAY_TASK_ID"].flatMap({ Int($0) }),
              folder.manifest.tasks.indices.contains(index) else {
            throw failInput("--task: no task index (--task-index or SLURM_ARRAY_TASK_ID) within 0…\(folder.manifest.tasks.count - 1)")
        }
        StopSignal.install()
        defer { StopSignal.reset() }
        var options = Runner.Options()
        options.ownSignalHandlers = false
        options.probeAccessCost = !noProbe
        let t = folder.manifest.tasks[index]
        let job = ProcessInfo.processInfo.environment["SLURM_ARRAY_JOB_ID"]
        print("task \(index): \(folder.point(t).label) on \(ProcessInfo.processInfo.hostName)")
        let rec = await SweepRunner.runTask(folder, t, options: options, slurmJob: job)
        print("task \(index): \(rec.state)" + (rec.reason.map { ": \($0)" } ?? ""))
        let signal = StopSignal.pending
        if signal != 0 { throw ExitCode(128 + signal) }
        if rec.state != "done" { throw ExitCode(1) }
    }

    func mergeOnly(_ dir: String) throws {
        let folder: SweepFolder
        do { folder = try SweepFolder.open(dir) } catch { throw failInput("\(error)") }
        try finish(folder)
    }

    /// Merges, prints what is missing and how to resume, and sets the exit status.
    func finish(_ folder: SweepFolder) throws {
        let out: SweepMerge.Outcome
        do { out = try SweepMerge.merge(folder) } catch { throw failInput("merge: \(error)") }
        print("sweep \(folder.manifest.sweepId): \(out.done) of \(folder.manifest.tasks.count) task(s) have results, \(out.rows.count) row(s)")
        print("merged: \(folder.path)/sweep.csv, \(folder.path)/sweep.md")
        for u in out.unfinished { print("not finished: \(u.label): \(u.why)") }
        if !out.unfinished.isEmpty { print("resume: numastress sweep --resume \(folder.path)" + (folder.manifest.slurmJobs.isEmpty ? "" : " --on slurm")) }
        let signal = StopSignal.pending
        if signal != 0 { throw ExitCode(128 + signal) }
        if !out.unfinished.isEmpty { throw ExitCode(1) }
    }
}

enum SweepOutput {
    static func err(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }

    /// This binary, as every Slurm task must run it.
    static var executable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}
