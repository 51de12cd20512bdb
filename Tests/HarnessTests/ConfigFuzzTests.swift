import Testing
import Foundation
@testable import Harness
import KernelMM

/// A seeded generator of mutated configs: every input either loads or is rejected with one
/// clear `file:line:column: error: …` line; none may crash the loader. CI runs a short pass;
/// `scripts/fuzz-config` runs 100 000 inputs (FUZZ_ITERATIONS).
@Suite struct ConfigFuzzTests {
    static let alphabet = Array(":{}[],\"'- \n\t#|&*!%@`0123456789abcdefghijklmnopqrstuvwxyzGFP_KMiB.")

    static func mutate(_ text: String, _ rng: inout SplitMix) -> String {
        var chars = Array(text)
        let edits = 1 + rng.below(4)
        for _ in 0..<edits where !chars.isEmpty {
            let at = rng.below(chars.count)
            switch rng.below(7) {
            case 0: chars.remove(at: at)
            case 1: chars.insert(alphabet[rng.below(alphabet.count)], at: at)
            case 2: chars[at] = alphabet[rng.below(alphabet.count)]
            case 3:   // a number made extreme
                let n = ["0", "-1", "99999999999999999999", "1.5", "4096", "0x10", "1e9", ""][rng.below(8)]
                chars.insert(contentsOf: n, at: at)
            case 4:   // a line duplicated (duplicate keys, repeated workloads)
                let lines = String(chars).split(separator: "\n", omittingEmptySubsequences: false)
                let i = rng.below(lines.count)
                var l = Array(lines)
                l.insert(lines[i], at: i)
                chars = Array(l.joined(separator: "\n"))
            case 5:   // a chunk cut out
                let len = min(chars.count - at, 1 + rng.below(40))
                chars.removeSubrange(at..<(at + len))
            default:  // a known word dropped somewhere
                let w = ["node:9", "GFP_ATOMIC|", "SLAB_POISON", "{ keep: }", "size: -4", "cpus: \"0-\"", "workloads: []", "!!binary", "&a *a"][rng.below(9)]
                chars.insert(contentsOf: w, at: at)
            }
        }
        return String(chars)
    }

    @Test("Mutated configs load or fail with one located message, never crash")
    func fuzz() throws {
        let dir = TestPaths.repoRoot + "/Configs"
        let seeds = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".yaml") }.sorted()
            .map { try String(contentsOfFile: dir + "/" + $0, encoding: .utf8) }
        let iterations = ProcessInfo.processInfo.environment["FUZZ_ITERATIONS"].flatMap(Int.init) ?? 1500
        var rng = SplitMix(seed: ProcessInfo.processInfo.environment["FUZZ_SEED"].flatMap(UInt64.init) ?? 2026)
        var accepted = 0, rejected = 0
        for i in 0..<iterations {
            let input = Self.mutate(seeds[i % seeds.count], &rng)
            do {
                _ = try ConfigLoader.parse(yaml: input, file: "fuzz.yaml", baseDirectory: dir)
                accepted += 1
            } catch let e as ConfigError {
                rejected += 1
                let lines = input.split(separator: "\n", omittingEmptySubsequences: false).count
                if !(e.line >= 1 && e.line <= lines + 1 && e.column >= 1) || e.message.isEmpty || e.description.contains("\n") {
                    Issue.record("input \(i): unclear error \(e.description)\n---\n\(input)")
                }
            } catch {
                Issue.record("input \(i): not a ConfigError: \(error)\n---\n\(input)")
            }
        }
        #expect(accepted + rejected == iterations)
        #expect(rejected > iterations / 4, "the mutations do reach the checks")
    }
}
