import Testing
import Foundation
import Harness

/// `numastress topology`: the shape as numactl shows it, stable JSON, one-line errors with status 2.
@Suite struct TopologyCommandTests {
    let fixtures = CLI.repoRoot + "/Tests/TopologyTests/Fixtures"

    @Test("--xml --json reports 2 nodes, 24 PUs, 18 GiB per node and the 10/20 matrix")
    func xmlJSON() throws {
        let r = try CLI.run(["topology", "--xml", fixtures + "/24em64t-2n6c2t-pci.xml", "--json"])
        #expect(r.status == 0)
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        #expect(json["schema"] as? String == "numastress.topology/1")
        let nodes = json["nodes"] as! [[String: Any]]
        #expect(nodes.count == 2)
        #expect((json["pus"] as! [Any]).count == 24)
        for n in nodes { #expect(((n["memory_bytes"] as! Double) / Double(1 << 30)).rounded() == 18) }
        let d = json["distances"] as! [String: Any]
        #expect(d["values"] as? [[Int]] == [[10, 20], [20, 10]])
        #expect(d["origin"] as? String == "hwloc")
        let mapping = json["mapping"] as! [String: Any]
        #expect((mapping["host_pus"] as! [Int]).count == 24)
    }

    @Test("--synthetic prints numactl --hardware lines and the mapping")
    func syntheticText() throws {
        let r = try CLI.run(["topology", "--synthetic", "pack:2 [numa] core:4 pu:1"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("available: 2 nodes (0-1)"))
        #expect(r.stdout.contains("node 0 cpus: 0 1 2 3"))
        #expect(r.stdout.contains("node 1 cpus: 4 5 6 7"))
        #expect(r.stdout.contains("distances: assumed"))
        #expect(r.stdout.contains("cpu mapping"))
    }

    @Test("Host text agrees with numactl --hardware when numactl is installed")
    func hostMatchesNumactl() throws {
        let r = try CLI.run(["topology"])
        #expect(r.status == 0)
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/numactl") else { return }
        let numactl = try ChildProcess.run("/usr/bin/numactl", ["--hardware"]).stdout
        // The numactl block comes first; its shape lines (not size/free, which move) must match.
        let shape: (Substring) -> [String] = { text in
            text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.contains(" size:") && !$0.contains(" free:") }
        }
        let mine = shape(r.stdout.components(separatedBy: "\n\n")[0][...])
        let theirs = shape(numactl[...])
        #expect(mine == theirs)
    }

    @Test("Bad input: one line on stderr, exit status 2", arguments: [
        ["topology", "--synthetic", "bogus:3"],
        ["topology", "--xml", "/nonexistent.xml"],
        ["topology", "--xml", "/etc/hostname"],
        ["topology", "--xml", "a.xml", "--synthetic", "pu:2"],
    ])
    func errors(args: [String]) throws {
        let r = try CLI.run(args)
        #expect(r.status == 2)
        #expect(r.stdout.isEmpty)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(r.stderr)")
        #expect(r.stderr.hasPrefix("numastress: error: "))
    }
}
