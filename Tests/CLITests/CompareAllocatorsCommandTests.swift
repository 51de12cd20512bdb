import Testing
import Foundation

/// `numastress compare-allocators` end to end: every contender in its own process, the peers
/// that are installed preloaded, and each preloaded run really on that malloc.
@Suite(.serialized) struct CompareAllocatorsCommandTests {
    @Test("Prints slab and glibc rows, and one row per installed peer whose run used that malloc")
    func table() throws {
        let out = NSTemporaryDirectory() + "numastress-ca-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let r = try CLI.run(["compare-allocators", CLI.repoRoot + "/Configs/allocator-compare.yaml", "--runs", "1",
                             "--duration", "200ms", "--warmup", "50ms", "--results", out])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("== allocator-compare (") == true)
        #expect(lines.dropFirst().first?.hasPrefix("allocator") == true)
        #expect(lines.contains { $0.hasPrefix("slab") })
        let glibc = try #require(lines.first { $0.hasPrefix("glibc malloc") })
        #expect(glibc.contains(" 1.00 "))
        for peer in ["jemalloc", "tcmalloc", "mimalloc"] {
            if let row = lines.first(where: { $0.hasPrefix(peer) }) {
                #expect(row.hasSuffix(")") && row.contains("\(peer) (lib\(peer)"), "\(row)")
            } else {
                #expect(r.stderr.contains("\(peer) left out: install Debian's"))
            }
        }
    }

    @Test("run --allocator malloc records glibc as the malloc in use; a bad value is refused")
    func allocatorOverride() throws {
        let out = NSTemporaryDirectory() + "numastress-ao-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let r = try CLI.run(["run", CLI.repoRoot + "/Configs/allocator-compare.yaml", "--allocator", "malloc", "--duration", "100ms",
                             "--warmup", "0s", "--no-probe", "--quiet", "--results", out])
        #expect(r.status == 0, "\(r.stderr)")
        let dir = try FileManager.default.subpathsOfDirectory(atPath: out).first { $0.hasSuffix("result.json") }
        let json = try String(contentsOfFile: out + "/" + (dir ?? ""), encoding: .utf8)
        #expect(json.contains("\"malloc\" : \"glibc\""))
        // The slab caches saw no traffic: the objects went to malloc.
        #expect(!r.stdout.contains("node 0 partial"))
        let bad = try CLI.run(["run", CLI.repoRoot + "/Configs/allocator-compare.yaml", "--allocator", "slub"])
        #expect(bad.status == 64)   // a usage error: ArgumentParser checks the enum
        #expect(bad.stderr.contains("Please provide one of 'kernel' and 'malloc'"))
    }
}
