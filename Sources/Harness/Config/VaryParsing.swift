
/// `vary: { KEY.PATH: [v1, v2] }` or `vary: { KEY.PATH: { name1: v1, name2: v2 } }`: the
/// config is run once per value (per combination when several keys vary), each time with that
/// value put at the key path of the document and the whole document validated again, so an
/// error in a variant points at its value under `vary:`.
///
/// Key paths walk mappings by key and lists by an element's `name` (`workloads.fill.gfp`);
/// a missing last key (or missing mapping on the way) is added, a missing workload is an error.
extension ConfigReader {
    /// First segments of figure names: a variant may not be called like one.
    static let figureRoots: Set<String> = Set(FigureCatalog.families.map {
        String($0.pattern.prefix { $0 != "." && $0 != "[" })
    }).union(["atomic", "nowait", "blocking", "zone", "cache", "op"])

    func variants(_ n: YNode, root: YNode?) throws -> [Variant] {
        guard case .mapping(let map) = n, !map.pairs.isEmpty else {
            throw fail(n, "vary: expected a mapping of key paths to lists of values", hint: "e.g. vary: { locks.zone: [spin, mutex] }")
        }
        // Each key: its path and its named values.
        var axes: [(path: String, key: YNode, values: [(name: String, value: YNode)])] = []
        for (k, v) in map {
            let path = try scalar(k, "vary", expected: "a key path such as locks.zone")
            guard SweepAxis.refusal(path) == nil else {
                throw fail(k, "vary: \(path) cannot vary", hint: "vary settings of the run, e.g. locks.zone or workloads.NAME.gfp")
            }
            axes.append((path, k, try values(v, "vary.\(path)")))
        }
        var combos: [(name: String, settings: [String], doc: YNode?)] = [("", [], root)]
        for axis in axes {
            combos = try combos.flatMap { c in
                try axis.values.map { named in
                    let doc = try set(named.value, at: axis.path, in: c.doc, keyNode: axis.key)
                    let shown = named.value.scalar?.string ?? named.name
                    return (c.name.isEmpty ? named.name : c.name + "_" + named.name, c.settings + ["\(axis.path)=\(shown)"], doc)
                }
            }
        }
        var reader = self
        reader.asVariant = true
        return try combos.map { c in
            Variant(name: c.name, settings: c.settings.joined(separator: ", "), config: try reader.document(c.doc))
        }
    }

    /// `[a, b]` named after the values, or `{ name: value }` named by the keys.
    func values(_ n: YNode, _ path: String) throws -> [(name: String, value: YNode)] {
        var out: [(name: String, value: YNode, at: YNode)] = []
        switch n {
        case .sequence(let seq):
            for v in seq {
                let text = try scalar(v, path, expected: "a list of values (or a mapping of variant names to values)")
                out.append((Self.variantName(text), v, v))
            }
        case .mapping(let map):
            for (k, v) in map { out.append((try string(k, path), v, k)) }
        default:
            throw fail(n, "\(path): expected a list of values or a mapping of variant names to values, got \(n.scalar.map { "\"\($0.string)\"" } ?? "something else")")
        }
        guard out.count >= 2 else { throw fail(n, "\(path): a contrast needs at least two values") }
        var seen = Set<String>()
        for o in out {
            guard let first = o.name.first, first.isLetter, o.name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                throw fail(o.at, "\(path): variant name \"\(o.name)\" must start with a letter and hold only letters, digits and _",
                           hint: "name the variants with a mapping: { name: value }")
            }
            guard !Self.figureRoots.contains(o.name) else {
                throw fail(o.at, "\(path): variant name \"\(o.name)\" is also the start of figure names in expect:",
                           hint: "name the variants with a mapping: { name: value }")
            }
            guard seen.insert(o.name).inserted else { throw fail(o.at, "\(path): two variants are named \"\(o.name)\"") }
        }
        return out.map { ($0.name, $0.value) }
    }

    /// `GFP_KERNEL | __GFP_NOWARN` → `gfp_kernel___gfp_nowarn`; `mutex` → `mutex`.
    static func variantName(_ value: String) -> String {
        var s = ""
        for c in value.lowercased() { s.append(c.isLetter || c.isNumber ? c : "_") }
        while s.contains("__") { s = s.replacingOccurrences(of: "__", with: "_") }
        return s.trimmingCharacters(in: CharacterSet(charactersIn: "_"))
    }

    /// The document with `value` put at the dotted `path`.
    /// `section` names the key the path was written under (`vary`, or `sweep` for a grid point).
    func set(_ value: YNode, at path: String, in doc: YNode?, keyNode: YNode, section: String = "vary") throws -> YNode {
        let segments = path.split(separator: ".").map(String.init)
        guard !segments.isEmpty, let doc else { throw fail(keyNode, "\(section): empty key path") }
        return try put(value, segments[...], into: doc, keyNode: keyNode, walked: "", section: section)
    }

    private func put(_ value: YNode, _ rest: ArraySlice<String>, into node: YNode, keyNode: YNode, walked: String, section: String) throws -> YNode {
        guard let head = rest.first else { return value }
        let here = walked.isEmpty ? head : walked + "." + head
        switch node {
        case .mapping(var map):
            if let i = map.pairs.firstIndex(where: { $0.key.scalar?.string == head }) {
                let (k, v) = map.pairs[i]
                map.pairs[i] = (k, try put(value, rest.dropFirst(), into: v, keyNode: keyNode, walked: here, section: section))
            } else {
                func key(_ s: String) -> YNode { .scalar(YScalar(string: s, isPlain: true, mark: keyNode.mark)) }
                var built = value
                for seg in rest.dropFirst().reversed() { built = .mapping(YMapping(pairs: [(key(seg), built)], mark: keyNode.mark)) }
                map.pairs.append((key(head), built))
            }
            return .mapping(map)
        case .sequence(var seq):
            func name(_ node: YNode) -> String? {
                guard case .mapping(let m) = node else { return nil }
                return m.pairs.first { $0.key.scalar?.string == "name" }?.value.scalar?.string
            }
            guard let i = seq.items.firstIndex(where: { name($0) == head }) else {
                let names = seq.items.compactMap(name)
                throw fail(keyNode, "\(section): no element named \"\(head)\" in \(walked)",
                           hint: names.isEmpty ? nil : "names: " + names.joined(separator: ", "))
            }
            seq.items[i] = try put(value, rest.dropFirst(), into: seq.items[i], keyNode: keyNode, walked: here, section: section)
            return .sequence(seq)
        default:
            throw fail(keyNode, "\(section): \(walked) is a single value; \(here) does not exist")
        }
    }
}

import Foundation
