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
        let dec = JSONDecoder()
        dec.keyDecodingStrategy = .convertFromSnakeCase
        #expect(try dec.decode(TopologyReport.self, from: Data(text.utf8)) == r)
    }

    @Test("CPU lists are printed as cpulist ranges")
    func ranges() {
        #expect(TopologyReport.ranges([0, 1, 2, 3, 8, 10, 11]) == "0-3,8,10-11")
        #expect(TopologyReport.ranges([]) == "")
    }
}
