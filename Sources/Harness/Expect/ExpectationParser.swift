/// Reads the text of one `expect:` line. Grammar (usual precedence, `-` needs spaces around it
/// because cache names such as `kmalloc-64` contain one):
///
///     line    := sum ("==" | "!=" | "<=" | ">=" | "<" | ">") sum
///     sum     := product (("+" | "-") product)*
///     product := factor (("*" | "/") factor)*
///     factor  := NUMBER | FIGURE | "(" sum ")"
///
/// Figures are checked against `FigureCatalog` for the config, with a variant prefix allowed
/// when the config has `vary:`. Errors carry the character offset in the line.
struct ExpectationParser {
    struct Failure: Error { var offset: Int; var message: String; var hint: String? }

    let known: Set<String>
    let variants: [String]
    private var chars: [Character] = []
    private var at = 0

    init(known: Set<String>, variants: [String]) { self.known = known; self.variants = variants }

    mutating func parse(_ text: String, line: Int) throws -> Expectation {
        chars = Array(text)
        at = 0
        let lhs = try sum()
        skipSpace()
        let start = at
        guard let cmp = comparison() else {
            throw Failure(offset: start, message: "expected a comparison (==, !=, <, <=, >, >=) here",
                          hint: "an expectation compares two sides, e.g. atomic.sleeps == 0")
        }
        let rhs = try sum()
        skipSpace()
        guard at == chars.count else { throw Failure(offset: at, message: "unexpected \"\(String(chars[at...]))\" after the expectation") }
        return Expectation(text: text, line: line, lhs: lhs, comparison: cmp, rhs: rhs)
    }

    private mutating func skipSpace() { while at < chars.count && chars[at].isWhitespace { at += 1 } }

    private mutating func comparison() -> Expectation.Comparison? {
        for c in Expectation.Comparison.allCases {   // two-character operators are listed first
            let op = Array(c.rawValue)
            if at + op.count <= chars.count && Array(chars[at..<at + op.count]) == op { at += op.count; return c }
        }
        return nil
    }

    private mutating func sum() throws -> Expectation.Expr {
        var e = try product()
        while true {
            skipSpace()
            guard at < chars.count, chars[at] == "+" || chars[at] == "-" else { return e }
            let op = chars[at]; at += 1
            e = .binary(op, e, try product())
        }
    }

    private mutating func product() throws -> Expectation.Expr {
        var e = try factor()
        while true {
            skipSpace()
            guard at < chars.count, chars[at] == "*" || chars[at] == "/" else { return e }
            let op = chars[at]; at += 1
            e = .binary(op, e, try factor())
        }
    }

    private mutating func factor() throws -> Expectation.Expr {
        skipSpace()
        guard at < chars.count else { throw Failure(offset: at, message: "expected a number or a figure at the end") }
        let start = at
        if chars[at] == "(" {
            at += 1
            let e = try sum()
            skipSpace()
            guard at < chars.count, chars[at] == ")" else { throw Failure(offset: at, message: "expected )") }
            at += 1
            return e
        }
        if chars[at].isNumber || chars[at] == "." {
            while at < chars.count && (chars[at].isNumber || chars[at] == "." || chars[at] == "e" || chars[at] == "_") { at += 1 }
            let text = String(chars[start..<at]).replacingOccurrences(of: "_", with: "")
            guard let x = Double(text), x.isFinite else { throw Failure(offset: start, message: "\"\(text)\" is not a number") }
            return .number(x)
        }
        guard chars[at].isLetter else { throw Failure(offset: at, message: "expected a number or a figure, got \"\(chars[at])\"") }
        while at < chars.count && Self.figureChar(chars[at], next: at + 1 < chars.count ? chars[at + 1] : nil) { at += 1 }
        return try figure(String(chars[start..<at]), offset: start)
    }

    /// Letters, digits, `_ . [ ]`, and `-` when a letter or digit follows (kmalloc-64).
    static func figureChar(_ c: Character, next: Character?) -> Bool {
        if c.isLetter || c.isNumber || "_.[]".contains(c) { return true }
        return c == "-" && (next?.isLetter == true || next?.isNumber == true)
    }

    private func figure(_ path: String, offset: Int) throws -> Expectation.Expr {
        if let dot = path.firstIndex(of: "."), variants.contains(String(path[..<dot])) {
            let rest = String(path[path.index(after: dot)...])
            guard known.contains(rest) else { throw unknown(rest, offset: offset) }
            return .figure(variant: String(path[..<dot]), name: rest)
        }
        guard known.contains(path) else { throw unknown(path, offset: offset) }
        return .figure(variant: nil, name: path)
    }

    private func unknown(_ name: String, offset: Int) -> Failure {
        // Suggest figures that share the longest leading part with what was written.
        let parts = name.split(separator: ".")
        var suggestions: [String] = []
        for n in stride(from: parts.count - 1, through: 1, by: -1) {
            let prefix = parts.prefix(n).joined(separator: ".") + "."
            suggestions = known.filter { $0.hasPrefix(prefix) }.sorted()
            if !suggestions.isEmpty { break }
        }
        let variantHint = variants.isEmpty ? "" : "; a figure may start with a variant: " + variants.joined(separator: ", ")
        let hint = (suggestions.isEmpty ? "the figures are listed in docs/CONFIG.md (Figures)"
                    : "known here: " + suggestions.prefix(12).joined(separator: ", ") + (suggestions.count > 12 ? ", …" : "")) + variantHint
        return Failure(offset: offset, message: "unknown figure \"\(name)\"", hint: hint)
    }
}
