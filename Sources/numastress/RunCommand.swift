import ArgumentParser
import Foundation
import Harness

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a stress config and write its Results folder.",
        discussion: """
            Exit status: 0 ok; 1 an invariant check failed or the run stopped on an error; 2 bad config, \
            options or results folder (nothing ran); 3 the run finished but its results folder could not \
            be written (the summary is printed instead); 128+N ended by signal N (130 SIGINT, 143 SIGTERM, \
            129 SIGHUP): the result is still written, marked complete: false.
            """)

    @Argument(help: "The config (default Configs/quickstart.yaml).")
    var config: String = "Configs/quickstart.yaml"

    @Option(help: "Folder that receives <config>/<timestamp>/.")
    var results = "Results"

    @Option(help: "Override run.duration (e.g. 2s, 500ms).")
    var duration: String?

    @Option(help: "Override run.warmup.")
    var warmup: String?

    @Option(help: "Override run.seed.")
    var seed: UInt64?

    @Option(help: "Schedule shaking: SEED or SEED:P (chance per lock/refill/remote-free point, default 0.02). The seed replays the same shaking.")
    var shake: String?

    @Option(help: "Send every workload's objects to this allocator: kernel (the modelled slab and page allocators) or malloc (the process's malloc/free).")
    var allocator: String?

    @Option(help: "Override run.repetitions: how many times the run is repeated; compare judges timings over them (record baselines with 5 or more).")
    var repetitions: Int?

    @Option(name: .customLong("inject-delay"), help: "Power check: spend this much busy time after every operation, outside the allocators and the timed region (e.g. 150ns). Recorded in the result, left out of the config identity, so compare can check that it catches the slowdown.")
    var injectDelay: String?

    @Flag(help: "No progress line.")
    var quiet = false

    @Flag(name: .customLong("no-probe"), help: "Skip measuring the NUMA access-cost matrix.")
    var noProbe = false

    func run() async throws {
        var cfg: StressConfig
        var injectDelayNS: UInt64 = 0
        do {
            cfg = try ConfigLoader.load(path: config)
            if let d = duration { cfg.run.durationNS = try Units.duration(d) }
            if let w = warmup { cfg.run.warmupNS = try Units.duration(w) }
            if let d = injectDelay { injectDelayNS = try Units.duration(d) }
        } catch let e as ConfigError {
            FileHandle.standardError.write(Data("\(e.description)\n".utf8))
            throw ExitCode(2)
        } catch {
            throw failInput("\(error)")
        }
        if let seed { cfg.run.seed = seed }
        if let repetitions {
            guard repetitions >= 1 else { throw failInput("--repetitions: expected at least 1, got \(repetitions)") }
            cfg.run.repetitions = repetitions
        }
        if let allocator {
            guard let choice = AllocatorChoice(rawValue: allocator) else { throw failInput("--allocator: expected kernel or malloc, got \(allocator)") }
            for i in cfg.workloads.indices { cfg.workloads[i].allocator = choice }
        }
        var options = Runner.Options()
        options.progress = !quiet
        options.probeAccessCost = !noProbe
        options.injectDelayNS = injectDelayNS
        if let shake {
            let parts = shake.split(separator: ":")
            guard let seed = parts.first.flatMap({ UInt64($0) }), parts.count <= 2,
                  let p = parts.count == 2 ? Double(parts[1]) : 0.02, (0...1).contains(p) else {
                throw failInput("--shake: expected SEED or SEED:P with P in 0…1, got \(shake)")
            }
            options.shake = (seed, p)
        }
        // Before any arena is mapped: a results folder that cannot take the result is found now.
        if let why = ResultWriter.checkWritable(root: results) { throw failInput("--results: \(why)") }
        // The handlers stay until the result is written: a signal meanwhile still ends in 128+N.
        StopSignal.install()
        defer { StopSignal.reset() }
        options.ownSignalHandlers = false
        let outcome: RunOutcome
        do {
            outcome = try await Runner.run(cfg, options: options)
        } catch {
            throw failInput("cannot start \(cfg.name): \(error)")
        }
        do {
            let dir = try ResultWriter.write(outcome, root: results)
            print(Summary.text(outcome.result, resultDir: dir), terminator: "")
        } catch {
            print(Summary.text(outcome.result, resultDir: "(not written)"), terminator: "")
            FileHandle.standardError.write(Data("""
                error: the run finished but its results were not written: \(ResultWriteError.describe(error))
                       (nothing of it was kept under \(results); the summary above is all there is)

                """.utf8))
            throw ExitCode(3)
        }
        let signal = StopSignal.pending
        if signal != 0 { throw ExitCode(128 + signal) }
        if !outcome.result.invariants.passed { throw ExitCode(1) }
        if !outcome.result.complete { throw ExitCode(1) }
    }
}

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check configs without running them: each error is file:line:column: message.")

    @Argument(help: "Config files.")
    var configs: [String]

    func run() throws {
        var bad = 0
        for path in configs {
            do {
                let c = try ConfigLoader.load(path: path)
                print("\(path): ok (\(c.name): \(c.workloads.count) workload(s))")
            } catch {
                bad += 1
                FileHandle.standardError.write(Data("\(error)\n".utf8))
            }
        }
        if bad > 0 { throw ExitCode(2) }
    }
}
