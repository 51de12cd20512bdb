import Testing
@testable import Topology

/// OS node numbers (what numactl and configs say) against the model's logical node order, on
/// machines where they differ: CPU-less nodes placed out of order, sparse numbering.
@Suite struct NodeNumberingTests {
    @Test("a memory-only node placed by its HMAT initiator comes between the CPU nodes in hwloc's order")
    func hmatGuestOrder() throws {
        let m = try TopologyLoader.load(.xml(path: Fixture.qemuMemoryOnlyHMAT))
        #expect(m.nodeOSIndexes == [0, 2, 1])
        // Its cpuset is node 0's (locality), but its CPUs are none: node 0 keeps PUs 0-1.
        #expect(m.nodes.map(\.isMemoryOnly) == [false, true, false])
        #expect(m.nodeIndex(osIndex: 1) == 2)
        #expect(m.nodeIndex(osIndex: 2) == 1)
        #expect(m.cpus(ofNode: m.nodeIndex(osIndex: 1)!) == [2, 3])
        #expect(m.cpus(ofNode: m.nodeIndex(osIndex: 0)!) == [0, 1])
        #expect(m.pus.allSatisfy { !$0.nodeAssigned })
        #expect(m.notes.contains("node 2 (L#1) has memory but no CPUs"))
    }

    @Test("without HMAT the memory-only node is last and the orders agree")
    func plainGuestOrder() throws {
        let m = try TopologyLoader.load(.xml(path: Fixture.qemuMemoryOnly))
        #expect(m.nodeOSIndexes == [0, 1, 2])
        #expect(m.nodes.map(\.isMemoryOnly) == [false, false, true])
        #expect(m.distances.values == [[10, 21, 21], [21, 10, 21], [21, 21, 10]])
    }

    @Test("sparse numbering: OS numbers are looked up, never taken as positions")
    func sparse() throws {
        let m = try TopologyLoader.load(.xml(path: Fixture.amdSparse))
        #expect(m.nodeIndex(osIndex: 0) == nil)
        #expect(m.nodeIndex(osIndex: 1) == 0)
        #expect(m.nodeIndex(osIndex: 5) == 3)
        #expect(m.nodeIndex(osIndex: 4) == 4)
    }

    @Test("zonelists break distance ties by OS number, as find_next_best_node() does")
    func zonelistTies() throws {
        let m = try TopologyLoader.load(.xml(path: Fixture.qemuMemoryOnlyHMAT))
        let ids = m.nodeOSIndexes
        func osOrder(from os: Int, cpus: Bool = false) -> [Int] {
            m.distances.fallbackOrder(from: m.nodeIndex(osIndex: os)!, ids: ids,
                                      hasCPUs: cpus ? m.nodes.map { !$0.pus.isEmpty } : nil).map { ids[$0] }
        }

        // All remote distances are 21: the kernel takes the following node ids first, then wraps.
        #expect(osOrder(from: 0) == [0, 1, 2])
        #expect(osOrder(from: 1) == [1, 2, 0])
        #expect(osOrder(from: 2) == [2, 0, 1])
        // With the machine's CPUs: node 2 is memory-only, so find_next_best_node() puts it first
        // among equals (PENALTY_FOR_NODE_WITH_CPUS), which is what the model's zonelists use.
        #expect(m.nodes.filter(\.pus.isEmpty).map(\.osIndex) == [2])
        #expect(osOrder(from: 0, cpus: true) == [0, 2, 1])
        #expect(osOrder(from: 1, cpus: true) == [1, 2, 0])
        #expect(osOrder(from: 2, cpus: true) == [2, 0, 1])
    }

    @Test("a distance override is written in OS node order and lands on the right nodes")
    func distanceOverrideInOSOrder() throws {
        let given = [[10, 21, 31], [21, 10, 41], [31, 41, 10]]
        let m = try TopologyLoader.load(.xml(path: Fixture.qemuMemoryOnlyHMAT), distances: given)
        for a in 0..<3 {
            for b in 0..<3 {
                #expect(m.distances[m.nodeIndex(osIndex: a)!, m.nodeIndex(osIndex: b)!] == given[a][b])
            }
        }
    }

    @Test("memory of each model node goes to its own host node when the model is the host")
    func memoryMappingOnHost() throws {
        let m = try TopologyLoader.load(.xml(path: Fixture.qemuMemoryOnlyHMAT))
        let map = CPUMapping(model: m, host: m, modelIsHost: true)
        #expect(map.memoryHostNode == [0, 2, 1])
        #expect(!map.hostHasFewerNodes)
        // The same three nodes modelled on a one-node host all share host node 0.
        let one = try TopologyLoader.load(.synthetic("pack:1 [numa] core:2 pu:1"))
        let squeezed = CPUMapping(model: m, host: one, modelIsHost: false)
        #expect(squeezed.memoryHostNode == [0, 0, 0])
        #expect(squeezed.hostHasFewerNodes)
    }
}
