import KernelMM

/// `expect:` — a list of lines such as `atomic.sleeps == 0` or
/// `mutex.locks.zone.sleeps > spin.locks.zone.sleeps`, each parsed and its figures checked
/// against `FigureCatalog` for this config (and its variants), so a misspelt figure is a
/// config error at its line and column, not a silent pass.
extension ConfigReader {
    func expectations(_ n: YNode, config: StressConfig) throws -> [Expectation] {
        let items = try sequence(n, "expect", expected: "a list of expectations such as \"atomic.sleeps == 0\"")
        guard !items.isEmpty else { throw fail(n, "expect: an empty list checks nothing", hint: "remove it or add expectations") }
        var known = Set<String>()
        for c in [config] + config.variants.map(\.config) {
            known.formUnion(FigureCatalog.names(.init(nodes: c.nodeCount, caches: c.caches.map(\.name))))
        }
        var parser = ExpectationParser(known: known, variants: config.variants.map(\.name))
        return try items.enumerated().map { i, item in
            let text = try string(item, "expect[\(i)]")
            do {
                return try parser.parse(text, line: item.mark?.line ?? 1)
            } catch let e as ExpectationParser.Failure {
                // The column of the failing character, when the line is written plainly on one line.
                let m = item.mark
                let quoted = item.scalar.map { $0.style == .singleQuoted || $0.style == .doubleQuoted } ?? false
                throw ConfigError(file: file, line: m?.line ?? 1, column: (m?.column ?? 1) + e.offset + (quoted ? 1 : 0),
                                  message: "expect[\(i)]: \(e.message)", hint: e.hint)
            }
        }
    }
}
