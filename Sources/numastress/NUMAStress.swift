import ArgumentParser
import Foundation
import Harness
import Topology

@main
struct NUMAStress: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "numastress",
        abstract: "Runs the Linux kernel's memory-management design in user space, on pinned threads and real memory, and stresses it.",
        discussion: "Each command's help ends with its exit statuses; every command exits 64 on a usage error.",
        version: CLIConventions.versionLine,
        subcommands: [RunCommand.self, ValidateCommand.self, FiguresCommand.self, CompareCommand.self, TopologyCommand.self, BenchCommand.self, CompareAllocatorsCommand.self, ReportCommand.self, SweepCommand.self, TraceCommand.self, ReplayCommand.self],
        defaultSubcommand: nil)
}

/// Prints one clear line on stderr and exits with status 2: the contract for bad input.
func failInput(_ message: String) -> ExitCode {
    FileHandle.standardError.write(Data("numastress: error: \(message)\n".utf8))
    return ExitCode(2)
}
