import Foundation
import KernelMM
import Topology
import Yams

/// KernelMM has its own `Node` (pg_data_t); here a node is always a YAML node.
typealias YNode = Yams.Node
/// Glibc has a KernelMM.PAGE_SIZE too; the modelled kernel's is meant.
let pageSize = KernelMM.PAGE_SIZE

/// Reads Configs/*.yaml into a `StressConfig`: the YAML is composed into a node tree (which
/// keeps line and column of every key and value), then walked section by section, so that every
/// refusal says where it is, `file:line:column: error: ...`, the way a compiler does. The first
/// error stops the load: nothing runs on a config that is partly understood.
public enum ConfigLoader {
    /// Loads a config file; relative paths inside it are relative to its folder.
    public static func load(path: String) throws -> StressConfig {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            let why = FileManager.default.fileExists(atPath: path) ? "cannot read it as UTF-8 text" : "no such file"
            throw ConfigError(file: path, line: 1, column: 1, message: "cannot read config: \(why)")
        }
        let base = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return try parse(yaml: text, file: path, baseDirectory: base)
    }

    /// Parses config text; `file` names it in errors, `baseDirectory` anchors relative paths.
    public static func parse(yaml: String, file: String, baseDirectory: String) throws -> StressConfig {
        // Before Yams composes: alias bombs and non-scalar keys would cost it minutes.
        try YAMLLimits.check(yaml, file: file)
        let root: YNode?
        do { root = try Yams.compose(yaml: yaml) } catch let e as YamlError {
            throw syntaxError(e, yaml: yaml, file: file)
        } catch {
            throw ConfigError(file: file, line: 1, column: 1, message: "invalid YAML: \(error)")
        }
        return try ConfigReader(file: file, baseDirectory: baseDirectory).document(root)
    }

    /// Yams' marks are already 1-based (it adds 1 to libyaml's 0-based marks).
    static func syntaxError(_ e: YamlError, yaml: String, file: String) -> ConfigError {
        func at(_ m: (line: Int, column: Int), _ message: String, _ context: YamlError.Context?) -> ConfigError {
            ConfigError(file: file, line: m.line, column: m.column, message: "invalid YAML: \(message)",
                        hint: context.map { "\($0.text) at \($0.mark.line):\($0.mark.column)" })
        }
        switch e {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            return at((mark.line, mark.column), problem, context)
        case let .duplicatedKeysInMapping(duplicates, context):
            let keys = duplicates.map { "\"\($0)\"" }.joined(separator: ", ")
            return at((context.mark.line, context.mark.column), "duplicate key \(keys)", nil)
        case let .reader(problem, offset, _, _):
            // Yams gives the offset in Characters; columns count Unicode scalars, as libyaml's do.
            let end = yaml.index(yaml.startIndex, offsetBy: offset ?? 0, limitedBy: yaml.endIndex) ?? yaml.endIndex
            let lines = yaml[..<end].unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false)
            return at((lines.count, (lines.last?.count ?? 0) + 1), problem, nil)
        default:
            return ConfigError(file: file, line: 1, column: 1, message: "invalid YAML: \(e)")
        }
    }
}
