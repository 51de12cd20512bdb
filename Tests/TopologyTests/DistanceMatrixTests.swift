import Testing
@testable import Topology

/// Zonelist order from the distance table (mm/page_alloc.c build_zonelists / find_next_best_node).
@Suite struct DistanceMatrixTests {
    @Test("Fallback order on the Cluster-on-Die matrix: self, die sibling, then the far socket, whose two nodes build_zonelists() takes round-robin (node_load)")
    func codOrder() throws {
        let m = try TopologyLoader.load(.xml(path: Fixture.fourNodeCoD)).distances
        #expect(m.fallbackOrder(from: 0) == [0, 1, 2, 3])
        // Node 0's list raised node_load of 1 and 2 (first of their distance groups), so node 1
        // finds 3 lighter than 2 at equal distance; node 3 likewise takes 1 before 0.
        #expect(m.fallbackOrder(from: 1) == [1, 0, 3, 2])
        #expect(m.fallbackOrder(from: 2) == [2, 3, 0, 1])
        #expect(m.fallbackOrder(from: 3) == [3, 2, 1, 0])
    }

    @Test("find_next_best_node(): among equal distances a node without CPUs comes first (PENALTY_FOR_NODE_WITH_CPUS)")
    func cpuLessFirst() {
        let m = DistanceMatrix.assumed(nodes: 3)
        #expect(m.fallbackOrder(from: 0, hasCPUs: [true, true, false]) == [0, 2, 1])
        #expect(m.fallbackOrder(from: 0, hasCPUs: [true, true, true]) == [0, 1, 2])
        // The penalty is one unit of distance: a node one unit nearer but with CPUs ties with it,
        // and the tie goes to the lower number.
        let near = DistanceMatrix(values: [[10, 20, 21], [20, 10, 21], [21, 21, 10]], origin: .config)
        #expect(near.fallbackOrder(from: 0, hasCPUs: [true, true, false]) == [0, 1, 2])
    }

    @Test("Equal distances: nodes after us come before nodes below us (find_next_best_node)")
    func ties() {
        let m = DistanceMatrix.assumed(nodes: 4)
        #expect(m.fallbackOrder(from: 2) == [2, 3, 0, 1])
        #expect(m.fallbackOrder(from: 0) == [0, 1, 2, 3])
    }

    @Test("Without a table Linux assumes LOCAL_DISTANCE 10 and REMOTE_DISTANCE 20")
    func assumed() {
        let m = DistanceMatrix.assumed(nodes: 3)
        #expect(m.origin == .assumed)
        #expect(m.values == [[10, 20, 20], [20, 10, 20], [20, 20, 10]])
    }
}
