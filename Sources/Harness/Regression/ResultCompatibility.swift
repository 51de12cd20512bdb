/// Whether two results may be compared at all, and what a reader should know when they may.
///
/// Refused: an incomplete result (its figures cover part of a run), and results of different
/// configs or modelled machines (any verdict would be about the difference in what ran, not in
/// the code). Said but allowed: another host, another build revision, another malloc, a power
/// check's injected delay, and config fields that only one build knows.
public struct ResultCompatibility: Sendable {
    /// Reasons compare must stop (exit 2): each one line.
    public var refusals: [String] = []
    /// Reasons that `--force` may override: each the differing fields, one per line.
    public var mismatches: [String] = []
    public var notes: [String] = []

    public init(baseline b: RunResult, baselineFile: String, now n: RunResult, nowFile: String) {
        for (r, file) in [(b, baselineFile), (n, nowFile)] where !r.complete {
            refusals.append("\(file) is an incomplete result (\(r.stopReason ?? "stopped early")): only complete runs can be compared")
        }
        checkConfig(b, n)
        let topo = Self.topologyDifferences(b.topology, n.topology)
        if !topo.isEmpty { mismatches.append("the modelled machines differ: " + topo.joined(separator: "; ")) }

        if b.host.hostname != n.host.hostname || b.host.pus != n.host.pus || b.host.nodes != n.host.nodes {
            notes.append("different hosts: \(b.host.hostname) (\(b.host.pus) PUs, \(b.host.nodes) node(s)) vs \(n.host.hostname) (\(n.host.pus) PUs, \(n.host.nodes) node(s)); timings compare machines as well as code")
        } else if b.host.mapping != n.host.mapping {
            notes.append("the CPUs were mapped differently: \(b.host.mapping) vs \(n.host.mapping)")
        }
        if b.host.gitRevision != n.host.gitRevision {
            notes.append("different build revisions: \(b.host.gitRevision) vs \(n.host.gitRevision)")
        }
        if let bm = b.host.malloc, let nm = n.host.malloc, bm != nm {
            notes.append("different process mallocs: \(bm) vs \(nm)")
        }
        for (r, label) in [(b, "the baseline"), (n, "this result")] {
            if let d = r.run.injectDelayNS, d > 0 {
                notes.append("\(label) ran with --inject-delay \(d)ns after every operation (a power check)")
            }
        }
    }

    /// Configs are the same run when their normalised identities hold the same values; fields
    /// only one side has (a config key added by a later build) are said, not refused.
    mutating func checkConfig(_ b: RunResult, _ n: RunResult) {
        guard let bi = b.config.identity, let ni = n.config.identity else {
            let which = b.config.identity == nil ? "the baseline" : "this result"
            notes.append("\(which) was written by an older build without a config identity: configs compared by name only")
            if b.config.name != n.config.name { mismatches.append("different configs: \(b.config.name) vs \(n.config.name)") }
            return
        }
        guard bi.hash != ni.hash else { return }
        let (different, oneSided) = ni.differences(from: bi)
        if !different.isEmpty {
            let shown = different.prefix(8).joined(separator: "; ")
            let more = different.count > 8 ? "; and \(different.count - 8) more" : ""
            mismatches.append("different configs (\(b.config.name) vs \(n.config.name)): \(shown)\(more)")
        }
        if !oneSided.isEmpty {
            notes.append("config fields known to one build only: " + oneSided.prefix(4).joined(separator: "; "))
        }
    }

    /// What makes two modelled machines different runs: nodes, their CPUs and memory, the
    /// shape and the distances. Where they land on the host is the host's business.
    static func topologyDifferences(_ a: TopologyReport, _ b: TopologyReport) -> [String] {
        var out: [String] = []
        if a.source != b.source { out.append("source \(a.source) vs \(b.source)") }
        if a.nodes.count != b.nodes.count { out.append("\(a.nodes.count) vs \(b.nodes.count) node(s)") }
        else {
            for (x, y) in zip(a.nodes, b.nodes) where x.cpus != y.cpus || x.memoryBytes != y.memoryBytes {
                out.append("node \(x.index): CPUs \(x.cpus) vs \(y.cpus), \(x.memoryBytes) vs \(y.memoryBytes) bytes")
            }
        }
        if a.pus.count != b.pus.count { out.append("\(a.pus.count) vs \(b.pus.count) CPU(s)") }
        if a.packages != b.packages || a.cores != b.cores {
            out.append("\(a.packages) vs \(b.packages) package(s), \(a.cores) vs \(b.cores) core(s)")
        }
        if a.distances.values != b.distances.values { out.append("distances \(a.distances.values) vs \(b.distances.values)") }
        return out
    }
}
