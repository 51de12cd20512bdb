import Foundation
import KernelMM
import Yams

/// Seeded structural mutations of a config, for fuzzing `run`: the mutants stay well-formed
/// YAML and mostly well-typed, so that many pass validation and reach the runner, where a
/// value no check thought of would crash or hang it. (Byte-level mutations, which exercise the
/// loader, are ConfigFuzzTests' job.)
struct ConfigMutator {
    /// A YAML tree reduced to what configs use; `quoted` keeps a scalar's string-ness.
    indirect enum Tree {
        case scalar(String, quoted: Bool)
        case list([Tree])
        case map([(key: String, value: Tree)])

        init(_ node: Yams.Node) {
            switch node {
            case .scalar(let s): self = .scalar(s.string, quoted: s.style != .plain && s.style != .any)
            case .sequence(let s): self = .list(s.map(Tree.init))
            case .mapping(let m): self = .map(m.map { (key: $0.key.string ?? "?", value: Tree($0.value)) })
            case .alias: self = .scalar("", quoted: false)
            }
        }
    }

    var rng: SplitMix

    /// Values worth trying anywhere: extremes, sizes with units, every enum's words. Sizes stop
    /// at 1 GiB, bar the absurd ones validation must refuse: fuzzing must not fill the host.
    static let numbers = ["0", "-1", "1", "2", "7", "31", "255", "256", "4095", "4096", "65536", "2147483647", "2147483648",
                          "4294967296", "9223372036854775807", "99999999999999999999", "1e308", "0.5", "1.5", "0x10", "nan", ".inf"]
    static let sizes = ["1B", "8", "100", "4KiB", "64 KiB", "1MiB", "4MiB", "16MiB", "64MiB", "1GiB", "1.5KiB", "2GiB",
                        "3GiB", "4TiB", "8000000TiB", "0B"]
    static let durations = ["0s", "1ns", "1ms", "20ms", "1s", "5100000h", "1.5us"]
    static let words = [
        "kmalloc", "kmem_cache_alloc", "alloc_pages", "vmalloc", "mmap", "kfree", "kmem_cache_free", "free_pages", "vfree",
        "munmap", "spin", "mutex", "measured", "model", "inject", "fifo", "lifo", "random", "immediate", "true", "false",
        "continue", "abort", "kernel", "malloc", "all", "node:0", "node:1", "node:3", "package:0", "package:1", "0-3", "1",
        "first_touch", "interleave", "interleave:0,1", "interleave:,", "bind:0", "bind:1", "preferred:1", "read_write", "read_only",
        "GFP_KERNEL", "GFP_ATOMIC", "GFP_NOWAIT", "GFP_KERNEL | __GFP_NOFAIL", "GFP_KERNEL | GFP_DMA", "GFP_KERNEL | __GFP_ZERO",
        "GFP_KERNEL | GFP_DMA32 | __GFP_NOWARN", "GFP_ATOMIC | __GFP_HIGH", "~", "",
    ]
    static let synthetic = ["pack:1 core:1 pu:1", "pack:1 [numa] core:2 pu:1", "pack:2 [numa] core:2 pu:1",
                            "pack:4 [numa] core:2 pu:1", "pack:2 [numa] core:16 pu:2", "pack:8 [numa] core:1 pu:1"]
    /// Keys to add, with values that make sense for them.
    static let additions: [(key: String, values: [String])] = [
        ("touch", ["1", "64", "4096", "64KiB", "1GiB"]), ("atomic_share", ["0", "0.5", "1"]),
        ("gfp", ["GFP_ATOMIC", "GFP_KERNEL | __GFP_NOFAIL", "GFP_KERNEL | GFP_DMA", "GFP_NOWAIT | __GFP_NOWARN"]),
        ("allocator", ["malloc", "kernel"]), ("huge", ["true"]), ("prot", ["read_only", "read_write"]),
        ("policy", ["interleave", "bind:1", "preferred:0", "first_touch"]), ("max_order", ["1", "5", "11", "20"]),
        ("oom_wait", ["0s", "1ms"]), ("prefault", ["false"]), ("kswapd", ["false", "true"]), ("slub_debug", ["true"]),
        ("deterministic", ["true", "false"]), ("on_slab_error", ["abort"]), ("sample_rate", ["1", "1000000"]),
        ("remote_cost", ["inject", "model"]), ("align", ["0", "8", "64", "4096"]), ("ctor", ["true"]), ("repetitions", ["2"]),
        ("seed", ["0", "18446744073709551615"]),
    ]
    static let structured: [(key: String, tree: Tree)] = [
        ("lifetime", .map([("keep", .scalar("3", quoted: false)), ("order", .scalar("random", quoted: false))])),
        ("lifetime", .map([("keep", .scalar("100000", quoted: false)), ("order", .scalar("lifo", quoted: false))])),
        ("size", .map([("uniform", .list([.scalar("1", quoted: false), .scalar("2147483647", quoted: false)]))])),
        ("size", .map([("weighted", .list([.list([.scalar("64", quoted: false), .scalar("1e-300", quoted: false)])]))])),
        ("order", .map([("uniform", .list([.scalar("0", quoted: false), .scalar("20", quoted: false)]))])),
        ("watermarks", .map([("min", .scalar("0", quoted: false)), ("low", .scalar("0", quoted: false)), ("high", .scalar("16384", quoted: false))])),
        ("pcp", .map([("batch", .scalar("4096", quoted: false))])),
        ("pcp", .map([("batch", .scalar("1", quoted: false)), ("high", .scalar("1", quoted: false))])),
        ("distances", .list([.list([.scalar("10", quoted: false), .scalar("255", quoted: false)]),
                             .list([.scalar("255", quoted: false), .scalar("10", quoted: false)])])),
        ("flags", .list([.scalar("SLAB_POISON", quoted: false), .scalar("SLAB_RED_ZONE", quoted: false), .scalar("SLAB_PANIC", quoted: false)])),
    ]

    /// One to three mutations of `tree`; `donors` lend subtrees (workloads, caches) to graft.
    mutating func mutate(_ tree: Tree, donors: [Tree]) -> Tree {
        var t = tree
        for _ in 0..<(1 + rng.below(3)) {
            let paths = Self.paths(t)
            let p = paths[rng.below(paths.count)]
            switch rng.below(10) {
            case 0, 1: t = Self.replacing(t, at: p, with: .scalar(pick(Self.numbers), quoted: false))
            case 2: t = Self.replacing(t, at: p, with: .scalar(pick(Self.sizes), quoted: false))
            case 3: t = Self.replacing(t, at: p, with: .scalar(pick(Self.words), quoted: rng.below(4) == 0))
            case 4: t = Self.replacing(t, at: p, with: .scalar(pick(Self.durations), quoted: false))
            case 5: t = Self.removing(t, at: p)
            case 6:
                let (key, values) = Self.additions[rng.below(Self.additions.count)]
                t = adding(t, key: key, value: .scalar(pick(values), quoted: false))
            case 7:
                let (key, value) = Self.structured[rng.below(Self.structured.count)]
                t = adding(t, key: key, value: value)
            case 8:
                let topology = Tree.map([("synthetic", .scalar(pick(Self.synthetic), quoted: true))])
                t = Self.setting(t, ["topology"], to: topology)
            default:
                // A workload or cache of another config, appended or swapped in.
                let donor = donors[rng.below(donors.count)]
                for section in ["workloads", "caches"] {
                    guard case .list(let theirs)? = Self.value(donor, [section]), !theirs.isEmpty else { continue }
                    var ours: [Tree] = []
                    if case .list(let l)? = Self.value(t, [section]) { ours = l }
                    let graft = theirs[rng.below(theirs.count)]
                    if !ours.isEmpty && rng.below(2) == 0 { ours[rng.below(ours.count)] = graft } else { ours.append(graft) }
                    t = Self.setting(t, [section], to: .list(ours))
                }
            }
        }
        return t
    }

    mutating func pick(_ list: [String]) -> String { list[rng.below(list.count)] }

    /// Adds `key` to a random mapping of `t` (or replaces it there).
    mutating func adding(_ t: Tree, key: String, value: Tree) -> Tree {
        let maps = Self.paths(t).filter { if case .map? = Self.node(t, $0) { return true } else { return false } }
        guard !maps.isEmpty else { return t }
        return Self.setting(t, maps[rng.below(maps.count)] + [.key(key)], to: value)
    }

    // MARK: paths into the tree

    enum Step: Equatable { case key(String), index(Int) }

    /// Every node's path, the root's ([]) first.
    static func paths(_ t: Tree, _ prefix: [Step] = []) -> [[Step]] {
        var out = [prefix]
        switch t {
        case .scalar: break
        case .list(let l): for (i, c) in l.enumerated() { out += paths(c, prefix + [.index(i)]) }
        case .map(let m): for (k, v) in m { out += paths(v, prefix + [.key(k)]) }
        }
        return out
    }

    static func node(_ t: Tree, _ path: [Step]) -> Tree? {
        guard let first = path.first else { return t }
        switch (t, first) {
        case (.list(let l), .index(let i)) where l.indices.contains(i): return node(l[i], Array(path.dropFirst()))
        case (.map(let m), .key(let k)): return m.first { $0.key == k }.flatMap { node($0.value, Array(path.dropFirst())) }
        default: return nil
        }
    }

    static func value(_ t: Tree, _ keys: [String]) -> Tree? { node(t, keys.map { .key($0) }) }

    static func setting(_ t: Tree, _ keys: [String], to v: Tree) -> Tree { setting(t, keys.map { .key($0) }, to: v) }

    /// `t` with the node at `path` set to `v` (a missing last key is added; `nil` removes).
    static func setting(_ t: Tree, _ path: [Step], to v: Tree?) -> Tree {
        guard let first = path.first else { return v ?? t }
        let rest = Array(path.dropFirst())
        let remove: Bool = { if case .none = v { return rest.isEmpty } else { return false } }()
        switch (t, first) {
        case (.list(var l), .index(let i)) where l.indices.contains(i):
            if remove { l.remove(at: i) } else { l[i] = setting(l[i], rest, to: v) }
            return .list(l)
        case (.map(var m), .key(let k)):
            if let i = m.firstIndex(where: { $0.key == k }) {
                if remove { m.remove(at: i) } else { m[i].value = setting(m[i].value, rest, to: v) }
            } else if rest.isEmpty, let v {
                m.append((k, v))
            }
            return .map(m)
        default:
            return t
        }
    }

    static func replacing(_ t: Tree, at path: [Step], with v: Tree) -> Tree { path.isEmpty ? t : setting(t, path, to: v) }
    static func removing(_ t: Tree, at path: [Step]) -> Tree { path.isEmpty ? t : setting(t, path, to: nil) }

    // MARK: text

    /// Block style at the top, flow style below: one line per top-level key and per workload.
    static func yaml(_ t: Tree) -> String {
        guard case .map(let m) = t else { return flow(t) + "\n" }
        var out = ""
        for (k, v) in m {
            if case .list(let l) = v, !l.isEmpty {
                out += "\(scalar(k, quoted: false)):\n" + l.map { "  - " + flow($0) + "\n" }.joined()
            } else {
                out += "\(scalar(k, quoted: false)): \(flow(v))\n"
            }
        }
        return out
    }

    static func flow(_ t: Tree) -> String {
        switch t {
        case .scalar(let s, let q): return scalar(s, quoted: q)
        case .list(let l): return "[" + l.map(flow).joined(separator: ", ") + "]"
        case .map(let m): return "{ " + m.map { "\(scalar($0.key, quoted: false)): \(flow($0.value))" }.joined(separator: ", ") + " }"
        }
    }

    /// Plain when that reads back as the same text, else double-quoted.
    static func scalar(_ s: String, quoted: Bool) -> String {
        let plain = !s.isEmpty && s.allSatisfy { $0.isLetter || $0.isNumber || "_.-+~".contains($0) } && s.first != "-"
        if plain && !quoted { return s }
        if s.isEmpty && !quoted { return "" }
        let escaped = s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return "\"\(escaped)\""
    }
}
