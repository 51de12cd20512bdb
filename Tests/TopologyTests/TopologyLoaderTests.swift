import Testing
import CNuma
import CArch
@testable import Topology

/// Loading machine shapes from each source. The expected figures are those of
/// `lstopo-no-graphics -i FILE --distances` for the same file.
@Suite struct TopologyLoaderTests {
    @Test("XML: 2-socket Intel has 2 nodes, 24 PUs, 18 GiB each, SLIT 10/20")
    func twoNodeXML() throws {
        let m = try TopologyLoader.load(.xml(path: Fixture.twoNode))
        #expect(m.nodes.count == 2)
        #expect(m.pus.count == 24)
        #expect(m.packages.count == 2)
        #expect(m.cores.count == 12)
        for n in m.nodes {
            #expect((Double(n.memoryBytes) / Double(1 << 30)).rounded() == 18)
            #expect(n.pus.count == 12)
        }
        #expect(m.distances.values == [[10, 20], [20, 10]])
        #expect(m.distances.origin == .hwloc)
        // PU OS indexes interleave between sockets; logical ones do not.
        #expect(m.nodes[0].pus == Array(0..<12))
        #expect(m.nodes[0].pus.map { m.pus[$0].osIndex }.sorted() == [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22])
        #expect(m.caches.contains { $0.name == "L3" && $0.sizeBytes == 12 << 20 })
    }

    @Test("XML: Cluster-on-Die machine has 4 nodes and the 10/21/31 matrix")
    func codXML() throws {
        let m = try TopologyLoader.load(.xml(path: Fixture.fourNodeCoD))
        #expect(m.nodes.count == 4)
        #expect(m.pus.count == 28)
        #expect(m.distances.values == [[10, 21, 31, 31], [21, 10, 31, 31], [31, 31, 10, 21], [31, 31, 21, 10]])
    }

    @Test("XML: sparse AMD keeps OS indexes apart from logical ones, memory-only nodes and orphan PUs")
    func sparseAMD() throws {
        let m = try TopologyLoader.load(.xml(path: Fixture.amdSparse))
        #expect(m.nodes.count == 5)
        #expect(m.nodes.map(\.logicalIndex) == [0, 1, 2, 3, 4])
        #expect(m.nodes.map(\.osIndex) == [1, 2, 3, 5, 4])
        #expect(m.distances.values == (0..<5).map { i in (0..<5).map { $0 == i ? 10 : 20 } })
        #expect(m.distances.origin == .hwloc)
        // Two nodes own memory but no CPU: kept as they are.
        #expect(m.nodes.filter(\.isMemoryOnly).map(\.osIndex) == [5, 4])
        // PUs that no node's cpuset lists are given to the nearest node, and the loader says so.
        let orphans = m.pus.filter(\.nodeAssigned)
        #expect(!orphans.isEmpty)
        #expect(m.notes.contains { $0.contains("listed by no NUMA node") })
        #expect(m.nodes.reduce(0) { $0 + $1.pus.count } == m.pus.count)
    }

    @Test("Synthetic: pack:2 [numa] core:4 pu:1 gives 2 nodes x 4 PUs with assumed distances")
    func synthetic() throws {
        let m = try TopologyLoader.load(.synthetic("pack:2 [numa] core:4 pu:1"))
        #expect(m.nodes.count == 2)
        #expect(m.nodes.map(\.pus.count) == [4, 4])
        #expect(m.distances.origin == .assumed)
        #expect(m.distances.values == [[10, 20], [20, 10]])
        #expect(m.notes.contains { $0.contains("assumed") })
    }

    @Test("Host: node and PU counts agree with libnuma and sysconf, as numactl --hardware shows")
    func host() throws {
        let m = try TopologyLoader.load(.host)
        #expect(m.pus.count == Int(arch_online_cpus()))
        if numa_available() >= 0 {
            #expect(m.nodes.count == Int(numa_num_configured_nodes()))
            #expect(m.distances.origin != .assumed)
            for a in m.nodes { for b in m.nodes {
                #expect(m.distances[a.logicalIndex, b.logicalIndex] == Int(numa_distance(Int32(a.osIndex), Int32(b.osIndex))))
            } }
        }
    }

    @Test("A config override replaces the matrix and is marked config; bad overrides are refused")
    func distanceOverride() throws {
        let m = try TopologyLoader.load(.synthetic("pack:2 [numa] core:1 pu:1"), distances: [[10, 32], [21, 10]])
        #expect(m.distances.values == [[10, 32], [21, 10]], "asymmetric matrices are kept as given")
        #expect(m.distances.origin == .config)
        #expect(throws: TopologyError.self) { try TopologyLoader.load(.synthetic("pack:2 [numa] core:1 pu:1"), distances: [[10]]) }
        #expect(throws: TopologyError.self) { try TopologyLoader.load(.synthetic("pack:2 [numa] core:1 pu:1"), distances: [[10, 20], [20, 11]]) }
        #expect(throws: TopologyError.self) { try TopologyLoader.load(.synthetic("pack:2 [numa] core:1 pu:1"), distances: [[10, 5], [20, 10]]) }
    }

    @Test("Errors: bad synthetic, missing file, malformed XML, each one line")
    func errors() throws {
        for source: TopologySource in [.synthetic("bogus:3"), .synthetic(""), .xml(path: "/nonexistent/x.xml"), .xml(path: "/tmp")] {
            do {
                _ = try TopologyLoader.load(source)
                Issue.record("\(source) loaded")
            } catch let e as TopologyError {
                #expect(!e.message.contains("\n"))
                #expect(!e.message.isEmpty)
            }
        }
        let bad = FileManagerTemp.write("<topology><object type=\"Machine\">", suffix: ".xml")
        #expect(throws: TopologyError.self) { try TopologyLoader.load(.xml(path: bad)) }
    }
}

enum FileManagerTemp {
    static func write(_ text: String, suffix: String) -> String {
        let path = "/tmp/numastress-test-\(getpid())-\(arch_rdtsc())\(suffix)"
        FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return path
    }
}

import Foundation

@Suite struct SyntheticLimitTests {
    @Test("A synthetic shape beyond NR_CPUS is refused at once instead of being built")
    func tooBig() {
        #expect(throws: TopologyError.self) { try TopologyLoader.load(.synthetic("pack:2 [numa] core:99999 pu:4")) }
        #expect(HwlocTopology.syntheticPUs("pack:2 [numa] core:4 pu:2") == 16)
    }

    @Test("Bare numbers count as levels, and a level wider than 1024 is refused before hwloc builds it")
    func bareAndWide() {
        #expect(HwlocTopology.syntheticPUs("2147483647") == 2_147_483_647)
        #expect(HwlocTopology.syntheticArities("pack:2 [numa] core:4(indexes=0,2,4,6) 2") == [2, 4, 2])
        for desc in ["2147483647", "4096 2", "pack:1 core:2048 pu:1"] {
            #expect(throws: TopologyError.self, "\(desc)") { try TopologyLoader.load(.synthetic(desc)) }
        }
    }
}
