import Testing
import Foundation
@testable import KernelMM

/// Per-CPU partial slabs (CONFIG_SLUB_CPU_PARTIAL, mm/slub.c put_cpu_partial / __put_partials):
/// a free that gives a full slab its first free object freezes it onto the freeing CPU's list
/// instead of taking the node's list_lock, and the CPU refills from that list without a lock.
@Suite struct SlabCPUPartialTests {
    static func make(flags: SlabFlags = []) throws -> (Kernel, SlabAllocator, KmemCache) {
        let k = try TestKernel.make("pack:1 [numa] core:2 pu:1", perNode: 16 << 20)
        let s = try SlabAllocator(kernel: k)
        return (k, s, try s.createCache(name: "obj", size: 256, flags: flags))
    }

    /// Allocates `slabs` full slabs' worth of objects on `cpu`, in allocation order.
    static func fill(_ c: KmemCache, _ cpu: CPUContext, slabs: Int) -> [UnsafeMutableRawPointer] {
        (0..<(slabs * c.layout.objectsPerSlab)).map { _ in c.alloc(cpu, .kernel)! }
    }

    static func nodeLockAcquisitions(_ c: KmemCache) -> UInt64 { c.lockSnapshots().reduce(0) { $0 + $1.acquisitions } }

    @Test("Per-CPU slab and sheaf state is 128 bytes a CPU, so neighbouring CPUs never share a cache line")
    func perCPUStride() {
        #expect(MemoryLayout<KmemCacheCPU>.stride == 128)
        #expect(MemoryLayout<PerCPUSheaves>.stride == 128)
    }

    @Test("set_cpu_partial() (6.12): 52 objects' worth x2 for 256-byte objects, 120 below, 24 from 1 KiB, 6 from a page; none for debug caches")
    func budget() throws {
        let (_, _, c) = try Self.make()
        #expect(c.cpuPartialSlabs == (104 + c.layout.objectsPerSlab - 1) / c.layout.objectsPerSlab)
        #expect(KmemCache.cpuPartialSlabs(size: 64, objectsPerSlab: 64) == 4)      // 240 objects / 64
        #expect(KmemCache.cpuPartialSlabs(size: 1024, objectsPerSlab: 32) == 2)    // 48 / 32
        #expect(KmemCache.cpuPartialSlabs(size: 4096, objectsPerSlab: 8) == 2)     // 12 / 8
        let (_, _, d) = try Self.make(flags: .redZone)
        #expect(d.cpuPartialSlabs == 0)
    }

    @Test("Freeing into a full slab freezes it onto this CPU's partial list, without the node lock")
    func freeToFullSlab() throws {
        let (k, _, c) = try Self.make()
        let cpu = k.cpus[0], other = k.cpus[1]
        // Three full slabs on CPU 0; the first two are no longer its CPU slab.
        let objs = Self.fill(c, cpu, slabs: 3)
        _ = c.alloc(cpu, .kernel)   // moves CPU 0 on to a fourth slab
        let before = Self.nodeLockAcquisitions(c)
        // CPU 1 frees one object of the first (full, unfrozen) slab.
        c.free(other, objs[0])
        #expect(Self.nodeLockAcquisitions(c) == before, "put_cpu_partial takes no list_lock")
        #expect(c.cpuStats(1).cpuPartialFree == 1)
        #expect(c.cpuStats(1).slowFrees == 1)
        // It still counts as a remote free: CPU 0 allocated from that slab.
        #expect(c.remoteFreeMatrix() == [[1]])
    }

    @Test("A CPU whose slab runs out refills from its partial list before the node list")
    func refillFromCPUPartial() throws {
        let (k, _, c) = try Self.make()
        let cpu = k.cpus[0]
        let objs = Self.fill(c, cpu, slabs: 2)
        // A free by CPU 0 into its first (full) slab puts that slab on its own partial list.
        c.free(cpu, objs[0])
        #expect(c.cpuStats(0).cpuPartialFree == 1)
        let before = Self.nodeLockAcquisitions(c)
        // The CPU slab (the second) is full: the next allocation takes the partial slab back.
        let again = try #require(c.alloc(cpu, .kernel))
        #expect(again == objs[0], "the one free object of the partial slab")
        #expect(c.cpuStats(0).cpuPartialAlloc == 1)
        #expect(Self.nodeLockAcquisitions(c) == before, "neither the full slab's deactivation nor the refill took the lock")
    }

    @Test("Past cpu_partial_slabs the CPU's list goes to the node list in one batch (__put_partials)")
    func overflowUnfreezes() throws {
        let (k, _, c) = try Self.make()
        let cpu = k.cpus[0], other = k.cpus[1]
        let limit = c.cpuPartialSlabs
        let per = c.layout.objectsPerSlab
        let objs = Self.fill(c, cpu, slabs: limit + 2)
        _ = c.alloc(cpu, .kernel)
        // CPU 1 frees one object of each of the first limit + 1 slabs.
        for i in 0...limit { c.free(other, objs[i * per]) }
        #expect(c.cpuStats(1).cpuPartialFree == UInt64(limit + 1))
        #expect(Int(c.cpuStats(1).partialCount) == 1, "the full list went to the node, the new slab stays")
        #expect(c.nodes[0].count == limit)
        // Everything back: flush both CPUs, shrink, and the slab pages are all returned.
        for (i, o) in objs.enumerated() where i % per != 0 || i / per > limit { c.free(cpu, o) }
        c.flush(cpu)
        c.flush(other)
        _ = c.shrink(cpu)
        #expect(c.objectsInUse == 1)   // the one object of the extra allocation
    }
}
