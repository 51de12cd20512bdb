import Testing
@testable import Topology

/// Zonelist order from the distance table (mm/page_alloc.c build_zonelists / find_next_best_node).
@Suite struct DistanceMatrixTests {
    @Test("Fallback order on the Cluster-on-Die matrix: self, die sibling, then the far socket")
    func codOrder() throws {
        let m = try TopologyLoader.load(.xml(path: Fixture.fourNodeCoD)).distances
        #expect(m.fallbackOrder(from: 0) == [0, 1, 2, 3])
        #expect(m.fallbackOrder(from: 1) == [1, 0, 2, 3])
        #expect(m.fallbackOrder(from: 2) == [2, 3, 0, 1])
        #expect(m.fallbackOrder(from: 3) == [3, 2, 0, 1])
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
