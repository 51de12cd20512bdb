import ArgumentParser
import Foundation
import Harness
import KernelMM

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a stress config and write its Results folder.",
        discussion: CLIConventions.exitStatus("""
            0 ok; 1 an invariant check failed or the run stopped on an error; 2 bad config, \
            options or results folder (nothing ran); 3 the run finished but its results folder could not \
            be written (the summary is printed instead); 4 an expect: line failed; 128+N ended by signal N \
            (130 SIGINT, 143 SIGTERM, 129 SIGHUP): the result is still written, marked complete: false
            """))

    @Argument(help: ArgumentHelp("The config; Configs/quickstart.yaml of this package when left out.", valueName: "config"))
    var config: String?

    @OptionGroup var output: RunOutputOptions

    @Option(help: "Override run.duration (e.g. 2s, 500ms).")
    var duration: String?

    @Option(help: "Override run.warmup.")
    var warmup: String?

    @Option(help: "Override run.seed.")
    var seed: UInt64?

    @Option(help: ArgumentHelp("Schedule shaking: a seed, and the chance per lock, refill and remote-free point (0.02 when left out). The seed replays the same shaking.", valueName: "seed[:p]"))
    var shake: ShakeSpec?

    @Option(help: "Send every workload's objects to this allocator: kernel (the modelled slab and page allocators) or malloc (the process's malloc/free).")
    var allocator: AllocatorChoice?

    @Option(help: "Override run.sheaves: opt_in (Linux 6.18: percpu sheaves only for caches with sheaf_capacity) or all (Linux 7.0: every cache without debug flags, kmalloc caches included).")
    var sheaves: SheafMode?

    @Option(help: "Override run.repetitions: how many times the run is repeated; compare judges timings over them (record baselines with 5 or more).")
    var repetitions: Int?

    @Option(name: .customLong("inject-delay"), help: "Power check: spend this much busy time after every operation, outside the allocators and the timed region (e.g. 150ns). Recorded in the result, left out of the config identity, so compare can check that it catches the slowdown.")
    var injectDelay: String?

    func run() async throws {
        var cfg: StressConfig
        var injectDelayNS: UInt64 = 0
        do {
            cfg = try ConfigLoader.load(path: config ?? PackagePaths.resolve("Configs/quickstart.yaml"))
            // Overrides obey the config's own rules: run.duration > 0, both at most 30 days.
            if let d = duration {
                let ns = try Units.duration(d)
                guard ns > 0 else { throw failInput("--duration: must be longer than 0, got \(d)") }
                do { try ConfigLimits.checkDuration(ns) } catch { throw failInput("--duration: \(error)") }
                cfg.override { $0.run.durationNS = ns }
            }
            if let w = warmup {
                let ns = try Units.duration(w)
                do { try ConfigLimits.checkDuration(ns) } catch { throw failInput("--warmup: \(error)") }
                cfg.override { $0.run.warmupNS = ns }
            }
            if let d = injectDelay { injectDelayNS = try Units.duration(d) }
        } catch let e as ConfigError {
            FileHandle.standardError.write(Data("\(e.description)\n".utf8))
            throw ExitCode(2)
        } catch let e as ExitCode {
            throw e
        } catch {
            throw failInput("\(error)")
        }
        if let seed { cfg.override { $0.run.seed = seed } }
        if let repetitions {
            guard repetitions >= 1 else { throw failInput("--repetitions: expected at least 1, got \(repetitions)") }
            cfg.override { $0.run.repetitions = repetitions }
        }
        if let sheaves { cfg.override { $0.run.sheaves = sheaves } }
        if let allocator {
            cfg.override { c in for i in c.workloads.indices { c.workloads[i].allocator = allocator } }
        }
        var options = Runner.Options()
        options.progress = !output.quiet
        options.probeAccessCost = !output.noProbe
        options.injectDelayNS = injectDelayNS
        if let shake { options.shake = (shake.seed, shake.probability) }
        try output.checkResults()
        // The handlers stay until the result is written: a signal meanwhile still ends in 128+N.
        StopSignal.install()
        defer { StopSignal.reset() }
        options.ownSignalHandlers = false
        if !cfg.variants.isEmpty { return try await runContrast(cfg, options: options) }
        let outcome: RunOutcome
        do {
            outcome = try await Runner.run(cfg, options: options)
        } catch {
            throw failInput("cannot start \(cfg.name): \(error)")
        }
        try output.publish(summary: { Summary.text(outcome.result, resultDir: $0) }, json: { ResultWriter.json(outcome.result) }) {
            try ResultWriter.write(outcome, root: output.results)
        }
        try output.exit(complete: outcome.result.complete, invariants: outcome.result.invariants.passed,
                 expectations: outcome.result.expectations?.allSatisfy(\.passed) ?? true)
    }

    /// `vary:`: every variant, the side-by-side table and the expectations across them.
    func runContrast(_ cfg: StressConfig, options: Runner.Options) async throws {
        let outcome: ContrastOutcome
        do {
            outcome = try await ContrastRunner.run(cfg, options: options)
        } catch {
            throw failInput("cannot start \(cfg.name): \(error)")
        }
        try output.publish(summary: { ContrastTable.summary(outcome, resultDir: $0) }, json: { ResultWriter.contrastJSON(outcome) }) {
            try ResultWriter.writeContrast(outcome, root: output.results)
        }
        try output.exit(complete: outcome.complete, invariants: outcome.invariantsPassed, expectations: outcome.expectationsPassed)
    }

}

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check configs without running them: each error is file:line:column: message.",
        discussion: CLIConventions.exitStatus("0 every config is valid (and `run` will run it); 2 at least one is not"))

    @Argument(help: "Config files.")
    var configs: [String]

    @Flag(help: "Print each config's verdict and errors as JSON (schema numastress.validate/1) on stdout.")
    var json = false

    struct Verdicts: Encodable {
        var schema = "numastress.validate/1"
        var configs: [Verdict]
        struct Verdict: Encodable {
            var file: String
            var valid: Bool
            var name: String?
            var workloads: Int?
            var error: ConfigError?
            var message: String?
        }
    }

    func run() throws {
        var verdicts: [Verdicts.Verdict] = []
        for path in configs {
            do {
                let c = try ConfigLoader.load(path: path)
                verdicts.append(.init(file: path, valid: true, name: c.name, workloads: c.workloads.count))
                if !json { print("\(path): ok (\(c.name): \(c.workloads.count) workload(s))") }
            } catch {
                verdicts.append(.init(file: path, valid: false, error: error as? ConfigError, message: "\(error)"))
                if !json { FileHandle.standardError.write(Data("\(error)\n".utf8)) }
            }
        }
        if json { printJSON(Verdicts(configs: verdicts)) }
        if verdicts.contains(where: { !$0.valid }) { throw ExitCode(2) }
    }
}
