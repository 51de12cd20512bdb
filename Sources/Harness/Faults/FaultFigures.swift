/// What `faults:` injected and what the model caught, per kind, in result.json. A run passes
/// only when every injected fault was detected and every report was explained by a fault.
public struct FaultFigures: Codable, Sendable, Equatable {
    public struct Kind: Codable, Sendable, Equatable {
        public var kind: String
        public var rate: Double
        public var injected: Int
        public var detected: Int
        public var missed: Int
    }

    public var slubDebug: Bool
    public var kinds: [Kind]
    /// The first 20 missed faults: kind, object, CPU, where, and why nothing caught it.
    public var missedFaults: [String]
    /// Debug reports no injected fault explains, and the first 20 of them.
    public var unexplained: Int
    public var unexplainedReports: [String]

    public var injected: Int { kinds.reduce(0) { $0 + $1.injected } }
    public var detected: Int { kinds.reduce(0) { $0 + $1.detected } }
    public var missed: Int { kinds.reduce(0) { $0 + $1.missed } }

    /// The lines that fail the run, empty when it passes.
    public var violations: [String] {
        var v: [String] = []
        for k in kinds where k.missed > 0 {
            v.append("faults: \(k.missed) of \(k.injected) injected \(k.kind) fault(s) missed"
                     + (slubDebug ? "" : " (slub_debug: false: the caches have no debug checks)"))
        }
        if unexplained > 0 { v.append("faults: \(unexplained) debug report(s) no injected fault explains: " + unexplainedReports.prefix(3).joined(separator: "; ")) }
        return v
    }
}
