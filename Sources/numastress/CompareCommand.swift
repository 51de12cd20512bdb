import ArgumentParser
import Foundation
import Harness

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare a result with a baseline: counters exactly (deterministic runs), timings within a threshold. Exit 1 on a regression.")

    @Argument(help: "Baseline result.json (or a Results run folder).")
    var baseline: String

    @Argument(help: "Result to judge (result.json or its folder).")
    var result: String

    @Option(name: .customLong("max-regression"), help: "Allowed timing regression, e.g. 10%.")
    var maxRegression = "10%"

    @Option(name: .customLong("metric"), help: "Only metrics whose name contains this (repeatable).")
    var metrics: [String] = []

    @Flag(help: "Show every metric, not only the failing and notable ones.")
    var all = false

    func run() throws {
        let threshold = Double(maxRegression.trimmingCharacters(in: CharacterSet(charactersIn: "% "))).map { maxRegression.hasSuffix("%") ? $0 / 100 : $0 }
        guard let threshold, threshold >= 0 else { throw failInput("--max-regression: expected a percentage like 10%, got \(maxRegression)") }
        func load(_ p: String) throws -> RunResult {
            var isDir: ObjCBool = false
            let path = FileManager.default.fileExists(atPath: p, isDirectory: &isDir) && isDir.boolValue ? p + "/result.json" : p
            do { return try ResultWriter.read(path) } catch { throw failInput("cannot read \(path): \(error.localizedDescription)") }
        }
        let c = Comparison(baseline: try load(baseline), now: try load(result), maxRegression: threshold, metrics: metrics)
        print(c.table(showAll: all), terminator: "")
        if c.failed { throw ExitCode(1) }
    }
}
