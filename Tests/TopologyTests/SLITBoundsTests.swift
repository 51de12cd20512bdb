import Foundation
import Testing
@testable import Topology

/// SLIT distances are one byte: 10 on the diagonal, 11…255 elsewhere. An override outside that
/// is refused; a discovered table outside it (an XML file can hold any figures) is replaced by
/// the assumed one, and the machine's notes say why.
@Suite struct SLITBoundsTests {
    @Test("overrides: 255 is the farthest distance, 256 and 10^11 are refused")
    func overrideBounds() throws {
        #expect(try DistanceMatrix.validated([[10, 255], [11, 10]], nodes: 2).values == [[10, 255], [11, 10]])
        for bad in [[[10, 256], [21, 10]], [[10, 100_000_000_000], [21, 10]], [[10, 21], [10, 10]], [[11, 21], [21, 10]]] {
            #expect(throws: TopologyError.self) { try DistanceMatrix.validated(bad, nodes: 2) }
        }
        #expect(DistanceMatrix.problem(5, from: 1, to: 0) == "remote distance [1][0] must be 11…255, got 5")
        #expect(DistanceMatrix.problem([[10]], nodes: 2) == "must be 2x2 for 2 node(s), got 1 row(s)")
    }

    @Test("an XML file whose latencies are no SLIT table gets the assumed table and a note")
    func xmlOutOfBounds() throws {
        let text = try String(contentsOfFile: Fixture.twoNode, encoding: .utf8)
            .replacingOccurrences(of: "<u64values length=\"12\">10 20 20 10 </u64values>",
                                  with: "<u64values length=\"32\">10 100000000000 100000000000 10 </u64values>")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("slit-\(UUID().uuidString).xml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let m = try TopologyLoader.load(.xml(path: path))
        #expect(m.distances.origin == .assumed && m.distances.values == [[10, 20], [20, 10]])
        #expect(m.notes.contains { $0.contains("not a SLIT table (remote distance [0][1] must be 11…255, got 100000000000)") })
    }
}
