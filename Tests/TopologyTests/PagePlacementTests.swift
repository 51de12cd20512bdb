import Foundation
import Testing
@testable import Topology

/// The binding check asks the kernel where pages are (move_pages query mode) instead of trusting
/// mbind; on a multi-node host (or a scripts/numa-vm guest) each host node is tried in turn.
@Suite struct PagePlacementTests {
    static let page = Int(sysconf(Int32(_SC_PAGESIZE)))

    @Test("every page of an arena bound to a host node and prefaulted is found on that node")
    func boundArenaIsWhereItWasBound() throws {
        let host = HostBinding.shared.machine
        for node in host.nodes.map(\.osIndex) where HostBinding.shared.hasNode(osIndex: node) {
            let mem = try NodeMemory.map(bytes: 4 << 20, hostNode: node, prefault: true)
            defer { mem.unmap() }
            let placement = try #require(PagePlacement.query(base: mem.base, bytes: mem.bytes))
            #expect(placement.pagesChecked == mem.bytes / Self.page)
            #expect(placement.pagesUnplaced == 0)
            #expect(placement.pagesOnNode == [node: placement.pagesChecked], "bound to host node \(node)")
            let check = NodeBindingCheck(node: 7, hostNode: node, arenaBytes: mem.bytes, placement: placement)
            #expect(check.verified)
            #expect(check.line == "node 7: 4 MiB verified on host node \(node)")
            // The arena carries its own check only where the host has a choice of nodes.
            #expect((mem.placement != nil) == (host.nodes.count > 1))
        }
    }

    @Test("pages never touched have no node, and a check over them is not verified")
    func untouchedPagesAreUnplaced() throws {
        let mem = try NodeMemory.map(bytes: 1 << 20, hostNode: nil, prefault: false)
        defer { mem.unmap() }
        guard let placement = PagePlacement.query(base: mem.base, bytes: mem.bytes) else { return }
        #expect(placement.pagesUnplaced == placement.pagesChecked)
        let check = NodeBindingCheck(node: 0, hostNode: 0, arenaBytes: mem.bytes, placement: placement)
        #expect(!check.verified)
        #expect(check.line.hasPrefix("WARNING: node 0 is bound to host node 0 but its pages are: 0 MiB on host node 0, 1 MiB not present"))
        #expect(check.line.hasSuffix("not trustworthy"))
    }

    @Test("a mismatch names where the pages went")
    func mismatchLine() {
        let p = PagePlacement(pagesChecked: 256, pageBytes: 4096, pagesOnNode: [1: 64, 0: 192], pagesUnplaced: 0)
        let check = NodeBindingCheck(node: 1, hostNode: 1, arenaBytes: 1 << 20, placement: p)
        #expect(!check.verified)
        #expect(check.verifiedBytes == 256 << 10)
        #expect(check.elsewhereBytes == ["0": 768 << 10])
        #expect(check.line == "WARNING: node 1 is bound to host node 1 but its pages are: 0.2 MiB on host node 1, 0.8 MiB on host node 0; measured figures for it are not trustworthy")
    }

    @Test("a very large range is sampled at an even stride and says so")
    func sampling() {
        let arena = (PagePlacement.maxPages * 4) * Self.page
        let p = PagePlacement(pagesChecked: PagePlacement.maxPages, pageBytes: Self.page, pagesOnNode: [0: PagePlacement.maxPages], pagesUnplaced: 0)
        let check = NodeBindingCheck(node: 0, hostNode: 0, arenaBytes: arena, placement: p)
        #expect(check.verified && check.sampled)
        #expect(check.verifiedBytes == arena)
        #expect(check.line.hasSuffix("(sampled)"))
    }
}
