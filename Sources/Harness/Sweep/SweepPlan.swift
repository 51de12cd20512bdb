import Foundation

/// A grid over one config, every point validated: each point's document is the config's with
/// the point's values put at their key paths (the code `vary:` uses) and read again as a whole
/// config, so a point that could not run is found before the first one starts. Whatever a plan
/// accepts, a task runs: a Slurm task rebuilds its point's config the same way from sweep.json.
public struct SweepPlan: Sendable {
    /// The config file as given, its text (kept in sweep.json: every task runs the same text)
    /// and its name.
    public var configFile: String
    public var configText: String
    public var configName: String
    public var axes: [SweepAxis]
    public var points: [SweepPoint]
    /// The validated config of each point, by point index.
    public var configs: [StressConfig]
    public var repetitions: Int

    public var taskCount: Int { points.count * repetitions }

    /// Loads `file`, takes the grid from `axes` (or the config's `sweep:` when empty), and
    /// validates every point. Every bad point is named in the one error thrown.
    public static func make(file: String, axes cliAxes: [SweepAxis], repetitions: Int) throws -> SweepPlan {
        let text: String
        do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
            throw SweepError("\(file): cannot read the config (\(FileManager.default.fileExists(atPath: file) ? "not UTF-8 text" : "no such file"))")
        }
        return try make(file: file, text: text, axes: cliAxes, repetitions: repetitions)
    }

    public static func make(file: String, text: String, axes cliAxes: [SweepAxis], repetitions: Int) throws -> SweepPlan {
        guard repetitions >= 1 else { throw SweepError("--repeat: expected at least 1, got \(repetitions)") }
        let source = try Source(file: file, text: text)
        let base = try source.reader.document(source.root)
        let axes = cliAxes.isEmpty ? base.sweep : cliAxes
        guard !axes.isEmpty else {
            throw SweepError("\(file): no grid: give --grid KEY=V1,V2,… or a sweep: section in the config")
        }
        let points = SweepGrid.expand(axes)
        var configs: [StressConfig] = [], bad: [String] = []
        for p in points {
            do { configs.append(try source.config(p, axes: axes)) } catch {
                bad.append("\(p.label): \(error)")
            }
        }
        guard bad.isEmpty else {
            throw SweepError("\(bad.count) of \(points.count) sweep points cannot run (nothing ran):\n  " + bad.joined(separator: "\n  "))
        }
        return SweepPlan(configFile: file, configText: text, configName: base.name, axes: axes, points: points,
                         configs: configs, repetitions: repetitions)
    }

    /// One point's config, rebuilt from the config text (what a task does).
    static func config(file: String, text: String, axes: [SweepAxis], point: SweepPoint) throws -> StressConfig {
        let source = try Source(file: file, text: text)
        do { return try source.config(point, axes: axes) } catch {
            throw SweepError("\(point.label): \(error)")
        }
    }

    /// The composed config and a reader for it.
    struct Source {
        var root: YNode?
        var reader: ConfigReader

        init(file: String, text: String) throws {
            root = try YAMLComposer.compose(text, file: file)
            reader = ConfigReader(file: file, baseDirectory: URL(fileURLWithPath: file).deletingLastPathComponent().path)
        }

        func config(_ p: SweepPoint, axes: [SweepAxis]) throws -> StressConfig {
            guard var doc = root else { return try reader.document(root) }
            for (axis, k) in zip(axes, p.choice) {
                let v = axis.values[k]
                // A value from `sweep:` is placed at its own line; one from --grid at the
                // setting it replaces, so an error points into the file either way.
                let at = v.line.map { YMark(line: $0, column: v.column ?? 1) } ?? Self.lookup(axis.path, in: doc)?.mark ?? doc.mark
                let node = try Self.value(v.text, at: at, file: reader.file)
                doc = try reader.set(node, at: axis.path, in: doc, keyNode: node, section: "sweep")
            }
            return try reader.document(doc)
        }

        /// The value as YAML (so `{ keep: 64 }` is a mapping), every node marked at `at`.
        static func value(_ text: String, at: YMark, file: String) throws -> YNode {
            let first = text.first
            guard first == "[" || first == "{" || first == "\"" || first == "'" else {
                return .scalar(YScalar(string: text, isPlain: true, mark: at))
            }
            guard let n = try YAMLComposer.compose(text, file: file) else { return .scalar(YScalar(string: "", isPlain: true, mark: at)) }
            return remark(n, at)
        }

        static func remark(_ n: YNode, _ m: YMark) -> YNode {
            switch n {
            case .scalar(var s): s.mark = m; return .scalar(s)
            case .mapping(var map): map.mark = m; map.pairs = map.pairs.map { (remark($0.key, m), remark($0.value, m)) }; return .mapping(map)
            case .sequence(var seq): seq.mark = m; seq.items = seq.items.map { remark($0, m) }; return .sequence(seq)
            }
        }

        /// The node at a key path (mappings by key, lists by an element's name), if present.
        static func lookup(_ path: String, in doc: YNode) -> YNode? {
            var node = doc
            for seg in path.split(separator: ".").map(String.init) {
                switch node {
                case .mapping(let m):
                    guard let v = m.pairs.first(where: { $0.key.scalar?.string == seg })?.value else { return nil }
                    node = v
                case .sequence(let s):
                    guard let v = s.items.first(where: { item in
                        guard case .mapping(let m) = item else { return false }
                        return m.pairs.contains { $0.key.scalar?.string == "name" && $0.value.scalar?.string == seg }
                    }) else { return nil }
                    node = v
                default: return nil
                }
            }
            return node
        }
    }
}
