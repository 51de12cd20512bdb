import Foundation

/// One value of a grid axis as YAML text (`spin`, `1s`, `{ keep: 64, order: fifo }`), with
/// where it was written when it came from a config's `sweep:` section (nil from `--grid`).
public struct SweepValue: Sendable, Equatable, Codable {
    public var text: String
    public var line: Int?
    public var column: Int?
    public init(text: String, line: Int? = nil, column: Int? = nil) { self.text = text; self.line = line; self.column = column }
}

/// One axis of a sweep grid: a `vary:`-style key path and the values it takes.
public struct SweepAxis: Sendable, Equatable, Codable {
    public var path: String
    public var values: [SweepValue]
    public init(path: String, values: [SweepValue]) { self.path = path; self.values = values }

    /// The axis as a snake_case CSV column: `locks.zone` → `locks_zone`.
    public var column: String {
        String(path.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }

    /// Why a key path cannot be set per variant or per point (nil: it can). The name is the
    /// results folder; vary, expect and sweep describe the runs rather than being part of one.
    static func refusal(_ path: String) -> String? {
        let head = path.split(separator: ".").first.map(String.init) ?? path
        guard !path.isEmpty else { return "empty key path" }
        return ["name", "vary", "expect", "sweep"].contains(head) ? "\(path) cannot vary" : nil
    }

    /// `KEY=V1,V2,…` from the command line. Commas inside `[]`, `{}` or quotes belong to the
    /// value (`workloads.w.cpus="0-3,6"`, `workloads.w.lifetime={ keep: 64, order: fifo }`).
    public static func parse(_ argument: String) throws(SweepError) -> SweepAxis {
        guard let eq = argument.firstIndex(of: "=") else {
            throw SweepError("--grid \(argument): expected KEY=V1,V2,… (e.g. --grid locks.zone=spin,mutex)")
        }
        let path = String(argument[..<eq]).trimmingCharacters(in: .whitespaces)
        if let why = refusal(path) { throw SweepError("--grid \(argument): \(why)") }
        let texts = splitValues(String(argument[argument.index(after: eq)...]))
        guard !texts.isEmpty, !texts.contains(where: \.isEmpty) else {
            throw SweepError("--grid \(argument): every value must be non-empty")
        }
        guard Set(texts).count == texts.count else { throw SweepError("--grid \(argument): a value is listed twice") }
        return SweepAxis(path: path, values: texts.map { SweepValue(text: $0) })
    }

    static func splitValues(_ s: String) -> [String] {
        var out: [String] = [], cur = "", depth = 0
        var quote: Character? = nil
        for c in s {
            if let q = quote {
                if c == q { quote = nil }
            } else if c == "\"" || c == "'" {
                quote = c
            } else if c == "[" || c == "{" {
                depth += 1
            } else if c == "]" || c == "}" {
                depth -= 1
            } else if c == ",", depth == 0 {
                out.append(cur.trimmingCharacters(in: .whitespaces)); cur = ""; continue
            }
            cur.append(c)
        }
        out.append(cur.trimmingCharacters(in: .whitespaces))
        return out
    }

    /// `--grid K=a --grid K=b` is one axis `K=a,b`; axes keep the order they were first given.
    public static func merged(_ axes: [SweepAxis]) throws(SweepError) -> [SweepAxis] {
        var out: [SweepAxis] = []
        for a in axes {
            if let i = out.firstIndex(where: { $0.path == a.path }) {
                for v in a.values {
                    guard !out[i].values.contains(v) else { throw SweepError("--grid \(a.path): \(v.text) is listed twice") }
                    out[i].values.append(v)
                }
            } else {
                out.append(a)
            }
        }
        return out
    }
}

/// One point of the grid: one value per axis, in axis order.
public struct SweepPoint: Sendable, Equatable, Codable {
    public var index: Int
    /// Folder name: the index, then the values (`003-mutex-2s`).
    public var name: String
    /// `path=value` per axis.
    public var settings: [String]
    /// Each axis's value index.
    public var choice: [Int]

    /// `locks.zone=mutex, run.duration=2s`: how messages name the point.
    public var label: String { "point \(name) (\(settings.joined(separator: ", ")))" }
}

/// The cartesian product of the axes, the last axis varying fastest.
public enum SweepGrid {
    public static func expand(_ axes: [SweepAxis]) -> [SweepPoint] {
        var choices: [[Int]] = [[]]
        for a in axes { choices = choices.flatMap { c in a.values.indices.map { c + [$0] } } }
        let width = max(3, String(max(choices.count - 1, 0)).count)
        return choices.enumerated().map { i, c in
            let values = zip(axes, c).map { $0.values[$1].text }
            var name = String(repeating: "0", count: width - String(i).count) + String(i)
            let tail = values.map(slug).joined(separator: "-")
            if !tail.isEmpty { name += "-" + String(tail.prefix(80)) }
            return SweepPoint(index: i, name: name, settings: zip(axes, values).map { "\($0.path)=\($1)" }, choice: c)
        }
    }

    /// A value in a folder name: letters, digits, `.` and `_` kept, anything else one `_`.
    static func slug(_ v: String) -> String {
        var s = ""
        for c in v {
            if c.isASCII && (c.isLetter || c.isNumber || c == ".") { s.append(c) } else if !s.hasSuffix("_") { s.append("_") }
        }
        let t = s.trimmingCharacters(in: CharacterSet(charactersIn: "_."))
        return t.isEmpty ? "v" : t
    }
}

/// A sweep that cannot go on: bad input, a bad point, a folder that is not a sweep.
public struct SweepError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
