import Testing
import Foundation
@testable import KernelMM

private let PG = KernelMM.PAGE_SIZE

/// Page tables, TLBs, faults and shootdowns (arch/x86/mm, mm/memory.c, mm/mempolicy.c).
@Suite(.serialized) struct MMUTests {
    static func make(_ shape: String = "pack:2 [numa] core:1 pu:1", geometry: TLB.Geometry = TLB.Geometry()) throws -> (Kernel, MMU) {
        let k = try TestKernel.make(shape, perNode: 16 << 20)
        let mmu = try MMU(kernel: k, geometry: geometry)
        mmu.debugChecks = true
        return (k, mmu)
    }

    @Test("A walk resolves what was mapped: 4 levels to a present PTE whose page holds what was written")
    func walkResolves() throws {
        let (k, mmu) = try Self.make()
        let cpu = k.cpus[0]
        let space = try mmu.createAddressSpace(name: "t", cpu: cpu)
        let va = try #require(mmu.mmap(cpu, space, length: 3 * PG))
        try mmu.access(cpu, space, va + UInt64(PG) + 10, bytes: 100, write: true, pattern: 0x77)
        let (pte, levels) = space.pageTable.walk(va + UInt64(PG))
        let e = try #require(pte)
        #expect(levels == 4)
        #expect(e.isPresent && e.isWritable)
        #expect((k.pfnToVirt(e.pfn) + 10).load(as: UInt8.self) == 0x77)
        #expect(space.pageTable.walk(va).pte == nil, "untouched pages are not allocated")
        #expect(space.mappedPages == 1)
        mmu.destroy(space, cpu: cpu)
        k.drainPCP(cpu)
        #expect(k.checkPages(expectAllFree: false).isEmpty)
    }

    @Test("First touch from a CPU on node 1 places the page on node 1; page tables come from the creator's node")
    func firstTouch() throws {
        let (k, mmu) = try Self.make()
        let cpu1 = k.cpus[1]
        #expect(cpu1.node == 1)
        let space = try mmu.createAddressSpace(name: "t", cpu: cpu1)
        #expect(k.nodeOf(pfn: space.pageTable.rootPFN) == 1)
        let va = try #require(mmu.mmap(cpu1, space, length: PG))
        try mmu.access(cpu1, space, va, bytes: 8, write: true)
        #expect(k.nodeOf(pfn: try #require(space.pageTable.walk(va).pte).pfn) == 1)
        mmu.destroy(space, cpu: cpu1)
    }

    @Test("MPOL_INTERLEAVE alternates nodes page by page; MPOL_BIND keeps to its node")
    func policies() throws {
        let (k, mmu) = try Self.make()
        let cpu = k.cpus[0]
        let space = try mmu.createAddressSpace(name: "t", cpu: cpu)
        let va = try #require(mmu.mmap(cpu, space, length: 6 * PG, policy: .interleave([0, 1])))
        try mmu.access(cpu, space, va, bytes: 6 * PG, write: true)
        let nodes = (0..<6).map { k.nodeOf(pfn: space.pageTable.walk(va + UInt64($0 * PG)).pte!.pfn) }
        #expect(nodes == [0, 1, 0, 1, 0, 1])
        let vb = try #require(mmu.mmap(cpu, space, length: 2 * PG, policy: .bind(1)))
        try mmu.access(cpu, space, vb, bytes: 2 * PG, write: true)
        #expect(k.nodeOf(pfn: space.pageTable.walk(vb).pte!.pfn) == 1)
        mmu.destroy(space, cpu: cpu)
    }

    @Test("A write to a read-only mapping and a touch of an unmapped address are faults, reported and counted")
    func faults() throws {
        let (k, mmu) = try Self.make()
        let cpu = k.cpus[0]
        let space = try mmu.createAddressSpace(name: "t", cpu: cpu)
        let ro = try #require(mmu.mmap(cpu, space, length: PG, prot: .readOnly))
        _ = try mmu.access(cpu, space, ro, bytes: 8, write: false)
        #expect(throws: MMU.AccessError.readOnly(ro)) { try mmu.access(cpu, space, ro, bytes: 8, write: true) }
        #expect(throws: MMU.AccessError.notMapped(0x1234_5000)) { try mmu.access(cpu, space, 0x1234_5000, bytes: 8, write: false) }
        #expect(k.log.count(.mmFault) == 2)
        #expect(k.log.text.contains("write to a read-only mapping"))
        mmu.destroy(space, cpu: cpu)
    }

    @Test("2 MiB mappings are found at the PMD: a walk of 3 levels")
    func hugePages() throws {
        let (k, mmu) = try Self.make("pack:1 [numa] core:1 pu:1")
        let cpu = k.cpus[0]
        let space = try mmu.createAddressSpace(name: "t", cpu: cpu)
        let va = try #require(mmu.mmap(cpu, space, length: 2 << 20, huge: true))
        try mmu.access(cpu, space, va + 4096 * 7, bytes: 64, write: true)
        let (pte, levels) = space.pageTable.walk(va + 4096 * 300)
        #expect(levels == 3)
        #expect(pte?.isHuge == true)
        #expect(space.mappedPages == 512)
        mmu.destroy(space, cpu: cpu)
    }

    @Test("TLB hits, misses and walks follow LRU for a known sequence (2-entry L1)")
    func lru() throws {
        let (k, mmu) = try Self.make(geometry: TLB.Geometry(l1Entries: 2, l1Ways: 2, l2Entries: 64, l2Ways: 4))
        let cpu = k.cpus[0]
        let space = try mmu.createAddressSpace(name: "t", cpu: cpu)
        let base = try #require(mmu.mmap(cpu, space, length: 3 * PG))
        let a = base, b = base + UInt64(PG), c = base + UInt64(2 * PG)
        // A B A C B A: C evicts B (least recently used), B then evicts A from L1; both come back from the STLB.
        for va in [a, b, a, c, b, a] { _ = try mmu.translate(cpu, space, va, write: false) }
        let t = mmu.tlbs[0].counters
        #expect(t.misses == 3)
        #expect(t.walks == 3)
        #expect(t.walkLevels == 1 + 4 + 4, "the first walk stops at the empty PGD; later ones read all four levels")
        #expect(t.l1Hits == 1)
        #expect(t.l2Hits == 2)
        #expect(t.faults == 3)
        mmu.destroy(space, cpu: cpu)
    }

    /// Runs `cpu1` polling its IPI inbox on its own thread while `body` runs.
    static func withPollingCPU(_ mmu: MMU, _ cpu1: CPUContext, _ body: () throws -> Void) rethrows {
        let stop = Mailbox<Bool>()
        let done = Threads.start {
            mmu.enter(cpu1)
            while stop.take() == nil { mmu.poll(cpu1); usleep(50) }
            mmu.leave(cpu1)
        }
        defer { stop.put(true); done.wait() }
        try body()
    }

    @Test("munmap of 1 page sends single invalidations; of 64 pages (above the ceiling of 33) a full flush")
    func shootdowns() throws {
        let (k, mmu) = try Self.make()
        let cpu0 = k.cpus[0], cpu1 = k.cpus[1]
        let space = try mmu.createAddressSpace(name: "t", cpu: cpu0)
        let one = try #require(mmu.mmap(cpu0, space, length: PG))
        let many = try #require(mmu.mmap(cpu0, space, length: 64 * PG))
        // CPU 1 caches translations of both mappings.
        mmu.enter(cpu1)
        try mmu.access(cpu1, space, one, bytes: 8, write: true)
        try mmu.access(cpu1, space, many, bytes: 64 * PG, write: true)
        try Self.withPollingCPU(mmu, cpu1) {
            mmu.munmap(cpu0, space, one, length: PG)
            let t1 = mmu.tlbs[0].counters
            #expect(t1.ipisSent == 1)
            mmu.munmap(cpu0, space, many, length: 64 * PG)
            #expect(mmu.tlbs[0].counters.ipisSent == 2)
        }
        let r = mmu.tlbs[1].counters
        #expect(r.ipisReceived == 2)
        #expect(r.singleInvalidations == 1, "one invlpg for the 1-page unmap")
        #expect(r.fullFlushes >= 1, "the 64-page unmap flushed the whole space")
        #expect(space.shootdowns.sent == 2)
        #expect(!mmu.tlbs[1].holds(asid: space.asid, va: one))
        mmu.destroy(space, cpu: cpu0)
    }

    @Test("Lazy vfree: no flush until lazy_max_pages of freed vmalloc space, then one purge on all CPUs")
    func lazyVfree() throws {
        let (k, mmu) = try Self.make()
        let cpu = k.cpus[0]
        let mapper = KernelPageTableMapper(mmu: mmu)
        let v = try Vmalloc(kernel: k, bytes: 160 << 20, mapper: mapper)
        #expect(mapper.lazyMaxPages == 2 * 8192, "fls(2) x 32 MiB / 4 KiB")
        let chunk = 1 << 20
        var freed = 0
        while freed + chunk / PG <= mapper.lazyMaxPages {
            let p = try #require(v.vmalloc(cpu, chunk))
            _ = try mmu.access(cpu, mmu.kernelSpace, UInt64(UInt(bitPattern: p)), bytes: 64, write: true)
            v.vfree(cpu, p)
            freed += chunk / PG
        }
        #expect(mapper.purges == 0)
        #expect(mmu.tlbs[0].counters.fullFlushes == 0)
        let p = try #require(v.vmalloc(cpu, chunk))
        v.vfree(cpu, p)
        #expect(mapper.purges == 1)
        #expect(mapper.lazyPending == 0)
        #expect(mmu.tlbs[0].counters.fullFlushes == 1)
    }
}
