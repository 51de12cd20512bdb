import ArgumentParser
import Foundation
import Harness

/// `numastress trace …`: recording the real kernel's kmem events.
struct TraceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Record kmem traces from the running Linux kernel (replay them with `numastress replay`).",
        discussion: CLIConventions.exitStatus("those of its subcommand"),
        subcommands: [TraceRecordCommand.self])
}

struct TraceRecordCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Run COMMAND with the kmem tracepoints on and write what its processes allocate and free in the kernel to FILE.",
        discussion: """
            Needs root and tracefs (mounted if it is not). Recording uses a private ftrace instance, \
            so the global tracing state is left as it was. The file starts with a header (kernel, \
            CPUs, nodes, /proc/slabinfo, /proc/buddyinfo, /proc/zoneinfo) and ends with the events \
            the kernel lost.
            """ + " " + CLIConventions.exitStatus("the command's; 2 when recording could not start"))

    @Option(name: .shortAndLong, help: "The trace file.")
    var output = "numastress.trace"

    @Option(help: "Comma-separated kmem events (default: \(TraceRecorder.defaultEvents.joined(separator: ","))).")
    var events: String?

    @Flag(name: .customLong("all-cpus"), help: "Trace every process on every CPU, not only COMMAND and its children.")
    var allCPUs = false

    @Option(name: .customLong("buffer-kb"), help: "Ring buffer per CPU while recording, in KiB.")
    var bufferKB = 16384

    @Argument(parsing: .captureForPassthrough, help: "The command to trace (after --).")
    var command: [String] = []

    func run() throws {
        var o = TraceRecorder.Options()
        o.output = output
        if let events { o.events = events.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        o.allCPUs = allCPUs
        o.bufferKB = bufferKB
        o.command = command.first == "--" ? Array(command.dropFirst()) : command
        let outcome: TraceRecorder.Outcome
        do {
            outcome = try TraceRecorder.record(o)
        } catch {
            throw failInput("\(error)")
        }
        var line = String(format: "recorded %d events (%.1f MB) in %.2f s to %@", outcome.eventLines, Double(outcome.bytes) / 1e6, outcome.seconds, output)
        line += outcome.lostEvents > 0 ? "; WARNING: the kernel lost \(outcome.lostEvents) events (try --buffer-kb)" : "; no events lost"
        FileHandle.standardError.write(Data((line + "\n").utf8))
        if outcome.status != 0 { throw ExitCode(outcome.status) }
    }
}
