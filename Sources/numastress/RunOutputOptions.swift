import ArgumentParser
import Foundation
import Harness

/// What `run` and `replay` share: where results go, the progress line and the access-cost
/// probe, and how a finished run is written, printed and turned into an exit status.
struct RunOutputOptions: ParsableArguments {
    @Option(help: "Folder that receives <name>/<timestamp>/.")
    var results = "Results"

    @Flag(help: "No progress line.")
    var quiet = false

    @Flag(name: .customLong("no-probe"), help: "Skip measuring the NUMA access-cost matrix.")
    var noProbe = false

    @Flag(help: "Print the final result (result.json, or contrast.json for a vary: run) on stdout; the summary goes to stderr.")
    var json = false

    /// Before any arena is mapped: a results folder that cannot take the result is found now.
    func checkResults() throws {
        if let why = ResultWriter.checkWritable(root: results) { throw failInput("--results: \(why)") }
    }

    /// Writes the results, then prints the summary (and with --json the result on stdout); when
    /// writing fails the summary is still printed, with what was not written and why (exit 3).
    func publish(summary: (String) -> String, json resultJSON: () -> String, write: () throws -> String) throws {
        func say(_ text: String) {
            if json { FileHandle.standardError.write(Data(text.utf8)) } else { print(text, terminator: "") }
        }
        if json { print(resultJSON(), terminator: "") }
        do {
            let dir = try write()
            say(summary(dir))
        } catch {
            say(summary("(not written)"))
            FileHandle.standardError.write(Data("""
                error: the run finished but its results were not written: \(ResultWriteError.describe(error))
                       (nothing of it was kept under \(results); the summary above is all there is)

                """.utf8))
            throw ExitCode(3)
        }
    }

    /// The documented exit status, most serious first.
    func exit(complete: Bool, invariants: Bool, expectations: Bool = true) throws {
        let signal = StopSignal.pending
        if signal != 0 { throw ExitCode(128 + signal) }
        if !invariants || !complete { throw ExitCode(1) }
        if !expectations { throw ExitCode(4) }
    }
}
