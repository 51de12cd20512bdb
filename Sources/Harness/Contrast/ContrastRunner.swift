import Foundation

/// `vary:` — the variants of one config run one after another with the same seed, each a whole
/// ordinary run, then the expectations are checked across them. A stop signal during a variant
/// ends that variant (its result marked incomplete) and no further variant starts.
public enum ContrastRunner {
    public static func run(_ config: StressConfig, options: Runner.Options = Runner.Options()) async throws -> ContrastOutcome {
        if options.ownSignalHandlers { StopSignal.install() }
        defer { if options.ownSignalHandlers { StopSignal.reset() } }
        var inner = options
        inner.ownSignalHandlers = false
        var runs: [ContrastOutcome.VariantRun] = []
        for v in config.variants {
            if StopSignal.pending != 0 { break }
            if options.progress { FileHandle.standardError.write(Data("variant \(v.name) (\(v.settings))\n".utf8)) }
            var outcome = try await Runner.run(v.config, options: inner)
            outcome.result.variant = v.name
            runs.append(.init(variant: v, outcome: outcome))
            if !outcome.result.complete { break }
        }
        let expectations = ExpectationCheck.check(config, variants: runs.map { ($0.variant.name, $0.outcome.result) })
        return ContrastOutcome(config: config, runs: runs, expectations: expectations)
    }
}

/// The variants' runs and the verdicts of the expectations.
public struct ContrastOutcome: Sendable {
    public struct VariantRun: Sendable {
        public var variant: Variant
        public var outcome: RunOutcome
    }

    public var config: StressConfig
    public var runs: [VariantRun]
    public var expectations: [ExpectationOutcome]

    /// Every variant ran to its end.
    public var complete: Bool { runs.count == config.variants.count && runs.allSatisfy(\.outcome.result.complete) }
    public var invariantsPassed: Bool { runs.allSatisfy(\.outcome.result.invariants.passed) }
    public var expectationsPassed: Bool { expectations.allSatisfy(\.passed) }
}
