import CYaml

/// What a config's YAML may ask of the composer, checked on libyaml's event stream before Yams
/// builds a node tree.
///
/// Yams composes an alias as a shared reference to its anchored node, which is cheap, but it
/// then hashes every mapping key to look for duplicates, and hashing walks the key's whole tree:
/// a few hundred bytes of nested aliases used as keys stand for billions of nodes and take
/// minutes before any error. Here one pass over the events, in time and memory linear in the
/// text, refuses such input before Yams sees it:
/// - aliases may stand for at most `aliasBudget` nodes in all (each alias counts the nodes of
///   what it repeats, aliases inside that included);
/// - a mapping key must be a scalar (a name), not a list or mapping, nor an alias of one;
/// - a key given twice in one mapping is refused at its second occurrence.
/// Nesting depth is bounded by libyaml itself (1000 levels). Syntax errors are left to Yams,
/// which meets them at the same place and reports them with its own wording.
enum YAMLLimits {
    /// Nodes that all aliases of a config may stand for, together. A config that repeats a
    /// shared mix through an anchor stays far below it; an "alias bomb" does not.
    static let aliasBudget = 100_000

    /// The first limit `yaml` breaks, located at the offending alias or key.
    static func check(_ yaml: String, file: String) throws(ConfigError) {
        var text = yaml
        let found: Refusal? = text.withUTF8 { bytes in
            var scan = Scan()
            return scan.run(bytes)
        }
        if let r = found {
            throw ConfigError(file: file, line: r.line, column: r.column, message: "invalid YAML: " + r.message, hint: r.hint)
        }
    }

    struct Refusal {
        var line: Int
        var column: Int
        var message: String
        var hint: String?
    }

    /// The state of one pass: the collections open around the current event, and what each
    /// anchor stands for.
    private struct Scan {
        struct Frame {
            var isMapping: Bool
            var anchor: String?
            /// Nodes in this collection so far, itself and alias expansions included.
            var size = 1
            /// Mappings alternate key, value, key…
            var expectKey = true
            /// Keys seen in this mapping, with where each was first given.
            var keys: [String: (line: Int, column: Int)] = [:]
        }
        /// Nodes an anchor stands for, and its text when it is a scalar (an alias of it may be
        /// a key).
        struct Anchored { var size: Int; var scalar: String? }

        var stack: [Frame] = []
        var anchors: [String: Anchored] = [:]
        var aliasNodes = 0

        mutating func run(_ bytes: UnsafeBufferPointer<UInt8>) -> Refusal? {
            var parser = yaml_parser_t()
            guard yaml_parser_initialize(&parser) == 1 else { return nil }
            defer { yaml_parser_delete(&parser) }
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            yaml_parser_set_input_string(&parser, bytes.baseAddress, bytes.count)
            var event = yaml_event_t()
            while true {
                // A syntax error ends the scan: Yams reports it when it composes.
                guard yaml_parser_parse(&parser, &event) == 1 else { return nil }
                defer { yaml_event_delete(&event) }
                if event.type == YAML_STREAM_END_EVENT { return nil }
                if let refusal = step(&event) { return refusal }
            }
        }

        /// Handles one event; a refusal when it breaks a limit.
        mutating func step(_ e: inout yaml_event_t) -> Refusal? {
            let at = (line: Int(e.start_mark.line) + 1, column: Int(e.start_mark.column) + 1)
            switch e.type {
            case YAML_SCALAR_EVENT:
                let anchor = Self.text(e.data.scalar.anchor)
                // The text is needed only where it can be a key, now or through an alias.
                let needed = anchor != nil || (stack.last.map { $0.isMapping && $0.expectKey } ?? false)
                let value = needed ? String(decoding: UnsafeBufferPointer(start: e.data.scalar.value, count: e.data.scalar.length), as: UTF8.self) : nil
                return place(size: 1, scalar: value, anchor: anchor, at: at)
            case YAML_ALIAS_EVENT:
                // An undefined alias is Yams' error to report.
                guard let name = Self.text(e.data.alias.anchor), let target = anchors[name] else { return nil }
                aliasNodes += target.size
                if aliasNodes > YAMLLimits.aliasBudget {
                    return Refusal(line: at.line, column: at.column,
                                   message: "aliases stand for more than \(YAMLLimits.aliasBudget) nodes in all (this one repeats \(target.size) of \"\(name)\")",
                                   hint: "write repeated parts out, or repeat less: see YAML limits in docs/CONFIG.md")
                }
                if target.scalar == nil, let top = stack.last, top.isMapping, top.expectKey {
                    return Self.nonScalarKey(at, "an alias of a list or mapping")
                }
                return place(size: target.size, scalar: target.scalar, anchor: nil, at: at)
            case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                let isMapping = e.type == YAML_MAPPING_START_EVENT
                if let top = stack.last, top.isMapping, top.expectKey {
                    return Self.nonScalarKey(at, isMapping ? "a mapping" : "a list")
                }
                let anchor = Self.text(isMapping ? e.data.mapping_start.anchor : e.data.sequence_start.anchor)
                stack.append(Frame(isMapping: isMapping, anchor: anchor))
                return nil
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                guard let done = stack.popLast() else { return nil }
                return place(size: done.size, scalar: nil, anchor: done.anchor, at: at)
            default:
                return nil   // stream and document boundaries
            }
        }

        /// A finished node: counted into its parent, remembered under its anchor, and checked
        /// as a key when it is one. The parent is changed in place, so that its key table is
        /// never copied.
        mutating func place(size: Int, scalar: String?, anchor: String?, at: (line: Int, column: Int)) -> Refusal? {
            if let anchor { anchors[anchor] = Anchored(size: size, scalar: scalar) }
            guard !stack.isEmpty else { return nil }
            let top = stack.count - 1
            // Sizes stay below the text's node count plus the budget: no overflow.
            stack[top].size += size
            guard stack[top].isMapping else { return nil }
            defer { stack[top].expectKey.toggle() }
            guard stack[top].expectKey, let key = scalar else { return nil }
            if let first = stack[top].keys[key] {
                return Refusal(line: at.line, column: at.column, message: "duplicate key \"\(key)\"",
                               hint: "first given at line \(first.line), column \(first.column)")
            }
            stack[top].keys[key] = at
            return nil
        }

        static func nonScalarKey(_ at: (line: Int, column: Int), _ what: String) -> Refusal {
            Refusal(line: at.line, column: at.column, message: "a mapping key must be a name, got \(what)",
                    hint: "keys are plain names such as size: or workloads:")
        }

        static func text(_ p: UnsafeMutablePointer<yaml_char_t>?) -> String? {
            p.map { String(cString: $0) }
        }
    }
}
