import Foundation
import KernelMM

/// Glibc has a KernelMM.PAGE_SIZE too; the modelled kernel's is meant.
let pageSize = KernelMM.PAGE_SIZE

/// Reads Configs/*.yaml into a `StressConfig`: the YAML is composed into a node tree that keeps
/// line and column of every key and value (`YAMLComposer`), then walked section by section, so
/// that every refusal says where it is, `file:line:column: error: ...`, the way a compiler does.
/// The first error stops the load: nothing runs on a config that is partly understood.
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
        let root = try YAMLComposer.compose(yaml, file: file)
        return try ConfigReader(file: file, baseDirectory: baseDirectory).document(root)
    }
}
