import Testing
import Foundation
@testable import Harness
import KernelMM
import Topology

/// The invariant checker names what is wrong, where, and the seed.
@Suite struct InvariantCheckerTests {
    static func kernel() throws -> Kernel {
        let m = try TopologyLoader.load(.synthetic("pack:1 [numa] core:1 pu:1"))
        var c = MemoryConfig()
        c.perNodeBytes = 8 << 20; c.dmaBytes = 0; c.dma32Bytes = 0; c.kswapd = false; c.prefault = false
        return try Kernel(machine: m, mapping: CPUMapping(model: m, host: HostBinding.shared.machine, modelIsHost: false), config: c)
    }

    @Test("A clean machine passes; a leaked page and a leaked slab object are named with the seed")
    func leaks() throws {
        let k = try Self.kernel()
        let slab = try SlabAllocator(kernel: k)
        let cpu = k.cpus[0]
        #expect(InvariantChecker(kernel: k, slab: slab, seed: 9).check().isEmpty)
        let page = try #require(k.allocPages(cpu, .kernel, order: 2))
        let obj = try #require(slab.kmalloc(cpu, 100, .kernel))
        let v = InvariantChecker(kernel: k, slab: slab, seed: 9).check()
        #expect(v.contains { $0.contains("still allocated") && $0.contains("[seed 9]") })
        #expect(v.contains { $0.contains("kmalloc-128: 1 object(s) not freed") })
        slab.kfree(cpu, obj)
        k.freePages(cpu, page, order: 2)
        slab.flushAll(cpu: cpu)
        k.drainPCP(cpu)
        #expect(InvariantChecker(kernel: k, slab: slab, seed: 9).check().isEmpty)
    }

    @Test("Slabs SLUB's debug checks keep for good (a refused free of a corrupted object) are the only pages a finished run may hold")
    func debugKeptSlabs() throws {
        let k = try Self.kernel()
        let slab = try SlabAllocator(kernel: k, slubDebug: .full)
        let cpu = k.cpus[0]
        let c = try slab.createCache(name: "kept", size: 64)
        let obj = try #require(c.alloc(cpu, .kernel))
        obj.storeBytes(of: 0, toByteOffset: 64, as: UInt8.self)   // past the end: the free is refused
        c.free(cpu, obj)
        #expect(c.refusedFrees == 1)
        slab.flushAll(cpu: cpu)
        k.drainPCP(cpu)
        #expect(slab.debugKeptSlabPages == 1 << c.layout.order)
        #expect(InvariantChecker(kernel: k, slab: slab).check().isEmpty)
        let page = try #require(k.allocPages(cpu, .kernel, order: 0))
        #expect(InvariantChecker(kernel: k, slab: slab).check().contains { $0.contains("slabs SLUB's debug checks keep") })
        k.freePages(cpu, page, order: 0)
    }

    @Test("A slab counter that disagrees with mem_map is caught by the recount")
    func recount() throws {
        let k = try Self.kernel()
        let slab = try SlabAllocator(kernel: k)
        let cpu = k.cpus[0]
        let obj = try #require(slab.kmalloc(cpu, 64, .kernel))
        let pfn = try #require(k.virtToPFN(obj))
        k.pfnToPage(pfn).pointee.flags.remove(.slab)   // corrupt struct page on purpose
        #expect(slab.checkSlabs(expectEmpty: false).contains { $0.contains("kmalloc-64") && $0.contains("mem_map") })
        k.pfnToPage(pfn).pointee.flags.insert(.slab)
        slab.kfree(cpu, obj)
    }
}
