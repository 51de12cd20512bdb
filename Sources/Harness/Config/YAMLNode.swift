/// A config's YAML as the reader walks it: scalars, mappings and lists, each with the line and
/// column it starts at. Tags are not kept (a config has no use for them), and an alias is the
/// node it names, shared, not copied. Built by `YAMLComposer`.
indirect enum YNode: Sendable {
    case scalar(YScalar)
    case mapping(YMapping)
    case sequence(YSequence)

    var mark: YMark {
        switch self {
        case .scalar(let s): return s.mark
        case .mapping(let m): return m.mark
        case .sequence(let s): return s.mark
        }
    }

    var scalar: YScalar? { if case .scalar(let s) = self { return s } else { return nil } }
}

/// 1-based, as editors and compilers count; columns count Unicode scalars, as libyaml does.
struct YMark: Equatable, Sendable {
    var line: Int
    var column: Int
}

struct YScalar: Sendable {
    var string: String
    /// Written without quotes or block indicators: only such a scalar can mean null.
    var isPlain: Bool
    var mark: YMark
}

struct YMapping: Sequence, Sendable {
    // Spelled out: inferring them from makeIterator() is a circular reference in a clean build.
    typealias Element = (key: YNode, value: YNode)
    typealias Iterator = IndexingIterator<[(key: YNode, value: YNode)]>
    var pairs: [(key: YNode, value: YNode)]
    var mark: YMark
    func makeIterator() -> IndexingIterator<[(key: YNode, value: YNode)]> { pairs.makeIterator() }
}

struct YSequence: RandomAccessCollection, Sendable {
    typealias Element = YNode
    typealias Index = Int
    var items: [YNode]
    var mark: YMark
    var startIndex: Int { items.startIndex }
    var endIndex: Int { items.endIndex }
    subscript(i: Int) -> YNode { items[i] }
}
