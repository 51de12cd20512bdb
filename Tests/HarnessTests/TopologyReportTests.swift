import Testing
import Foundation
@testable import Harness
import Topology

/// The topology report: numactl-shaped text and a JSON form whose keys are stable.
@Suite struct TopologyReportTests {
    @Test("JSON carries the schema and snake_case keys, and round-trips")
    func jsonStable() throws {
        let r = try TopologyReport.make(source: .synthetic("pack:2 [numa] core:2 pu:1"))
        let text = r.json()
        #expect(text.contains("\"schema\" : \"numastress.topology/1\""))
        #expect(text.contains("\"host_pus\""))
        #expect(text.contains("\"memory_only\""))
        #expect(try JSONCoding.decode(TopologyReport.self, from: Data(text.utf8)) == r)
    }

    @Test("firmware memory attributes are shown and carried, labelled as claims; nodes in OS order")
    func memoryAttributes() throws {
        let xml = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../TopologyTests/Fixtures/qemu-3n-memonly-hmat.xml").standardizedFileURL.path
        let r = try TopologyReport.make(source: .xml(path: xml))
        let text = r.text()
        #expect(text.contains("memory attributes, firmware (ACPI HMAT, as hwloc reports it): claimed, not measured"))
        #expect(text.contains("  Latency (ns): node 0 from node 0: 100, node 1 from node 1: 100, node 2 from node 0: 210\n"))
        // numactl's order although hwloc lists OS node 2 second.
        #expect(text.contains("available: 3 nodes (0-2)\nnode 0 cpus: 0 1\nnode 0 size: 458 MB\nnode 1 cpus: 2 3\n"))
        #expect(text.contains("  node 2 (L#1) memory-only"))
        let json = r.json()
        #expect(json.contains("\"memory_attributes\""))
        #expect(json.contains("\"initiator_cpus\""))
        #expect(try JSONCoding.decode(TopologyReport.self, from: Data(json.utf8)) == r)
    }

    @Test("CPU lists are printed as cpulist ranges")
    func ranges() {
        #expect(TopologyReport.ranges([0, 1, 2, 3, 8, 10, 11]) == "0-3,8,10-11")
        #expect(TopologyReport.ranges([]) == "")
    }
}
