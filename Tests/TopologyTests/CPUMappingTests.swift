import Testing
@testable import Topology

/// Logical CPUs onto host PUs: identity on the host, round-robin and reported oversubscription otherwise.
@Suite struct CPUMappingTests {
    @Test("Host model maps each CPU onto its own PU")
    func identity() throws {
        let host = HostBinding.shared.machine
        let map = CPUMapping(model: host, host: host, modelIsHost: true)
        #expect(map.hostPU == host.pus.map(\.osIndex))
        #expect(map.oversubscription == 1)
        #expect(map.ratioDescription == "1:1")
    }

    @Test("A 24-PU model on this host is spread round-robin and marked oversubscribed")
    func roundRobin() throws {
        let host = HostBinding.shared.machine
        let model = try TopologyLoader.load(.xml(path: Fixture.twoNode))
        let map = CPUMapping(model: model, host: host, modelIsHost: false)
        let hostPUs = host.pus.map(\.osIndex)
        #expect(map.hostPU.count == 24)
        for cpu in 0..<24 { #expect(map.hostPU[cpu] == hostPUs[cpu % hostPUs.count]) }
        let expected = (24 + hostPUs.count - 1) / hostPUs.count
        #expect(map.oversubscription == expected)
        if expected > 1 { #expect(map.ratioDescription == "oversubscribed \(expected):1") }
    }
}
