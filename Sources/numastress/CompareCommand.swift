import ArgumentParser
import Foundation
import Harness

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare a result with a baseline: counters exactly (deterministic runs), timings and speed-independent ratios over repetitions with a U test. Exit 1 on a regression.",
        discussion: """
            A timing is a REGRESSION when its median over repetitions moved the wrong way by more than \
            --max-regression (--max-tail-regression for p99) and a two-sided Mann–Whitney U test gives \
            p < --alpha; IMPROVED the other way; otherwise ok. Throughput is operations per CPU-second \
            of the measured phase, so other processes' load on the machine does not count. Record results with --repetitions 5 or more: with 3 a side no change can \
            reach p < 0.05.
            """ + " " + CLIConventions.exitStatus("""
            0 nothing failed; 1 a regression, a changed counter, a missing metric (or, with --strict, a \
            metric not judged); 2 the results cannot be compared (unreadable, incomplete, or of \
            different configs or machines without --force)
            """))

    @Argument(help: "Baseline result.json (or a Results run folder).")
    var baseline: String

    @Argument(help: "Result to judge (result.json or its folder).")
    var result: String

    @Option(name: .customLong("max-regression"), help: "Smallest timing worsening that counts, e.g. 10%.")
    var maxRegression = "10%"

    @Option(name: .customLong("max-tail-regression"), help: "Smallest worsening of a p99 latency that counts (tails move far more than medians between identical runs on a shared machine).")
    var maxTailRegression = "100%"

    @Option(name: .customLong("ratio-tolerance"), help: "Smallest change of a speed-independent ratio that counts (and at least 0.05 per operation in absolute terms at 25%).")
    var ratioTolerance = "25%"

    @Option(help: "Significance level of the U test.")
    var alpha = SampleRule.defaultAlpha

    @Option(name: .customLong("metric"), help: "Only metrics whose name contains this (repeatable).")
    var metrics: [String] = []

    @Flag(help: "Show every metric, not only the failing, improved and not judged ones.")
    var all = false

    @Flag(help: "Fail (exit 1) when any metric could not be judged.")
    var strict = false

    @Flag(help: "Compare results of different configs or modelled machines anyway.")
    var force = false

    @Flag(name: .customLong("no-timings"), help: "Judge counters and ratios only (e.g. against a baseline from another machine).")
    var noTimings = false

    @Flag(help: "Print every metric's verdict as JSON (schema numastress.compare/1) instead of the table.")
    var json = false

    func run() throws {
        var options = Comparison.Options()
        options.maxRegression = try Self.fraction(maxRegression, "--max-regression")
        options.maxTailRegression = try Self.fraction(maxTailRegression, "--max-tail-regression")
        options.ratioTolerance = try Self.fraction(ratioTolerance, "--ratio-tolerance")
        guard alpha > 0 && alpha < 1 else { throw failInput("--alpha: expected a level between 0 and 1, like 0.05, got \(alpha)") }
        options.alpha = alpha
        options.metrics = metrics
        options.timings = !noTimings
        let (basePath, base) = try Self.load(baseline)
        let (nowPath, now) = try Self.load(result)

        let check = ResultCompatibility(baseline: base, baselineFile: basePath, now: now, nowFile: nowPath)
        if let refusal = check.refusals.first { throw failInput(refusal) }
        if !check.mismatches.isEmpty && !force {
            throw failInput(check.mismatches.joined(separator: "\n       ") + "\n       (--force compares them anyway)")
        }
        let notes = check.mismatches.map { "compared anyway (--force): \($0)" } + check.notes
        let c = Comparison(baseline: base, now: now, options: options)
        let strictFails = strict && !c.notJudged.isEmpty
        if json {
            printJSON(ComparisonJSON(c, baseline: basePath, result: nowPath, notes: notes, failed: c.failed || strictFails))
        } else {
            for n in notes { print("note: \(n)") }
            print(c.table(showAll: all), terminator: "")
            if strictFails { print("--strict: \(c.notJudged.count) metric(s) could not be judged") }
        }
        if c.failed || strictFails { throw ExitCode(1) }
    }

    static func fraction(_ text: String, _ option: String) throws -> Double {
        let v = Double(text.trimmingCharacters(in: CharacterSet(charactersIn: "% "))).map { text.hasSuffix("%") ? $0 / 100 : $0 }
        guard let v, v >= 0 else { throw failInput("\(option): expected a percentage like 10%, got \(text)") }
        return v
    }

    static func load(_ p: String) throws -> (String, RunResult) {
        var isDir: ObjCBool = false
        let path = FileManager.default.fileExists(atPath: p, isDirectory: &isDir) && isDir.boolValue ? p + "/result.json" : p
        do { return (path, try ResultWriter.read(path)) } catch { throw failInput("cannot read \(path): \(error.localizedDescription)") }
    }
}

/// `compare --json`: every metric judged, as the table shows it.
struct ComparisonJSON: Encodable {
    var schema = "numastress.compare/1"
    var baseline: String
    var result: String
    var failed: Bool
    var notes: [String]
    var metrics: [Metric]

    struct Metric: Encodable {
        var metric: String
        var kind: String
        var baseline: Double?
        var now: Double?
        var change: Double?
        var p: Double?
        var verdict: String
        var whyNotJudged: String?
    }

    init(_ c: Comparison, baseline: String, result: String, notes: [String], failed: Bool) {
        self.baseline = baseline
        self.result = result
        self.failed = failed
        self.notes = notes
        metrics = c.rows.map { r in
            var why: String? = nil
            if case .notJudged(let reason) = r.verdict { why = reason }
            return Metric(metric: r.metric, kind: r.kind.rawValue, baseline: r.baseline, now: r.now, change: r.change, p: r.p,
                          verdict: r.verdict.label.lowercased().replacingOccurrences(of: " ", with: "_"), whyNotJudged: why)
        }
    }
}
