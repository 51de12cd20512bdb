import ArgumentParser
import Foundation
import Harness

/// `numastress figures [CONFIG]`: what an `expect:` line may name — the families, or with a
/// config every concrete name it has.
struct FiguresCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "figures",
        abstract: "List the figures expect: lines may name (every concrete name for a config).",
        discussion: CLIConventions.exitStatus("0 listed; 2 the config is not valid"))

    @Argument(help: "A config: list its concrete figure names instead of the families.")
    var config: String?

    func run() throws {
        guard let config else { print(FigureCatalog.markdown, terminator: ""); return }
        let c: StressConfig
        do { c = try ConfigLoader.load(path: config) } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(2)
        }
        var names = Set<String>()
        for v in [c] + c.variants.map(\.config) {
            names.formUnion(FigureCatalog.names(.init(nodes: v.nodeCount, caches: v.caches.map(\.name))))
        }
        for n in names.sorted() { print(n) }
        if !c.variants.isEmpty { print("(prefix with a variant to compare variants: \(c.variants.map(\.name).joined(separator: ", ")))") }
    }
}
