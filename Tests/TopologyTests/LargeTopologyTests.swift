import Testing
import Foundation
@testable import Topology

/// Machines of hundreds to thousands of CPUs load in seconds, or are refused at once with what
/// to change: hwloc's insertion compares each object with all its siblings.
@Suite struct LargeTopologyTests {
    static func fixture(_ name: String) -> String {
        var url = URL(fileURLWithPath: #filePath)
        url.deleteLastPathComponent()
        return url.path + "/Fixtures/\(name).xml"
    }

    @Test("A 384-PU, 24-node hwloc XML loads with its SLIT: 16 PUs per node, 12 within a package, 32 across")
    func fixture384() throws {
        let m = try TopologyLoader.load(.xml(path: Self.fixture("384sim-4p6n8c2t")))
        #expect(m.pus.count == 384 && m.nodes.count == 24 && m.packages.count == 4 && m.cores.count == 192)
        #expect(m.nodes.allSatisfy { $0.pus.count == 16 })
        #expect(m.distances.origin == .hwloc)
        #expect(m.distances[0, 0] == 10 && m.distances[0, 5] == 12 && m.distances[0, 6] == 32 && m.distances[23, 18] == 12)
        #expect(m.pus.allSatisfy { $0.node == $0.logicalIndex / 16 })
    }

    @Test("A synthetic level too wide for hwloc's sibling-by-sibling insertion is refused at once, naming a split")
    func flatRefused() {
        #expect(HwlocTopology.syntheticBuildCost([1024, 8, 1]) > HwlocTopology.maxBuildCost)
        #expect(HwlocTopology.syntheticBuildCost([32, 32, 8, 1]) < HwlocTopology.maxBuildCost)
        #expect(HwlocTopology.syntheticBuildCost([64, 128, 1]) < HwlocTopology.maxBuildCost)
        do {
            _ = try TopologyLoader.load(.synthetic("pack:1024 [numa] core:8 pu:1"))
            Issue.record("a flat 1024-package shape was built")
        } catch let e as TopologyError {
            #expect(e.message.contains("too flat") && e.message.contains("group:32 over 32"), "\(e.message)")
        } catch { Issue.record("\(error)") }
    }

    @Test("The same 1024-node, 8192-PU machine split by a group level loads, each PU on its package's node")
    func thousandNodes() throws {
        let m = try TopologyLoader.load(.synthetic("group:32 pack:32 [numa] core:8 pu:1"))
        #expect(m.nodes.count == 1024 && m.pus.count == 8192 && m.packages.count == 1024)
        #expect(m.pus.allSatisfy { $0.node == $0.package })
        #expect(m.nodes.allSatisfy { $0.pus.count == 8 })
    }
}
