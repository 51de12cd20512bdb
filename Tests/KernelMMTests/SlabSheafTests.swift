import Testing
import Foundation
@testable import KernelMM

/// Percpu sheaves and node barns (mm/slub.c, Linux 6.18 `alloc_from_pcs` / `free_to_pcs` /
/// `__pcs_replace_empty_main` / `__pcs_replace_full_main`; 7.0 `calculate_sheaf_capacity`).
@Suite struct SlabSheafTests {
    static func make(_ shape: String = "pack:1 [numa] core:2 pu:1", capacity: Int, mode: SheafMode = .optIn,
                     flags: SlabFlags = []) throws -> (Kernel, SlabAllocator, KmemCache) {
        let k = try TestKernel.make(shape, perNode: 16 << 20)
        let s = try SlabAllocator(kernel: k, sheaves: mode)
        return (k, s, try s.createCache(name: "obj", size: 200, flags: flags, sheafCapacity: capacity))
    }

    static func sheaf(_ s: SlabAllocator, _ c: KmemCache) throws -> SlabAllocator.SheafStats { try #require(s.stats(c).sheaves) }

    @Test("calculate_sheaf_capacity() (7.0): 60, 28, 12, 4 objects by slot size; opt-in takes the asked capacity; debug caches have none")
    func capacity() throws {
        #expect(SlabSheaf.defaultCapacity(slotSize: 64) == 60)      // 32 + 60 × 8 = 512, a kmalloc-512 object
        #expect(SlabSheaf.defaultCapacity(slotSize: 256) == 28)     // 26 → 240 bytes, rounded up to 256
        #expect(SlabSheaf.defaultCapacity(slotSize: 1024) == 12)
        #expect(SlabSheaf.defaultCapacity(slotSize: 8192) == 4)
        #expect(SlabSheaf.capacity(mode: .optIn, requested: 0, slotSize: 64, debug: false) == 0)
        #expect(SlabSheaf.capacity(mode: .optIn, requested: 32, slotSize: 64, debug: false) == 32)
        #expect(SlabSheaf.capacity(mode: .all, requested: 32, slotSize: 64, debug: false) == 60)
        #expect(SlabSheaf.capacity(mode: .all, requested: 100, slotSize: 64, debug: false) == 100)
        #expect(SlabSheaf.capacity(mode: .all, requested: 100, slotSize: 64, debug: true) == 0)
        // Under 6.18's opt-in the kmalloc caches have none; under 7.0's rule every one has.
        let (_, optIn, _) = try Self.make(capacity: 8)
        #expect(optIn.kmallocNormal.allSatisfy { $0.sheafCapacity == 0 })
        let (_, all, c) = try Self.make(capacity: 8, mode: .all)
        #expect(all.kmallocNormal.allSatisfy { $0.sheafCapacity > 0 })
        #expect(c.sheafCapacity == 60, "a 200-byte slot: the default of 60 beats the 8 asked for")
    }

    @Test("alloc_from_pcs(): a refill takes a whole sheaf from the slabs, then the CPU allocates and frees LIFO on it")
    func lifoOnMain() throws {
        let (k, s, c) = try Self.make(capacity: 8)
        let cpu = k.cpus[0]
        let a = try #require(c.alloc(cpu, .kernel))
        var st = try Self.sheaf(s, c)
        #expect(st.sheafRefill == 8 && st.allocCPUSheaf == 1 && st.sheafAlloc == 1 && st.barnGetFail == 1)
        c.free(cpu, a)
        #expect(c.alloc(cpu, .kernel) == a, "the object freed last is handed out first")
        st = try Self.sheaf(s, c)
        #expect(st.freeCPUSheaf == 1 && st.allocCPUSheaf == 2 && st.sheafRefill == 8)
        let slubStats = s.stats(c)
        #expect(slubStats.allocFastpath == 0 && slubStats.freeFastpath == 0 && slubStats.freeSlowpath == 0,
                "nothing went through the CPU slab's own paths")
        #expect(c.objectsInUse == 1)
        c.free(cpu, a)
        #expect(c.objectsInUse == 0)
    }

    @Test("__pcs_replace_full_main(): the spare, then the barn up to MAX_FULL_SHEAVES full sheaves, then the spare is flushed to the slabs")
    func barnLimit() throws {
        let (k, s, c) = try Self.make(capacity: 4)
        let cpu = k.cpus[0]
        let objs = (0..<100).map { _ in c.alloc(cpu, .kernel)! }
        for o in objs { c.free(cpu, o) }
        let st = try Self.sheaf(s, c)
        let barn = c.barns[0]
        // 100 frees: 4 on main, 4 after swapping in the empty spare, then a full sheaf into
        // the barn every 4 frees (the barn has no empty one to give: a new sheaf each time)
        // until it holds 10; from then on every 4 frees flush the full spare (4 objects).
        #expect(st.barnPut == UInt64(NodeBarn.maxFull))
        #expect(barn.fullCount == NodeBarn.maxFull)
        #expect(st.barnPutFail == 13 && st.sheafFlush == 52)   // frees 49…100: 13 rounds of 4
        #expect(st.freeCPUSheaf == 100 && c.objectsInUse == 0)
        // Kept in sheaves: 10 full in the barn, a full spare and a full main.
        #expect(Int(st.sheafRefill) - Int(st.sheafFlush) == 48)
        #expect(st.sheafAlloc == 12, "main and spare, and one for each full sheaf the barn took")
        s.flushAll(cpu: cpu)
        #expect(c.slabs == 0)
        #expect(s.checkSlabs(expectEmpty: true).isEmpty)
    }

    @Test("A CPU whose sheaves are empty takes a full one from the node's barn, which another CPU filled by freeing")
    func barnFeedsOtherCPU() throws {
        let (k, s, c) = try Self.make(capacity: 4)
        let producer = k.cpus[0], consumer = k.cpus[1]
        let objs = (0..<40).map { _ in c.alloc(producer, .kernel)! }
        for o in objs { c.free(consumer, o) }   // same node: into CPU 1's sheaves and the barn
        let refilled = try Self.sheaf(s, c).sheafRefill
        #expect(c.barns[0].fullCount > 0)
        let before = c.sheafStats(0).barnGet
        for _ in 0..<8 { _ = c.alloc(producer, .kernel) }
        #expect(c.sheafStats(0).barnGet > before, "a full sheaf came from the barn")
        #expect(try Self.sheaf(s, c).sheafRefill == refilled, "no object came from a slab")
    }

    @Test("Sheaves hold local memory only: a remote-node object is freed to its slab, and a remote-node request skips the sheaves")
    func remoteNodeBypass() throws {
        let (k, s, c) = try Self.make("pack:2 [numa] core:1 pu:1", capacity: 8)
        let cpu = k.cpus[0]
        #expect(cpu.node == 0)
        let remote = try #require(c.allocNode(cpu, .kernel, node: 1))
        #expect(k.pfnToNode(k.virtToPFN(remote)!) == 1)
        #expect(try Self.sheaf(s, c).allocCPUSheaf == 0)
        c.free(cpu, remote)
        #expect(try Self.sheaf(s, c).freeCPUSheaf == 0)
        #expect(s.stats(c).freeSlowpath == 1)
        // A local object goes onto the sheaf.
        let local = try #require(c.alloc(cpu, .kernel))
        c.free(cpu, local)
        #expect(try Self.sheaf(s, c).freeCPUSheaf == 1)
    }

    @Test("kmem_cache_alloc_node() for the CPU's own node hands out the sheaf's top object only if it is from that node; a plain allocation takes it")
    func allocNodeChecksTheTop() throws {
        let (k, _, c) = try Self.make("pack:2 [numa] core:1 pu:1", capacity: 8)
        let cpu = k.cpus[0]
        let local = try #require(c.alloc(cpu, .kernel))   // main now a real sheaf with 7 objects
        let remote = try #require(c.allocNode(cpu, .kernel, node: 1))
        // A remote object on top, as a refill from another node's CPU slab would leave it.
        let main = c.sheaves[cpu.id].main
        SlabSheaf.objects(main)[main.pointee.size] = remote
        main.pointee.size += 1
        let got = try #require(c.allocNode(cpu, .kernel, node: 0))
        #expect(got != remote && k.pfnToNode(k.virtToPFN(got)!) == 0)
        #expect(main.pointee.size == 8, "the sheaf was left alone")
        #expect(c.alloc(cpu, .kernel) == remote, "NUMA_NO_NODE takes whatever is on top")
        for o in [local, remote, got] { c.free(cpu, o) }
    }

    @Test("A pointer into a page that is not a slab is refused even when its cacheID word matches (it holds an ASID on anonymous pages)")
    func notASlabPage() throws {
        let (k, s, c) = try Self.make(capacity: 8)
        let cpu = k.cpus[0]
        let page = try #require(k.getFreePages(cpu, .kernel, order: 0))
        let meta = k.pfnToPage(k.virtToPFN(page)!)
        meta.pointee.cacheID = c.id
        c.free(cpu, page)
        #expect(c.errors(.invalidPointer) == 1)
        #expect(try Self.sheaf(s, c).freeCPUSheaf == 0)
        meta.pointee.cacheID = -1
        k.freePages(cpu, address: page, order: 0)
    }

    @Test("kmem_cache_destroy() of a cache with sheaves: objects held in sheaves and barns are not the caller's, so it goes")
    func destroyWithSheaves() throws {
        let (k, s, c) = try Self.make(capacity: 4)
        let cpu = k.cpus[0]
        let objs = (0..<60).map { _ in c.alloc(cpu, .kernel)! }
        for o in objs { c.free(k.cpus[1], o) }
        #expect(c.barns[0].fullCount > 0)
        try s.destroyCache(c, cpu: cpu)
        #expect(c.slabs == 0)
        #expect(!s.allCaches.contains { $0 === c })
    }

    @Test("An allocation that may not block does not refill a sheaf (gfpflags_allow_blocking): the slabs serve it")
    func atomicDoesNotRefill() throws {
        let (k, s, c) = try Self.make(capacity: 8)
        let cpu = k.cpus[0]
        let o = try #require(c.alloc(cpu, .atomic))
        let st = try Self.sheaf(s, c)
        #expect(st.sheafRefill == 0 && st.allocCPUSheaf == 0 && st.barnGetFail == 1)
        #expect(s.stats(c).allocFastpath + s.stats(c).allocSlowpath == 1)
        c.free(cpu, o)   // a free needs no allocation that could block: onto a new sheaf
        #expect(try Self.sheaf(s, c).freeCPUSheaf == 1)
    }

    @Test("__GFP_ZERO zeroes an object from a sheaf; kmem_cache_free() of another cache's object is reported, not stored")
    func zeroAndWrongCache() throws {
        let (k, s, c) = try Self.make(capacity: 8)
        let cpu = k.cpus[0]
        let o = try #require(c.alloc(cpu, .kernel))
        memset(o, 0xAB, 200)
        c.free(cpu, o)
        let z = try #require(c.alloc(cpu, GFP.kernel.union(.zero)))
        #expect(z == o)
        #expect(UnsafeRawBufferPointer(start: z, count: 200).allSatisfy { $0 == 0 })
        let other = try s.createCache(name: "other", size: 200, sheafCapacity: 8)
        let foreign = try #require(other.alloc(cpu, .kernel))
        let pushed = try Self.sheaf(s, c).freeCPUSheaf
        c.free(cpu, foreign)
        #expect(c.errors(.wrongCache) == 1)
        #expect(try Self.sheaf(s, c).freeCPUSheaf == pushed)
        c.free(cpu, z)
    }

    @Test("pcs_flush_all() and barn_shrink(): after churn on two CPUs every object and slab page goes back")
    func flushReturnsEverything() throws {
        let (k, s, c) = try Self.make(capacity: 6, mode: .all)
        var rng = SplitMix(seed: 3)
        var held: [[UnsafeMutableRawPointer]] = [[], []]
        for _ in 0..<20_000 {
            let r = rng.next()
            let cpu = k.cpus[Int(r & 1)]
            if r & 2 == 0 || held[cpu.id].isEmpty {
                if let o = r & 4 == 0 ? c.alloc(cpu, .kernel) : s.kmalloc(cpu, 8 + Int(r >> 8) % 3000, .kernel) { held[cpu.id].append(o) }
            } else {
                // Freed by either CPU: objects move between the two CPUs' sheaves.
                let o = held[cpu.id].remove(at: Int(r >> 16) % held[cpu.id].count)
                s.kfree(k.cpus[Int(r >> 5) & 1], o)
            }
        }
        for (i, list) in held.enumerated() { for o in list { s.kfree(k.cpus[i], o) } }
        #expect(s.allCaches.allSatisfy { $0.objectsInUse == 0 })
        s.flushAll(cpu: k.cpus[0])
        #expect(s.allCaches.allSatisfy { $0.slabs == 0 })
        // Every sheaf made was freed again, but the main sheaf each CPU keeps (pcs_flush_all()
        // empties it and leaves it in place).
        for cache in s.allCaches where cache.hasSheaves {
            let st = try #require(s.stats(cache).sheaves)
            let mains = k.cpus.filter { cache.sheaves[$0.id].main != cache.bootstrapSheaf }.count
            #expect(Int(st.sheafAlloc) - Int(st.sheafFree) == mains, "\(cache.name)")
            #expect(k.cpus.allSatisfy { cache.sheaves[$0.id].spare == nil && cache.sheaves[$0.id].main.pointee.size == 0 })
        }
        for cpu in k.cpus { k.drainPCP(cpu) }
        let v = k.checkPages(expectAllFree: true)
        #expect(v.isEmpty, "\(v.prefix(3))")
    }
}
