/// What a trace file says about the machine it was recorded on, from its `#` lines: the kernel
/// version, the CPUs and nodes (and which node each CPU is on), the command, the events, the
/// events the kernel lost, and the `/proc` views captured before the command ran. The events
/// alone would not say which machine shape or which slab geometry they came from.
///
/// Format (written by `TraceRecorder`, read by `TraceReader`): `# key: value` lines, and
/// `# snapshot: NAME` followed by that view's lines each prefixed with `#> `.
public struct TraceHeader: Sendable, Equatable {
    public static let magic = "numastress-trace 1"

    public var kernel: String? = nil
    public var cpus: Int? = nil
    public var nodes: Int? = nil
    /// The node of each CPU by CPU number (from /sys/devices/system/node/node*/cpulist).
    public var cpuNodes: [Int] = []
    public var command: String? = nil
    public var events: [String] = []
    /// Events the ring buffer lost (overrun + dropped of per_cpu/*/stats); nil when unknown.
    public var lostEvents: Int? = nil
    /// `slabinfo`, `buddyinfo`, `zoneinfo`: each view's text as the kernel printed it.
    public var snapshots: [String: String] = [:]
    /// Other `# key: value` lines, kept as they are.
    public var extra: [String: String] = [:]

    public init() {}

    /// The header lines for a recording (without the trailer that reports lost events).
    public func lines() -> [String] {
        var out = ["# \(Self.magic)"]
        if let kernel { out.append("# kernel: \(kernel)") }
        if let cpus { out.append("# cpus: \(cpus)") }
        if let nodes { out.append("# nodes: \(nodes)") }
        if !cpuNodes.isEmpty { out.append("# cpu-nodes: " + cpuNodes.map(String.init).joined(separator: " ")) }
        if let command { out.append("# command: \(command)") }
        if !events.isEmpty { out.append("# events: " + events.joined(separator: " ")) }
        for (k, v) in extra.sorted(by: { $0.key < $1.key }) { out.append("# \(k): \(v)") }
        for name in snapshots.keys.sorted() {
            out.append("# snapshot: \(name)")
            for l in snapshots[name]!.split(separator: "\n", omittingEmptySubsequences: false).dropLast(snapshots[name]!.hasSuffix("\n") ? 1 : 0) {
                out.append("#> " + l)
            }
        }
        return out
    }

    /// Takes one `#` line (without the newline); `currentSnapshot` follows `# snapshot:` lines.
    mutating func absorb(_ line: String, currentSnapshot: inout String?) {
        if line.hasPrefix("#> ") || line == "#>" {
            if let s = currentSnapshot { snapshots[s, default: ""] += String(line.dropFirst(3)) + "\n" }
            return
        }
        currentSnapshot = nil
        guard line.hasPrefix("# "), let colon = line.firstIndex(of: ":") else { return }
        let key = String(line[line.index(line.startIndex, offsetBy: 2)..<colon])
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        switch key {
        case "kernel": kernel = value
        case "cpus": cpus = Int(value)
        case "nodes": nodes = Int(value)
        case "cpu-nodes": cpuNodes = value.split(separator: " ").compactMap { Int($0) }
        case "command": command = value
        case "events": events = value.split(separator: " ").map(String.init)
        case "lost-events": lostEvents = Int(value.split(separator: " ").first ?? "")
        case "snapshot": currentSnapshot = value; snapshots[value] = ""
        default: extra[key] = value
        }
    }
}
