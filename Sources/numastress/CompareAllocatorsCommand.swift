import ArgumentParser
import Foundation
import Harness

struct CompareAllocatorsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare-allocators",
        abstract: "Run one config's object traffic through the slab layer, glibc malloc, and preloaded jemalloc, tcmalloc and mimalloc; print the ratio table.",
        discussion: "Each contender runs in its own process (LD_PRELOAD for the peers), --runs times, interleaved; the median is reported. scripts/compare-allocators installs the peers first. The tables are saved as comparison.md beside the runs. " + CLIConventions.exitStatus("0 compared; 2 a config is not valid, a run failed, or a preload did not take"))

    @Argument(help: "Configs to compare on, one table each; this package's Configs/allocator-compare.yaml and Configs/allocator-compare-remote.yaml when left out.")
    var configs: [String] = []

    @Option(help: "Runs per contender (median reported).")
    var runs = 3

    @Option(help: "Override run.duration of each run.")
    var duration: String?

    @Option(help: "Override run.warmup of each run.")
    var warmup: String?

    @Option(help: "Folder that receives each run's Results folder.")
    var results = "Results/compare-allocators"

    func run() async throws {
        guard runs > 0 else { throw failInput("--runs must be positive") }
        let configs = self.configs.isEmpty
            ? ["Configs/allocator-compare.yaml", "Configs/allocator-compare-remote.yaml"].map(PackagePaths.resolve) : self.configs
        var names: [String] = []
        for config in configs {
            do { names.append(try ConfigLoader.load(path: config).name) } catch {
                FileHandle.standardError.write(Data("\(error)\n".utf8))
                throw ExitCode(2)
            }
        }
        let (contenders, missing) = AllocatorComparison.contenders()
        for m in missing {
            FileHandle.standardError.write(Data("compare-allocators: \(m.label) left out: install Debian's \(m.package) (scripts/compare-allocators does)\n".utf8))
        }
        let stamp = ResultWriter.timestamp()
        var failures: [String] = []
        var saved = ""
        for (config, name) in zip(configs, names) {
            var measured: [[RunResult]] = Array(repeating: [], count: contenders.count)
            // Interleaved (A B C …, A B C …) so drift on the machine hits every contender alike.
            for run in 0..<runs {
                for (i, c) in contenders.enumerated() {
                    FileHandle.standardError.write(Data("\(name) run \(run + 1)/\(runs): \(c.label)\n".utf8))
                    let root = "\(results)/\(stamp)/\(name)/\(c.folder)-\(run + 1)"
                    measured[i].append(try child(c, config: config, root: root))
                }
            }
            var rows: [AllocatorComparison.Row] = []
            for (i, c) in contenders.enumerated() {
                let f = measured[i].map(AllocatorComparison.figures(of:))
                rows.append(.init(contender: c, mallocSeen: f.first?.malloc ?? "unknown", opsPerSec: f.map(\.opsPerSec),
                                  cpus: f.first?.cpus ?? 1, p99NS: f.map(\.p99NS).sorted()[f.count / 2]))
            }
            let table = "== \(name) (\(config)), median of \(runs) run(s)\n" + AllocatorComparison.table(rows)
            print(table)
            saved += table + "\n"
            failures += rows.filter { !AllocatorComparison.preloadTook($0) }
                .map { "\($0.contender.label): LD_PRELOAD=\($0.contender.preload ?? "") did not take (the run used \($0.mallocSeen))" }
        }
        // The tables are kept beside the runs they were made from.
        try? ("```\n" + saved + "```\n").write(toFile: "\(results)/\(stamp)/comparison.md", atomically: true, encoding: .utf8)
        print("runs and comparison.md: \(results)/\(stamp)/")
        if let first = failures.first { throw failInput(first) }
    }

    /// One run of `numastress run` in a fresh process, with the contender's malloc preloaded.
    func child(_ c: AllocatorComparison.Contender, config: String, root: String) throws -> RunResult {
        var args = ["run", config, "--allocator", c.allocator, "--quiet", "--no-probe", "--results", root] + c.arguments
        if let duration { args += ["--duration", duration] }
        if let warmup { args += ["--warmup", warmup] }
        var env = ProcessInfo.processInfo.environment
        env["LD_PRELOAD"] = c.preload
        let out = try ChildProcess.run(URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path, args, environment: env)
        guard AllocatorComparison.usable(c, exitStatus: out.status) else {
            throw failInput("\(c.label): numastress run exited with \(out.status): \(out.stderr.split(separator: "\n").last ?? "")")
        }
        guard let sub = try FileManager.default.subpathsOfDirectory(atPath: root).first(where: { $0.hasSuffix("result.json") }) else {
            throw failInput("\(c.label): no result.json under \(root)")
        }
        return try ResultWriter.read("\(root)/\(sub)")
    }
}

