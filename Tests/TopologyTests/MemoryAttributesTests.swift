import Testing
@testable import Topology

/// Firmware latency and bandwidth (ACPI HMAT) as hwloc reports them, read from a guest booted
/// with `scripts/numa-vm --hmat` (latency 10 ns × distance, bandwidth 20 GB/s × 10 / distance).
@Suite struct MemoryAttributesTests {
    @Test("HMAT latency and bandwidth per node, from the nearest initiator, named by OS numbers")
    func hmatGuest() throws {
        let m = try TopologyLoader.load(.xml(path: Fixture.qemuMemoryOnlyHMAT))
        let attrs = try #require(m.memoryAttributes)
        #expect(attrs.map(\.name).prefix(2) == ["Latency", "Bandwidth"])
        func table(_ name: String) -> [String] {
            (attrs.first { $0.name == name }?.values ?? [])
                .map { "\($0.nodeOS)<-\($0.initiatorNodes):\($0.value)" }.sorted()
        }
        // Linux exposes only the best initiators of each node: node 2 (memory only) from node 0.
        #expect(table("Latency") == ["0<-[0]:100", "1<-[1]:100", "2<-[0]:210"])
        #expect(table("Bandwidth") == ["0<-[0]:20000", "1<-[1]:20000", "2<-[0]:9523"])
        let far = try #require(attrs[0].values.first { $0.nodeOS == 2 })
        #expect(far.node == 1)                 // hwloc's logical index of OS node 2
        #expect(far.initiatorCPUs == [0, 1])
    }

    @Test("no HMAT, no attributes: a source without them says nothing rather than guessing")
    func noHMAT() throws {
        #expect(try TopologyLoader.load(.xml(path: Fixture.qemuMemoryOnly)).memoryAttributes == nil)
        #expect(try TopologyLoader.load(.synthetic("pack:2 [numa] core:2 pu:1")).memoryAttributes == nil)
    }
}
