/// `sweep: { KEY.PATH: [v1, v2], KEY.PATH: v }`: the grid `numastress sweep` runs when the
/// command line gives no `--grid`. The key paths are those of `vary:`; unlike a contrast a grid
/// axis may hold one value (a setting every point shares). Only the shape is read here: each
/// point is validated as a whole config when the sweep expands the grid, and an error there
/// points at its value under `sweep:`.
extension ConfigReader {
    func sweepAxes(_ n: YNode) throws -> [SweepAxis] {
        let example = "e.g. sweep: { locks.zone: [spin, mutex], run.duration: [1s, 2s] }"
        guard case .mapping(let map) = n, !map.pairs.isEmpty else {
            throw fail(n, "sweep: expected a mapping of key paths to lists of values", hint: example)
        }
        var axes: [SweepAxis] = []
        for (k, v) in map {
            let path = try scalar(k, "sweep", expected: "a key path such as locks.zone")
            if let why = SweepAxis.refusal(path) { throw fail(k, "sweep: \(why)", hint: example) }
            let items: [YNode]
            switch v {
            case .sequence(let s): items = Array(s.items)
            case .scalar: items = [v]
            case .mapping: throw fail(v, "sweep.\(path): expected a list of values", hint: example)
            }
            guard !items.isEmpty else { throw fail(v, "sweep.\(path): needs at least one value", hint: example) }
            var values: [SweepValue] = []
            for item in items {
                let text = try scalar(item, "sweep.\(path)", expected: "a value such as spin or 1s")
                guard !values.contains(where: { $0.text == text }) else { throw fail(item, "sweep.\(path): \"\(text)\" is listed twice") }
                values.append(SweepValue(text: text, line: item.mark.line, column: item.mark.column))
            }
            axes.append(SweepAxis(path: path, values: values))
        }
        return axes
    }
}
