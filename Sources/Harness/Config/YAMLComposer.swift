import CYaml

/// Builds a config's node tree from libyaml's events (libyaml as vendored by Yams), in one pass
/// whose time and memory are linear in the text, refusing on the way what no config needs and
/// what would make composing costly:
/// - aliases standing for more than `aliasBudget` nodes in all (each alias counts the nodes of
///   what it repeats, aliases inside that included): a few hundred bytes of nested aliases stand
///   for billions of nodes;
/// - mapping keys that are not scalars (lists, mappings, or aliases of them);
/// - a key given twice in one mapping, refused at its second occurrence.
/// Nesting depth is bounded by libyaml itself (1000 levels).
///
/// Why not Yams' composer: it hashes every mapping key, whole trees included, to find duplicates
/// (500 bytes of aliases used as keys took 16–41 s before any error), and resolves each key's
/// tag with regular expressions on the way, which was a third of validating a large config.
enum YAMLComposer {
    /// Nodes that all aliases of a config may stand for, together. A config that repeats a
    /// shared mix through an anchor stays far below it; an "alias bomb" does not.
    static let aliasBudget = 100_000

    /// The document's root, nil for an empty stream; errors are located in `file`.
    static func compose(_ yaml: String, file: String) throws(ConfigError) -> YNode? {
        var text = yaml
        let result: Result<YNode?, ConfigError> = text.withUTF8 { bytes in
            var c = Composer(file: file, bytes: bytes)
            return c.run()
        }
        return try result.get()
    }

    /// One pass: the collections open around the current event, and what each anchor names.
    private struct Composer {
        struct Frame {
            var mark: YMark
            var anchor: String?
            var isMapping: Bool
            var items: [YNode] = []
            var pairs: [(key: YNode, value: YNode)] = []
            /// A mapping's key waiting for its value.
            var key: YNode? = nil
            /// Mappings past a few keys find duplicates by table; small ones by looking.
            var keyTable: [String: YMark]? = nil
            /// Nodes in this collection so far, itself and alias expansions included.
            var size = 1
        }

        let file: String
        let bytes: UnsafeBufferPointer<UInt8>
        var stack: [Frame] = []
        var anchors: [String: (node: YNode, size: Int)] = [:]
        var aliasNodes = 0
        var root: YNode? = nil
        var documents = 0

        init(file: String, bytes: UnsafeBufferPointer<UInt8>) { self.file = file; self.bytes = bytes }

        mutating func run() -> Result<YNode?, ConfigError> {
            var parser = yaml_parser_t()
            guard yaml_parser_initialize(&parser) == 1 else { return .failure(error(YMark(line: 1, column: 1), "out of memory")) }
            defer { yaml_parser_delete(&parser) }
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            yaml_parser_set_input_string(&parser, bytes.baseAddress, bytes.count)
            var event = yaml_event_t()
            while true {
                guard yaml_parser_parse(&parser, &event) == 1 else { return .failure(syntaxError(parser)) }
                defer { yaml_event_delete(&event) }
                if event.type == YAML_STREAM_END_EVENT { return .success(root) }
                if let e = step(&event) { return .failure(e) }
            }
        }

        mutating func step(_ e: inout yaml_event_t) -> ConfigError? {
            let at = YMark(line: Int(e.start_mark.line) + 1, column: Int(e.start_mark.column) + 1)
            switch e.type {
            case YAML_DOCUMENT_START_EVENT:
                documents += 1
                return documents > 1 ? error(at, "a config is one YAML document, but another one starts here") : nil
            case YAML_SCALAR_EVENT:
                let s = e.data.scalar
                let value = String(decoding: UnsafeBufferPointer(start: s.value, count: s.length), as: UTF8.self)
                return place(.scalar(YScalar(string: value, isPlain: s.style == YAML_PLAIN_SCALAR_STYLE, mark: at)),
                             size: 1, anchor: Self.text(s.anchor), at: at)
            case YAML_ALIAS_EVENT:
                let name = Self.text(e.data.alias.anchor) ?? ""
                guard let target = anchors[name] else { return error(at, "undefined alias \"\(name)\"") }
                aliasNodes += target.size
                if aliasNodes > YAMLComposer.aliasBudget {
                    return error(at, "aliases stand for more than \(YAMLComposer.aliasBudget) nodes in all (this one repeats \(target.size) of \"\(name)\")",
                                 hint: "write repeated parts out, or repeat less: see YAML limits in docs/CONFIG.md")
                }
                if target.node.scalar == nil, expectsKey { return Self.nonScalarKey(self, at, "an alias of a list or mapping") }
                return place(target.node, size: target.size, anchor: nil, at: at)
            case YAML_SEQUENCE_START_EVENT:
                if expectsKey { return Self.nonScalarKey(self, at, "a list") }
                stack.append(Frame(mark: at, anchor: Self.text(e.data.sequence_start.anchor), isMapping: false))
                return nil
            case YAML_MAPPING_START_EVENT:
                if expectsKey { return Self.nonScalarKey(self, at, "a mapping") }
                stack.append(Frame(mark: at, anchor: Self.text(e.data.mapping_start.anchor), isMapping: true))
                return nil
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                guard let f = stack.popLast() else { return nil }
                let node: YNode = f.isMapping ? .mapping(YMapping(pairs: f.pairs, mark: f.mark)) : .sequence(YSequence(items: f.items, mark: f.mark))
                return place(node, size: f.size, anchor: f.anchor, at: f.mark)
            default:
                return nil   // stream start, document end
            }
        }

        /// The innermost open collection is a mapping waiting for a key.
        var expectsKey: Bool { stack.last.map { $0.isMapping && $0.key == nil } ?? false }

        /// A finished node: remembered under its anchor, counted into its parent and added to
        /// it, as a key (checked for duplicates) or a value. The parent is changed in place, so
        /// that its arrays and table are never copied.
        mutating func place(_ node: YNode, size: Int, anchor: String?, at: YMark) -> ConfigError? {
            if let anchor { anchors[anchor] = (node, size) }
            guard !stack.isEmpty else { root = node; return nil }
            let top = stack.count - 1
            // Sizes stay below the text's node count plus the budget: no overflow.
            stack[top].size += size
            guard stack[top].isMapping else { stack[top].items.append(node); return nil }
            guard let key = stack[top].key else {
                // Only scalars reach here as keys: collections were refused as they started.
                let name = node.scalar?.string ?? ""
                if let first = firstUse(of: name, in: top) {
                    return error(at, "duplicate key \"\(name)\"", hint: "first given at line \(first.line), column \(first.column)")
                }
                if stack[top].keyTable != nil { stack[top].keyTable![name] = at }
                stack[top].key = node
                return nil
            }
            stack[top].pairs.append((key, node))
            stack[top].key = nil
            if stack[top].keyTable == nil, stack[top].pairs.count == 8 {
                var table: [String: YMark] = [:]
                for (k, _) in stack[top].pairs { table[k.scalar?.string ?? ""] = k.mark }
                stack[top].keyTable = table
            }
            return nil
        }

        func firstUse(of name: String, in top: Int) -> YMark? {
            if let table = stack[top].keyTable { return table[name] }
            return stack[top].pairs.first { $0.key.scalar?.string == name }?.key.mark
        }

        func error(_ at: YMark, _ message: String, hint: String? = nil) -> ConfigError {
            ConfigError(file: file, line: at.line, column: at.column, message: "invalid YAML: " + message, hint: hint)
        }

        static func nonScalarKey(_ c: Composer, _ at: YMark, _ what: String) -> ConfigError {
            c.error(at, "a mapping key must be a name, got \(what)", hint: "keys are plain names such as size: or workloads:")
        }

        /// libyaml's own words for a syntax error, at its place, with its context as the hint.
        func syntaxError(_ p: yaml_parser_t) -> ConfigError {
            let problem = p.problem.map { String(cString: $0) } ?? "syntax error"
            if p.error == YAML_READER_ERROR {
                // Reader errors give a byte offset; lines and columns count scalars.
                let end = min(p.problem_offset, bytes.count)
                let before = String(decoding: UnsafeBufferPointer(rebasing: bytes[..<end]), as: UTF8.self).unicodeScalars
                let lines = before.split(separator: "\n", omittingEmptySubsequences: false)
                return error(YMark(line: lines.count, column: (lines.last?.count ?? 0) + 1), problem)
            }
            let at = YMark(line: Int(p.problem_mark.line) + 1, column: Int(p.problem_mark.column) + 1)
            let hint = p.context.map { "\(String(cString: $0)) at \(p.context_mark.line + 1):\(p.context_mark.column + 1)" }
            return error(at, problem, hint: hint)
        }

        static func text(_ p: UnsafeMutablePointer<yaml_char_t>?) -> String? {
            p.map { String(cString: $0) }
        }
    }
}
