import Foundation
import KernelMM
import Topology

extension ConfigReader {
    /// One YAML mapping of the config by key, keeping the key nodes so that errors can point at them.
    struct Fields {
        let node: YNode
        let path: String
        let entries: [(name: String, key: YNode, value: YNode)]

        subscript(_ name: String) -> YNode? { entries.first { $0.name == name }?.value }
        func key(_ name: String) -> YNode? { entries.first { $0.name == name }?.key }
        func child(_ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }
    }
}

extension YNode {
    /// A plain `~`, `null` or empty value: YAML's way of writing nothing.
    var isNull: Bool {
        guard case .scalar(let s) = self, s.isPlain else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(s.string)
    }

    /// What a node is, for "expected X, got Y".
    var summary: String {
        switch self {
        case .scalar(let s): return isNull ? "nothing" : "\"\(s.string)\""
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        }
    }
}

extension ConfigReader {
    func fail(_ node: YNode?, _ message: String, hint: String? = nil) -> ConfigError {
        let m = node?.mark
        return ConfigError(file: file, line: m?.line ?? 1, column: m?.column ?? 1, message: message, hint: hint)
    }

    func fail(_ node: YNode?, _ path: String, _ e: ConfigValueError) -> ConfigError {
        fail(node, "\(path): \(e.message)", hint: e.hint)
    }

    /// A mapping whose keys are all in `allowed`; an unknown key is an error at that key.
    func fields(_ n: YNode, _ path: String, allowed: [String], hint extra: String? = nil) throws -> Fields {
        let label = path.isEmpty ? "the config" : path
        guard case .mapping(let map) = n else {
            throw fail(n, "\(label): expected a mapping with keys \(allowed.joined(separator: ", ")), got \(n.summary)")
        }
        var entries: [(String, YNode, YNode)] = []
        for (k, v) in map {
            guard case .scalar(let ks) = k, allowed.contains(ks.string) else {
                let name = k.scalar?.string ?? k.summary
                let close = allowed.first { Self.similar($0, name) }.map { "did you mean \($0)? " } ?? ""
                throw fail(k, "unknown key \"\(name)\"" + (path.isEmpty ? "" : " in \(path)"),
                           hint: (extra.map { $0 + "; " } ?? "") + close + "allowed keys: " + allowed.joined(separator: ", "))
            }
            entries.append((ks.string, k, v))
        }
        return Fields(node: n, path: path, entries: entries)
    }

    /// Same letters ignoring case and `_`, or one edit apart: `perNode` for `per_node`.
    static func similar(_ a: String, _ b: String) -> Bool {
        let x = Array(a.lowercased().filter { $0 != "_" }), y = Array(b.lowercased().filter { $0 != "_" })
        if x == y { return true }
        guard x.count >= 3, y.count >= 3 else { return false }
        var prev = Array(0...y.count)  // Levenshtein, one row at a time
        for i in 1...x.count {
            var cur = [i]
            for j in 1...y.count { cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))) }
            prev = cur
        }
        return prev[y.count] <= 1
    }

    func require(_ f: Fields, _ name: String) throws -> YNode {
        guard let v = f[name] else {
            throw fail(f.node, (f.path.isEmpty ? "" : "\(f.path): ") + "missing required key \"\(name)\"")
        }
        return v
    }

    /// `expected` is worked out only when the node is not a scalar.
    func scalar(_ n: YNode, _ path: String, expected: @autoclosure () -> String) throws -> String {
        guard case .scalar(let s) = n, !n.isNull else { throw fail(n, "\(path): expected \(expected()), got \(n.summary)") }
        return s.string
    }

    func string(_ n: YNode, _ path: String) throws -> String { try scalar(n, path, expected: "a string") }

    func sequence(_ n: YNode, _ path: String, expected: String) throws -> [YNode] {
        guard case .sequence(let s) = n else { throw fail(n, "\(path): expected \(expected), got \(n.summary)") }
        return Array(s)
    }

    /// Decimal or `0x` hex integer within `min…max`.
    func int(_ n: YNode, _ path: String, min lo: Int = .min, max hi: Int? = nil) throws -> Int {
        let t = try scalar(n, path, expected: "an integer")
        let hex = t.hasPrefix("0x") ? Int(t.dropFirst(2), radix: 16) : nil
        guard let v = Int(t) ?? hex else { throw fail(n, "\(path): expected an integer, got \"\(t)\"") }
        if let hi, !(lo...hi).contains(v) { throw fail(n, "\(path): must be \(lo)…\(hi), got \(v)") }
        if v < lo { throw fail(n, "\(path): must be at least \(lo), got \(v)") }
        return v
    }

    /// Any 64-bit seed, decimal or `0x` hex: seeds are bit patterns, not quantities.
    func seed(_ n: YNode, _ path: String) throws -> UInt64 {
        let t = try scalar(n, path, expected: "an integer")
        let hex = t.hasPrefix("0x") ? UInt64(t.dropFirst(2), radix: 16) : nil
        guard let v = UInt64(t) ?? hex else {
            throw fail(n, "\(path): expected an integer 0…\(UInt64.max), got \"\(t)\"")
        }
        return v
    }

    func number(_ n: YNode, _ path: String) throws -> Double {
        let t = try scalar(n, path, expected: "a number")
        guard let v = Double(t), v.isFinite else { throw fail(n, "\(path): expected a number, got \"\(t)\"") }
        return v
    }

    func bool(_ n: YNode, _ path: String) throws -> Bool {
        let t = try scalar(n, path, expected: "true or false")
        guard t == "true" || t == "false" else { throw fail(n, "\(path): expected true or false, got \"\(t)\"") }
        return t == "true"
    }

    func size(_ n: YNode, _ path: String) throws -> Int {
        let t = try scalar(n, path, expected: "a size like 256MiB")
        do { return try Units.size(t) } catch { throw fail(n, path, error) }
    }

    func duration(_ n: YNode, _ path: String) throws -> UInt64 {
        let t = try scalar(n, path, expected: "a duration like 5s")
        do { return try Units.duration(t) } catch { throw fail(n, path, error) }
    }

    /// A duration within `ConfigLimits.maxDurationNS`.
    func boundedDuration(_ n: YNode, _ path: String) throws -> UInt64 {
        let ns = try duration(n, path)
        do { try ConfigLimits.checkDuration(ns) } catch { throw fail(n, path, error) }
        return ns
    }

    func choice<E: RawRepresentable>(_ n: YNode, _ path: String, _ cases: [E]) throws -> E where E.RawValue == String {
        // The list of words is spelled out only for an error message.
        func expected() -> String {
            let names = cases.map(\.rawValue)
            return names.count == 2 ? "\(names[0]) or \(names[1])" : "one of " + names.joined(separator: ", ")
        }
        let t = try scalar(n, path, expected: expected())
        guard let v = cases.first(where: { $0.rawValue == t }) else { throw fail(n, "\(path): expected \(expected()), got \"\(t)\"") }
        return v
    }
}
