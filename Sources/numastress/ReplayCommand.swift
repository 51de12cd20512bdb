import ArgumentParser
import Foundation
import Harness
import KernelMM
import Topology

struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Replay a recorded kmem trace on the model, on any machine shape, as an ordinary run.",
        discussion: """
            Each trace CPU's allocations and frees run on a logical CPU of the chosen topology \
            (same node, same rank, wrapping), frees paired with allocations by pointer or pfn. \
            Prints the run's summary, the replay figures and the slab geometry against the recording \
            kernel's.
            """ + " " + CLIConventions.exitStatus("""
            0 ok; 1 an invariant failed or the run stopped; 2 bad input (a malformed line with --strict, \
            as FILE:LINE); 3 the results could not be written; 128+N ended by signal N
            """))

    @Argument(help: "The trace file (from `numastress trace record`).")
    var trace: String

    @Option(help: "host, an hwloc XML file, or a synthetic description (default: the recorded CPUs and nodes).")
    var topology: String?

    @Option(help: "Zone and node-partial lock policy: spin or mutex.")
    var locks: String?

    @Option(help: "Memory per node (e.g. 512MiB); default: enough for the trace's peak.")
    var memory: String?

    @Flag(help: "Keep the recorded time between events instead of running flat out.")
    var pace = false

    @Flag(help: "A malformed line is an error (exit 2, FILE:LINE) instead of being skipped and counted.")
    var strict = false

    @OptionGroup var output: RunOutputOptions

    @Option(help: "Override run.seed.")
    var seed: UInt64?



    func run() async throws {
        var o = Replay.Options()
        o.pace = pace
        o.strict = strict
        o.seed = seed
        if let topology {
            if topology == "host" { o.topology = .host }
            else if FileManager.default.fileExists(atPath: topology) { o.topology = .xml(path: topology) }
            else { o.topology = .synthetic(topology) }
        }
        if let locks {
            guard let l = LockPolicy(rawValue: locks) else { throw failInput("--locks: expected spin or mutex, got \(locks)") }
            o.locks = l
        }
        if let memory {
            do { o.memoryPerNode = try Units.size(memory) } catch { throw failInput("--memory: \(error)") }
        }
        try output.checkResults()
        let prepared: Replay.Prepared
        do {
            prepared = try Replay.prepare(trace: trace, options: o)
        } catch let e as TraceReader.Malformed {
            FileHandle.standardError.write(Data("\(e.description)\n".utf8))
            throw ExitCode(2)
        } catch {
            throw failInput("\(error)")
        }
        var options = Runner.Options()
        options.progress = !output.quiet && !output.json
        options.probeAccessCost = !output.noProbe
        StopSignal.install()
        defer { StopSignal.reset() }
        options.ownSignalHandlers = false
        let outcome: Replay.Outcome
        do {
            outcome = try await Replay.run(prepared, options: options)
        } catch {
            throw failInput("cannot start the replay of \(trace): \(error)")
        }
        let r = outcome.run.result
        try output.publish(summary: { dir in Summary.text(r, resultDir: dir) + Replay.report(outcome) + "\n" },
                           json: { ResultWriter.json(r) }) { try ResultWriter.write(outcome.run, root: output.results) }
        try output.exit(complete: r.complete, invariants: r.invariants.passed)
    }
}
