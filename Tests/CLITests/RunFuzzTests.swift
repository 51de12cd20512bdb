import Foundation
import Harness
import KernelMM
import Testing
import Topology
import Yams

/// Fuzzing `run`, not only the loader: whatever `validate` accepts, `run` must run. Mutants of
/// Configs/*.yaml and Configs/regression/*.yaml (ConfigMutator) that the loader accepts are run
/// for 200 operations a CPU by the built `numastress` (without the access-cost probe, except
/// where `remote_cost: inject` spends its figures), each in its own process under a time
/// limit, so that a trap (exit 132), a refusal at start (exit 2) or a hang is caught and
/// reported with the config that caused it.
///
/// CI runs a short pass; `scripts/fuzz-config` a long one. Environment: FUZZ_RUN_CONFIGS
/// (configs to run, default 20), FUZZ_SEED, FUZZ_RUN_TIMEOUT (seconds per run, default 30),
/// FUZZ_RUN_OUT (a folder that keeps each failing config), FUZZ_RUN_MAX_CPUS (mutants whose
/// machine has more logical CPUs are left out, default 8: a debug build spends seconds per CPU
/// merging latency histograms), NUMASTRESS_BIN (the binary to run, default the one built with
/// the tests).
@Suite struct RunFuzzTests {
    typealias Tree = ConfigMutator.Tree

    /// What a mutant needs to be a short run, whatever the mutation did: 200 operations a CPU
    /// and no warm-up (duration is then ignored), one or two repetitions, OOM waits of at most
    /// 10 ms (a count-bound run has no deadline, and every failing blocking allocation would
    /// wait out oom_wait), and XML paths made absolute, as the mutant is written elsewhere.
    static func shortened(_ tree: Tree, configDir: String) -> Tree {
        var t = tree
        var run: [(key: String, value: Tree)] = []
        if case .map(let m)? = ConfigMutator.value(t, ["run"]) { run = m }
        run.removeAll { ["duration", "warmup", "operations"].contains($0.key) }
        run.append(("operations", .scalar("200", quoted: false)))
        run.append(("warmup", .scalar("0s", quoted: false)))
        if let i = run.firstIndex(where: { $0.key == "repetitions" }) {
            run[i].value = .scalar(["1", "2"].contains(scalarText(run[i].value)) ? scalarText(run[i].value)! : "1", quoted: false)
        }
        t = ConfigMutator.setting(t, ["run"], to: .map(run))
        if let wait = ConfigMutator.value(t, ["memory", "oom_wait"]).flatMap(scalarText),
           (try? Units.duration(wait)).map({ $0 > 10_000_000 }) ?? false {
            t = ConfigMutator.setting(t, ["memory", "oom_wait"], to: .scalar("10ms", quoted: false))
        } else if ConfigMutator.value(t, ["memory"]) != nil, ConfigMutator.value(t, ["memory", "oom_wait"]) == nil {
            t = ConfigMutator.setting(t, ["memory", "oom_wait"], to: .scalar("10ms", quoted: false))
        }
        if let xml = ConfigMutator.value(t, ["topology", "xml"]).flatMap(scalarText), !xml.hasPrefix("/") {
            let full = URL(fileURLWithPath: configDir).appendingPathComponent(xml).standardizedFileURL.path
            t = ConfigMutator.setting(t, ["topology", "xml"], to: .scalar(full, quoted: true))
        }
        return t
    }

    static func scalarText(_ t: Tree) -> String? { if case .scalar(let s, _) = t { return s } else { return nil } }

    /// Configs to start from, with their folders.
    static func seeds() throws -> [(dir: String, tree: Tree)] {
        try ["Configs", "Configs/regression"].flatMap { sub -> [(dir: String, tree: Tree)] in
            let dir = CLI.repoRoot + "/" + sub
            return try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".yaml") }.sorted().map { f in
                let node = try Yams.compose(yaml: String(contentsOfFile: dir + "/" + f, encoding: .utf8))
                return (dir, Tree(node!))
            }
        }
    }

    /// How a run ended, in words, when it did not end well.
    static func verdict(_ status: Int32, timeout: Int) -> String? {
        switch status {
        // 4: an expect: line of the mutated config no longer holds, which is the point of expect:.
        case 0, 4: return nil
        case 124, 137: return "hung: killed after \(timeout) s"
        case 1: return "exit 1: an invariant check failed or the run did not complete"
        case 2: return "exit 2: run refused a config that validate accepted"
        case 3: return "exit 3: the results were not written"
        case 128...: return "crashed: signal \(status - 128)"
        default: return "exit \(status)"
        }
    }

    @Test("Mutated configs that validate accepts run to the end: no crash, no refusal, no hang")
    func fuzzRun() throws {
        let env = ProcessInfo.processInfo.environment
        let wanted = env["FUZZ_RUN_CONFIGS"].flatMap(Int.init) ?? 20
        let timeout = env["FUZZ_RUN_TIMEOUT"].flatMap(Int.init) ?? 30
        let seed = env["FUZZ_SEED"].flatMap(UInt64.init) ?? 2026
        // Mutants that would map more than this are left out: the fuzzer must not fill the host.
        let memoryCap = 512 << 20
        let maxCPUs = env["FUZZ_RUN_MAX_CPUS"].flatMap(Int.init) ?? 8
        let binary = env["NUMASTRESS_BIN"] ?? CLI.binary.path
        let seeds = try Self.seeds()
        var mutator = ConfigMutator(rng: SplitMix(seed: seed))
        let work = NSTemporaryDirectory() + "numastress-run-fuzz-\(getpid())"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }

        var ran = 0, refused = 0, skipped = 0, failed = 0, tries = 0
        while ran < wanted && tries < wanted * 40 {
            tries += 1
            let start = seeds[mutator.rng.below(seeds.count)]
            let mutant = Self.shortened(mutator.mutate(start.tree, donors: seeds.map(\.tree)), configDir: start.dir)
            let text = ConfigMutator.yaml(mutant)
            let config: StressConfig
            do { config = try ConfigLoader.parse(yaml: text, file: "fuzz.yaml", baseDirectory: start.dir) } catch {
                refused += 1
                continue
            }
            let machine = try? TopologyLoader.load(config.topology.source, distances: config.topology.distances)
            let nodes = machine?.nodes.count ?? 1
            guard config.memory.perNodeBytes <= memoryCap / max(nodes, 1), (machine?.pus.count ?? 0) <= maxCPUs else {
                skipped += 1
                continue
            }
            ran += 1
            let file = work + "/fuzz-\(tries).yaml"
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            // The access-cost probe only for `remote_cost: inject`, which spends what it measures.
            let probe = config.remoteCost == .inject ? [] : ["--no-probe"]
            func run(limit: Int) throws -> ChildProcess.Output {
                defer { try? FileManager.default.removeItem(atPath: work + "/results") }
                return try ChildProcess.run("/usr/bin/timeout", ["-k", "5", "\(limit)", binary, "run", file, "--quiet"] + probe
                                                                + ["--results", work + "/results"])
            }
            var out = try run(limit: timeout)
            // A loaded machine can make a slow run look hung: a hung one stays hung with 4× the time.
            if out.status == 124 { out = try run(limit: timeout * 4) }
            guard let why = Self.verdict(out.status, timeout: out.status == 124 ? timeout * 4 : timeout) else { continue }
            failed += 1
            if let keep = env["FUZZ_RUN_OUT"] {
                try? FileManager.default.createDirectory(atPath: keep, withIntermediateDirectories: true)
                try? text.write(toFile: keep + "/seed\(seed)-\(tries).yaml", atomically: true, encoding: .utf8)
            }
            Issue.record("run fuzz (seed \(seed), mutant \(tries)): \(why)\n--- stderr (end) ---\n\(String(out.stderr.suffix(1500)))\n--- config ---\n\(text)")
        }
        print("run fuzz, seed \(seed): \(ran) configs run, \(failed) failed; \(refused) refused by validation, \(skipped) left out as too large")
        #expect(ran == wanted, "the mutants do reach the runner")
    }
}
