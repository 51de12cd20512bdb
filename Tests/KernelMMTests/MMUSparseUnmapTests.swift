import Testing
@testable import KernelMM

private let PG = KernelMM.PAGE_SIZE

/// munmap of a long mapping with few touched pages skips the regions whose page tables were
/// never made, yet still clears every page that was there, wherever it lies.
@Suite struct MMUSparseUnmapTests {
    @Test("Touched pages scattered over 1.5 GiB, neighbours and pages a GiB apart, are all unmapped")
    func sparse() throws {
        let (k, mmu) = try MMUTests.make()
        let cpu = k.cpus[0]
        let space = try mmu.createAddressSpace(name: "t", cpu: cpu)
        let length = 3 << 29
        let va = try #require(mmu.mmap(cpu, space, length: length))
        let offsets = [0, (2 << 20) - PG, 2 << 20, 1 << 30, length - PG]
        for o in offsets { try mmu.access(cpu, space, va + UInt64(o), bytes: 8, write: true) }
        #expect(space.mappedPages == offsets.count)
        mmu.munmap(cpu, space, va, length: length)
        #expect(space.mappedPages == 0)
        for o in offsets { #expect(space.pageTable.walk(va + UInt64(o)).pte == nil, "offset \(o)") }
        mmu.destroy(space, cpu: cpu)
        k.drainPCP(cpu)
        #expect(k.checkPages(expectAllFree: false).isEmpty)
    }
}
