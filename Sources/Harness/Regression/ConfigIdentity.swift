/// What a run ran, normalised so that two results can be checked for being runs of the same
/// thing: every field of the validated config after the command line's overrides (so comments,
/// key order, spelling of units and defaults left out all vanish), one `path = value` line per
/// field, and a hash of those lines.
///
/// Left out on purpose: the config's file path, `run.repetitions` (more repetitions of the same
/// run are the same run), `expect:` (claims checked after the run, not what runs), `vary:`
/// (each variant's run carries its own config) and `--inject-delay` (a power check compares a
/// slowed run with its unslowed baseline). Added: schedule shaking, and whether the access-cost probe ran when
/// `remote_cost: inject` spends its figures.
public struct ConfigIdentity: Codable, Sendable, Equatable {
    /// FNV-1a 64 of `fields` joined by newlines, in hex: a quick check, not a secure digest.
    public var hash: String
    public var fields: [String]

    public init(fields: [String]) {
        self.fields = fields
        self.hash = Self.fnv1a(fields.joined(separator: "\n"))
    }

    public init(_ config: StressConfig, options: Runner.Options) {
        var lines: [String] = []
        Self.flatten(config, path: "", into: &lines)
        let ignored = ["file", "run.repetitions", "expectations", "variants"]
        lines.removeAll { line in ignored.contains { line.hasPrefix($0 + " ") || line.hasPrefix($0 + "[") || line.hasPrefix($0 + ".") } }
        if let shake = options.shake { lines.append("options.shake = \(shake.seed):\(shake.probability)") }
        if config.remoteCost == .inject { lines.append("options.probe = \(options.probeAccessCost)") }
        self.init(fields: lines)
    }

    /// One line per leaf of the value, found by reflection so that a field added to the config
    /// later is covered without anyone remembering to add it here.
    static func flatten(_ value: Any, path: String, into out: inout [String]) {
        let m = Mirror(reflecting: value)
        func join(_ label: String) -> String {
            let l = label.hasPrefix(".") ? String(label.dropFirst()) : label   // tuple elements are ".0", ".1"
            return path.isEmpty ? l : path + "." + l
        }
        switch m.displayStyle {
        case .optional:
            if let some = m.children.first { flatten(some.value, path: path, into: &out) } else { out.append("\(path) = nil") }
        case .collection, .set:
            if m.children.isEmpty { out.append("\(path) = []") }
            for (i, child) in m.children.enumerated() { flatten(child.value, path: "\(path)[\(i)]", into: &out) }
        case .dictionary:
            let entries = m.children.map { Mirror(reflecting: $0.value).children.map(\.value) }
                .map { ("\($0[0])", $0[1]) }.sorted { $0.0 < $1.0 }
            if entries.isEmpty { out.append("\(path) = [:]") }
            for (k, v) in entries { flatten(v, path: "\(path)[\(k)]", into: &out) }
        case .enum:
            // A case with a payload: the case name joins the path and the payload follows.
            if let payload = m.children.first {
                flatten(payload.value, path: join(payload.label ?? "\(value)"), into: &out)
            } else {
                out.append("\(path) = \(value)")
            }
        default:
            // A type that prints itself (flags, CPU selectors) reads better whole.
            if m.children.isEmpty || value is CustomStringConvertible {
                out.append("\(path) = \(value)")
            } else {
                for (i, child) in m.children.enumerated() { flatten(child.value, path: join(child.label ?? "\(i)"), into: &out) }
            }
        }
    }

    /// The fields that differ: present in both with another value (`different`), or present
    /// on one side only (`oneSided`, a field one build knows and the other does not).
    public func differences(from other: ConfigIdentity) -> (different: [String], oneSided: [String]) {
        func split(_ fs: [String]) -> [String: String] {
            var d: [String: String] = [:]
            for f in fs {
                guard let r = f.range(of: " = ") else { continue }
                d[String(f[..<r.lowerBound])] = String(f[r.upperBound...])
            }
            return d
        }
        let a = split(other.fields), b = split(fields)
        var different: [String] = [], oneSided: [String] = []
        for f in other.fields {
            guard let key = f.range(of: " = ").map({ String(f[..<$0.lowerBound]) }) else { continue }
            if let now = b[key] { if now != a[key] { different.append("\(key): \(a[key]!) vs \(now)") } }
            else { oneSided.append("\(key) only in the baseline") }
        }
        for f in fields {
            guard let key = f.range(of: " = ").map({ String(f[..<$0.lowerBound]) }), a[key] == nil else { continue }
            oneSided.append("\(key) only in this result")
        }
        return (different, oneSided)
    }

    static func fnv1a(_ text: String) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in text.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        let hex = String(h, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
