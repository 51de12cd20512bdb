import Testing
@testable import Topology

/// Arena memory is real, writable and, where the host has the node, bound to it (mbind MPOL_BIND).
@Suite struct NodeMemoryTests {
    @Test("A prefaulted arena bound to host node 0 is writable and lives on node 0")
    func boundArena() throws {
        let mem = try NodeMemory.map(bytes: 1 << 20, hostNode: 0, prefault: true)
        defer { mem.unmap() }
        mem.base.storeBytes(of: 0xAB, toByteOffset: 4096, as: UInt8.self)
        #expect(mem.base.load(fromByteOffset: 4096, as: UInt8.self) == 0xAB)
        if HostBinding.shared.hasNode(osIndex: 0) {
            #expect(mem.boundHostNode == 0)
            #expect(mem.hostNode(ofPageAt: 4096) == 0)
        }
    }

    @Test("A node the host lacks gets plain memory, and says so")
    func unboundArena() throws {
        let mem = try NodeMemory.map(bytes: 8192, hostNode: 63, prefault: false)
        defer { mem.unmap() }
        #expect(mem.boundHostNode == nil)
    }
}
