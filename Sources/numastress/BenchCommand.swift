import ArgumentParser
import Foundation
import Harness

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the allocator fast paths next to glibc malloc/free, in one run, on pinned CPUs.")

    @Option(help: "Only cases whose name contains this text (the glibc reference always runs).")
    var filter: String?

    @Option(help: "Operation pairs per timed run.")
    var iterations = 200_000

    @Option(help: "Timed runs per case (the median is reported); one warm-up run comes first.")
    var runs = 5

    @Flag(help: "Print the results as JSON.")
    var json = false

    func run() async throws {
        guard iterations > 0, runs > 0 else { throw failInput("--iterations and --runs must be positive") }
        if !json { print(Benchmarks.table([]), terminator: "") }
        let results = try await Benchmarks.run(filter: filter, iterations: iterations, runs: runs) { r in
            if !json { print(Benchmarks.row(r)); fflush(nil) }
        }
        var shootdowns: [ShootdownBench.Point] = []
        if filter == nil || "shootdown".contains(filter!.lowercased()) || filter!.lowercased().contains("tlb") {
            shootdowns = try await ShootdownBench.run(iterations: max(iterations / 100, 200))
            if !json { print(ShootdownBench.table(shootdowns), terminator: "") }
        }
        if json {
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try enc.encode(results), as: UTF8.self))
        }
    }
}
