import Foundation

/// A sweep as one Slurm job array: `sbatch --array=0-(N-1)%K --exclusive`, one task per point
/// × repetition on a node of its own (two stress runs on one machine would disturb each
/// other), each task running this same binary as `numastress sweep --task DIR`, which picks
/// its point by `SLURM_ARRAY_TASK_ID` and writes into the shared sweep folder. Nothing here
/// schedules: Slurm places and binds the tasks; we submit, watch `squeue`, and merge.
public enum SlurmArray {
    public struct Settings: Sendable {
        public var partition: String? = nil
        public var time: String? = nil
        /// Passed to sbatch as they are (`--constraint=avx512`, `--account=x`).
        public var sbatchArgs: [String] = []
        /// At most this many tasks at once (`%K`); nil: as many as Slurm gives.
        public var maxParallel: Int? = nil
        /// The numastress binary every task runs: this one, so it must be on a shared path.
        public var executable: String
        public init(executable: String) { self.executable = executable }
    }

    /// A program on PATH.
    public static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Why Slurm cannot take a job from here, or nil when sbatch, squeue and a controller answer.
    public static func unavailable() -> String? {
        guard let sinfo = which("sinfo"), which("sbatch") != nil, which("squeue") != nil else {
            return "sbatch, squeue or sinfo not on PATH (install Slurm, or try scripts/slurm-local start)"
        }
        guard let out = try? ChildProcess.run(sinfo, ["-h", "-o", "%T"], timeout: 20), out.status == 0 else {
            return "sinfo cannot reach a Slurm controller (scripts/slurm-local start runs one on this host)"
        }
        let states = out.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        guard states.contains(where: { ["idle", "mixed", "allocated", "completing"].contains($0) }) else {
            return "no usable Slurm node (sinfo says: \(states.isEmpty ? "no nodes" : states.joined(separator: ", ")))"
        }
        return nil
    }

    /// `0-3,5,9-10%2`: the indices as ranges, and the limit of tasks at once.
    static func arraySpec(_ indices: [Int], maxParallel: Int?) -> String {
        var parts: [String] = []
        var i = 0
        let s = indices.sorted()
        while i < s.count {
            var j = i
            while j + 1 < s.count && s[j + 1] == s[j] + 1 { j += 1 }
            parts.append(i == j ? "\(s[i])" : "\(s[i])-\(s[j])")
            i = j + 1
        }
        return parts.joined(separator: ",") + (maxParallel.map { "%\($0)" } ?? "")
    }

    static func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    /// The batch script: readable on its own, kept in the sweep folder as `slurm/array-N.sh`.
    static func script(_ folder: SweepFolder, indices: [Int], settings: Settings) -> String {
        var lines = ["#!/bin/sh", "# numastress sweep \(folder.manifest.sweepId): one task per point x repetition, by SLURM_ARRAY_TASK_ID",
                     "#SBATCH --job-name=numastress-\(folder.manifest.config)",
                     "#SBATCH --array=\(arraySpec(indices, maxParallel: settings.maxParallel))",
                     "#SBATCH --exclusive", "#SBATCH --nodes=1", "#SBATCH --ntasks=1",
                     "#SBATCH --output=\(folder.path)/slurm/%A_%a.out"]
        if let p = settings.partition { lines.append("#SBATCH --partition=\(p)") }
        if let t = settings.time { lines.append("#SBATCH --time=\(t)") }
        lines.append("exec \(quote(settings.executable)) sweep --task \(quote(folder.path))")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Submits the tasks as one array job and records its id in sweep.json.
    public static func submit(_ folder: inout SweepFolder, tasks: [SweepManifest.Task], settings: Settings) throws -> String {
        guard let sbatch = which("sbatch") else { throw SweepError("--on slurm: sbatch not on PATH") }
        let dir = folder.path + "/slurm"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let file = "\(dir)/array-\(folder.manifest.slurmJobs.count + 1).sh"
        try script(folder, indices: tasks.map(\.index), settings: settings).write(toFile: file, atomically: true, encoding: .utf8)
        let out = try ChildProcess.run(sbatch, ["--parsable"] + settings.sbatchArgs + [file], cwd: folder.path, timeout: 60)
        let id = out.stdout.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
        guard out.status == 0, !id.isEmpty, id.allSatisfy(\.isNumber) else {
            throw SweepError("sbatch refused the job array (\(file)): \(out.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        folder.manifest.slurmJobs.append(id)
        try folder.save()
        return id
    }

    /// The array tasks of the sweep's jobs that Slurm still holds, by index, with their state
    /// (PENDING, RUNNING…). Empty when there is no Slurm here or no job.
    public static func queued(_ jobs: [String]) -> [Int: String] {
        guard !jobs.isEmpty, let squeue = which("squeue"),
              let out = try? ChildProcess.run(squeue, ["-h", "-r", "-j", jobs.joined(separator: ","), "-o", "%K %T"], timeout: 30),
              out.status == 0 else { return [:] }
        var q: [Int: String] = [:]
        for line in out.stdout.split(separator: "\n") {
            let f = line.split(separator: " ")
            if f.count == 2, let i = Int(f[0]) { q[i] = String(f[1]) }
        }
        return q
    }

    /// Waits until the job has no task pending or running, with a line whenever the count of
    /// finished tasks changes. Returns early (false) on a stop signal: the job goes on.
    public static func wait(_ job: String, folder: SweepFolder, tasks: [SweepManifest.Task], progress: Bool,
                            poll: Double = 2) throws -> Bool {
        guard let squeue = which("squeue") else { throw SweepError("squeue not on PATH") }
        var lastDone = -1
        while true {
            let out = try ChildProcess.run(squeue, ["-h", "-j", job, "-o", "%T"], timeout: 60)
            if out.status != 0 && !out.stderr.contains("Invalid job id") {
                throw SweepError("squeue -j \(job) failed: \(out.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
            let states = out.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            let done = tasks.filter(folder.isDone).count
            if progress && done != lastDone {
                let running = states.filter { $0 == "RUNNING" }.count
                SweepRunner.log("slurm job \(job): \(done) of \(tasks.count) task(s) have results, \(running) running")
                lastDone = done
            }
            // squeue forgets a finished job (exit 1, "Invalid job id") or lists no task of it.
            if states.isEmpty { return true }
            if StopSignal.pending != 0 { return false }
            Thread.sleep(forTimeInterval: poll)
        }
    }
}
