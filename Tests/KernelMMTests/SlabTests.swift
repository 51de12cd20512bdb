import Testing
import Foundation
@testable import KernelMM

/// Slab rules in the spirit of lib/slub_kunit.c and mm/slab_common.c, each test naming its rule.
@Suite struct SlabTests {
    static func make(_ shape: String = "pack:2 [numa] core:1 pu:1", perNode: Int = 16 << 20,
                     debug: SlabFlags = []) throws -> (Kernel, SlabAllocator) {
        let k = try TestKernel.make(shape, perNode: perNode)
        return (k, try SlabAllocator(kernel: k, debug: debug))
    }

    @Test("ksize(kmalloc(100)) is 128: the kmalloc-128 class")
    func ksize100() throws {
        let (k, s) = try Self.make()
        let cpu = k.cpus[0]
        let p = try #require(s.kmalloc(cpu, 100, .kernel))
        #expect(s.ksize(p) == 128)
        #expect(s.kmallocCache(size: 100, gfp: .kernel)?.name == "kmalloc-128")
        for (size, name) in [(1, "kmalloc-8"), (9, "kmalloc-16"), (65, "kmalloc-96"), (97, "kmalloc-128"),
                             (129, "kmalloc-192"), (193, "kmalloc-256"), (257, "kmalloc-512"), (4097, "kmalloc-8k")] {
            #expect(s.kmallocCache(size: size, gfp: .kernel)?.name == name, "size \(size)")
        }
        s.kfree(cpu, p)
    }

    @Test("kmalloc(64, GFP_DMA) comes from ZONE_DMA, through dma-kmalloc-64")
    func dmaKmalloc() throws {
        let (k, s) = try Self.make()
        let cpu = k.cpus[0]
        let p = try #require(s.kmalloc(cpu, 64, [.kernel, .dma]))
        let ref = try #require(k.virtToPage(p))
        #expect(k.zones[Int(ref.zone)].type == .dma)
        #expect(s.kmallocCache(size: 64, gfp: [.kernel, .dma])?.name == "dma-kmalloc-64")
        s.kfree(cpu, p)
        let q = try #require(s.kmalloc(cpu, 64, .kernel))
        #expect(k.zones[Int(k.virtToPage(q)!.zone)].type == .normal)
        s.kfree(cpu, q)
    }

    @Test("Above KMALLOC_MAX_CACHE_SIZE kmalloc takes whole pages and kfree knows; kmalloc(0) is ZERO_SIZE_PTR")
    func largeAndZero() throws {
        let (k, s) = try Self.make()
        let cpu = k.cpus[0]
        let big = try #require(s.kmalloc(cpu, 3 * PAGE_SIZE, .kernel))
        #expect(s.ksize(big) == 4 * PAGE_SIZE)
        #expect(Int(bitPattern: UInt(bitPattern: big)) % PAGE_SIZE == 0)
        s.kfree(cpu, big)
        #expect(s.kmalloc(cpu, 0, .kernel) == SlabAllocator.zeroSizePointer)
        s.kfree(cpu, SlabAllocator.zeroSizePointer)
        s.kfree(cpu, nil)
        #expect(s.ksize(SlabAllocator.zeroSizePointer) == 0)
        k.drainPCP(cpu)
        s.flushAll(cpu: cpu)
        k.drainPCP(cpu)
        #expect(k.checkPages(expectAllFree: true).isEmpty)
    }

    @Test("kzalloc zeroes, kcalloc refuses overflow, krealloc keeps contents and the block while it fits")
    func family() throws {
        let (k, s) = try Self.make()
        let cpu = k.cpus[0]
        let a = try #require(s.kmalloc(cpu, 40, .kernel))
        memset(a, 0x5a, 40)
        s.kfree(cpu, a)
        let z = try #require(s.kzalloc(cpu, 40, .kernel))
        #expect(UnsafeRawBufferPointer(start: z, count: 40).allSatisfy { $0 == 0 })
        #expect(s.kcalloc(cpu, Int.max / 2, 4, .kernel) == nil)
        let c = try #require(s.kcalloc(cpu, 10, 8, .kernel))
        #expect(s.ksize(c) == 96)
        memset(c, 7, 80)
        #expect(s.krealloc(cpu, c, 90, .kernel) == c, "96 bytes still fit 90")
        let d = try #require(s.krealloc(cpu, c, 300, .kernel))
        #expect(d != c)
        #expect(UnsafeRawBufferPointer(start: d, count: 80).allSatisfy { $0 == 7 })
        #expect(s.ksize(d) == 512)
        s.kfree(cpu, d)
        s.kfree(cpu, z)
    }

    @Test("ctor runs once per object when a slab is set up, not on reuse")
    func ctorOncePerObject() throws {
        let (k, s) = try Self.make()
        let cpu = k.cpus[0]
        let cache = try s.createCache(name: "ctor_test", size: 200, ctor: { $0.storeBytes(of: 0xC0FFEE, as: UInt64.self) })
        let n = cache.layout.objectsPerSlab
        var objs = (0..<(n + 1)).compactMap { _ in cache.alloc(cpu, .kernel) }
        #expect(objs.count == n + 1)
        #expect(cache.slabs == 2)
        #expect(cache.ctorCalls == 2 * n)
        #expect(objs.allSatisfy { $0.load(as: UInt64.self) == 0xC0FFEE })
        objs.forEach { cache.free(cpu, $0) }
        objs = (0..<n).compactMap { _ in cache.alloc(cpu, .kernel) }
        #expect(cache.ctorCalls == 2 * n, "reused objects are not constructed again")
        objs.forEach { cache.free(cpu, $0) }
    }

    @Test("SLAB_RED_ZONE with F: a clobbered red zone is reported on free (free_consistency_checks) and the object is not freed")
    func redZone() throws {
        let (k, s) = try Self.make()
        let cpu = k.cpus[0]
        let cache = try s.createCache(name: "rz_test", size: 64, flags: [.redZone, .consistencyChecks])
        let a = try #require(cache.alloc(cpu, .kernel))
        a.storeBytes(of: 0x11, toByteOffset: 64, as: UInt8.self)   // one past the end
        cache.free(cpu, a)
        #expect(cache.errors(.redZone) == 1)
        #expect(k.log.text.contains("BUG rz_test (Not tainted): Right Redzone overwritten"))
        #expect(k.log.text.contains("FIX rz_test: Object at \(KmemCache.hex(a)) not freed"))
        #expect(cache.objectsInUse == 1, "free_debug_processing() leaves a failed object allocated")
        #expect(cache.refusedFrees == 1)
        #expect(s.checkSlabs(expectEmpty: false).isEmpty)
        let b = try #require(cache.alloc(cpu, .kernel))
        b.storeBytes(of: 0x22, toByteOffset: -1, as: UInt8.self)   // one before the start
        cache.free(cpu, b)
        #expect(cache.errors(.redZone) == 2)
        #expect(k.log.text.contains("Left Redzone overwritten"))
        // The zones were restored: a clean cycle reports nothing more.
        let c = try #require(cache.alloc(cpu, .kernel))
        cache.free(cpu, c)
        #expect(cache.errors(.redZone) == 2)
        #expect(cache.validate().errors == 0)
    }

    @Test("SLAB_POISON with F: a write after free is Poison overwritten when the object is next allocated; the slab is marked all used")
    func poison() throws {
        let (k, s) = try Self.make()
        let cpu = k.cpus[0]
        let cache = try s.createCache(name: "poison_test", size: 96, flags: [.poison, .consistencyChecks])
        let a = try #require(cache.alloc(cpu, .kernel))
        #expect(a.load(fromByteOffset: 0, as: UInt8.self) == SlabPoison.free)
        #expect(a.load(fromByteOffset: 95, as: UInt8.self) == SlabPoison.end)
        let held = try #require(cache.alloc(cpu, .kernel))
        cache.free(cpu, a)
        a.storeBytes(of: 0, toByteOffset: 10, as: UInt8.self)      // use after free
        let b = try #require(cache.alloc(cpu, .kernel))
        #expect(b != a, "alloc_debug_processing() failed: the slab is out of service, a new one serves")
        #expect(cache.errors(.poison) == 1)
        #expect(k.log.text.contains("Poison overwritten"))
        #expect(k.log.text.contains("FIX poison_test: Marking all objects used"))
        #expect(cache.slabs == 2)
        #expect(cache.disabledSlabs == 1)
        cache.free(cpu, b)
        _ = held
    }

    @Test("Invalid object pointer and wrong cache are reported; the object still reaches its own cache")
    func invalidPointers() throws {
        let (k, s) = try Self.make()
        let cpu = k.cpus[0]
        let a = try s.createCache(name: "a_cache", size: 64, flags: .consistencyChecks)
        let b = try s.createCache(name: "b_cache", size: 64)
        let x = try #require(a.alloc(cpu, .kernel))
        a.free(cpu, x + 8)
        #expect(a.errors(.invalidPointer) == 1)
        #expect(k.log.text.contains("Invalid object pointer"))
        let y = try #require(b.alloc(cpu, .kernel))
        a.free(cpu, y)
        #expect(a.errors(.wrongCache) == 1)
        #expect(k.log.text.contains("Wrong slab cache. a_cache but object is from b_cache"))
        #expect(b.objectsInUse == 0)
        let outside = malloc(64)!
        s.kfree(cpu, outside)
        free(outside)
        #expect(s.kmallocNormal[0].errors(.invalidPointer) == 1)
        a.free(cpu, x)
        #expect(a.objectsInUse == 0)
    }

    @Test("A remote free from a CPU on another node is counted and the object is reused by its owner")
    func remoteFree() throws {
        let (k, s) = try Self.make()
        let owner = k.cpus[0], remote = k.cpus[1]
        #expect(owner.node == 0 && remote.node == 1)
        let cache = try s.createCache(name: "remote_test", size: 256)
        let n = cache.layout.objectsPerSlab
        let objs = (0..<n).compactMap { _ in cache.alloc(owner, .kernel) }
        #expect(cache.slabs == 1, "one slab, all of it handed out")
        cache.free(remote, objs[3])
        #expect(cache.remoteFreeMatrix() == [[0, 0], [1, 0]], "freed on node 1, slab on node 0")
        let again = try #require(cache.alloc(owner, .kernel))
        #expect(again == objs[3], "the owner takes the remotely freed object back from its slab")
        #expect(cache.slabs == 1)
        for (i, o) in objs.enumerated() where i != 3 { cache.free(owner, o) }
        cache.free(owner, again)
        #expect(cache.objectsInUse == 0)
    }

    @Test("kmem_cache_destroy with live objects fails with 'Slab cache still has objects'")
    func destroyBusy() throws {
        let (k, s) = try Self.make()
        let cpu = k.cpus[0]
        let cache = try s.createCache(name: "busy_test", size: 128)
        let a = try #require(cache.alloc(cpu, .kernel))
        #expect(throws: SlabError.self) { try s.destroyCache(cache, cpu: cpu) }
        #expect(k.log.text.contains("Slab cache still has objects"))
        cache.free(cpu, a)
        try s.destroyCache(cache, cpu: cpu)
        #expect(!s.allCaches.contains { $0 === cache })
        k.drainPCP(cpu)
    }

    @Test("SLAB_PANIC turns a failed kmem_cache_create into a kernel panic")
    func panic() throws {
        let (_, s) = try Self.make()
        #expect(throws: SlabError.self) { try s.createCache(name: "huge", size: 1 << 20) }
        #expect(throws: KernelPanic.self) { try s.createCache(name: "huge_panic", size: 1 << 20, flags: .panic) }
        #expect(throws: SlabError.self) { try s.createCache(name: "bad_align", size: 64, align: 48) }
    }

    @Test("Layout: HWCACHE_ALIGN halves the line while two objects fit; MUST_HWCACHE_ALIGN always a line; order from calculate_order")
    func layout() throws {
        #expect(try SlabLayout(size: 100, align: 0, flags: .hwcacheAlign, hasCtor: false, cpus: 2).size == 128)
        #expect(try SlabLayout(size: 20, align: 0, flags: .hwcacheAlign, hasCtor: false, cpus: 2).align == 32)
        #expect(try SlabLayout(size: 20, align: 0, flags: .mustHwcacheAlign, hasCtor: false, cpus: 2).size == 64)
        #expect(try SlabLayout(size: 24, align: 0, flags: [], hasCtor: false, cpus: 2).size == 24)
        let l = try SlabLayout(size: 232, align: 0, flags: .hwcacheAlign, hasCtor: false, cpus: 16)
        #expect(l.size == 256)
        #expect(l.objectsPerSlab * l.size <= PAGE_SIZE << l.order)
        #expect(l.objectsPerSlab >= 4 * (5 + 1) || l.order == SlabLayout.maxOrder)
    }

    @Test("SLAB_CACHE_DMA takes its slabs from ZONE_DMA")
    func cacheDMA() throws {
        let (k, s) = try Self.make()
        let cpu = k.cpus[0]
        let cache = try s.createCache(name: "dma_cache", size: 512, flags: .cacheDMA)
        let p = try #require(cache.alloc(cpu, .kernel))
        #expect(k.zones[Int(k.virtToPage(p)!.zone)].type == .dma)
        cache.free(cpu, p)
    }

    @Test("Every object and slab page goes back: flush, shrink, and the zones are as at boot")
    func allBack() throws {
        let (k, s) = try Self.make()
        let cpu = k.cpus[0]
        var ptrs: [UnsafeMutableRawPointer] = []
        for i in 0..<5000 { if let p = s.kmalloc(cpu, 8 + (i * 37) % 3000, .kernel) { ptrs.append(p) } }
        #expect(ptrs.count == 5000)
        ptrs.shuffled().forEach { s.kfree(cpu, $0) }
        s.flushAll(cpu: cpu)
        k.drainPCP(cpu)
        #expect(s.allCaches.allSatisfy { $0.slabs == 0 })
        let v = k.checkPages(expectAllFree: true)
        #expect(v.isEmpty, "\(v.prefix(3))")
    }

    @Test("SLAB_NO_REAP caches keep their empty slabs when reclaim shrinks")
    func noReap() throws {
        let (k, s) = try Self.make()
        let cpu = k.cpus[0]
        let keep = try s.createCache(name: "keep", size: 1024, flags: .noReap)
        let reap = try s.createCache(name: "reap", size: 1024)
        for cache in [keep, reap] {
            let objs = (0..<(8 * cache.layout.objectsPerSlab)).compactMap { _ in cache.alloc(cpu, .kernel) }
            objs.forEach { cache.free(cpu, $0) }
            cache.flush(cpu)
        }
        let keepSlabs = keep.slabs
        _ = k.shrinkNode(0, target: 1 << 20, cpu: cpu)
        #expect(keep.slabs == keepSlabs)
        #expect(reap.slabs == 0)
    }

    @Test("/proc/slabinfo 2.1 text in the kernel's columns, and a slabtop table")
    func slabinfo() throws {
        let (k, s) = try Self.make()
        let cpu = k.cpus[0]
        let cache = try s.createCache(name: "skbuff_head_cache", size: 232, flags: .hwcacheAlign)
        let objs = (0..<10).compactMap { _ in cache.alloc(cpu, .kernel) }
        let text = s.slabinfo()
        let lines = text.split(separator: "\n")
        #expect(lines[0] == "slabinfo - version: 2.1")
        #expect(lines[1].hasPrefix("# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables"))
        let row = try #require(lines.first { $0.hasPrefix("skbuff_head_cache ") })
        let expected = "skbuff_head_cache " + String(format: "%6d %6d %6d %4d %4d", 10, cache.layout.objectsPerSlab, 256, cache.layout.objectsPerSlab, 1 << cache.layout.order)
            + " : tunables    0    0    0 : slabdata      1      1      0"
        #expect(String(row) == expected)
        #expect(s.slabtop().contains("skbuff_head_cache"))
        objs.forEach { cache.free(cpu, $0) }
    }
}

@Suite struct VmallocTests {
    @Test("vmalloc maps scattered pages contiguously: a write through vmalloc is seen at page_address")
    func aliasing() throws {
        let k = try TestKernel.make(perNode: 16 << 20)
        let v = try Vmalloc(kernel: k, bytes: 8 << 20)
        let cpu = k.cpus[0]
        // Scatter: hold every other page so vmalloc's pages are not contiguous.
        let holes = (0..<16).compactMap { _ in k.allocPages(cpu, .kernel, order: 0) }
        for (i, p) in holes.enumerated() where i % 2 == 0 { k.freePages(cpu, p, order: 0) }
        let size = 5 * PAGE_SIZE + 100
        let addr = try #require(v.vzalloc(cpu, size))
        #expect(UnsafeRawBufferPointer(start: addr, count: size).allSatisfy { $0 == 0 })
        for i in 0..<6 {
            let a = addr + i * PAGE_SIZE + 7
            a.storeBytes(of: UInt8(0x40 + i), as: UInt8.self)
            let pfn = try #require(v.vmallocToPFN(a))
            #expect((k.pfnToVirt(pfn) + 7).load(as: UInt8.self) == UInt8(0x40 + i))
        }
        #expect(v.mappedPages == 6)
        v.vfree(cpu, addr)
        #expect(v.mappedPages == 0)
        v.vfree(cpu, addr)
        #expect(k.log.text.contains("Trying to vfree() nonexistent vm area"))
        for (i, p) in holes.enumerated() where i % 2 == 1 { k.freePages(cpu, p, order: 0) }
        k.drainPCP(cpu)
        #expect(k.checkPages(expectAllFree: true).isEmpty)
    }

    @Test("vmalloc in atomic context is a sleeping-function bug")
    func atomic() throws {
        let k = try TestKernel.make()
        let v = try Vmalloc(kernel: k, bytes: 1 << 20)
        let cpu = k.cpus[0]
        let p = cpu.atomicSection { v.vmalloc(cpu, 100) }
        #expect(k.log.count(.sleepInAtomic) >= 1, "vmalloc's might_sleep, and the page allocator's")
        #expect(k.log.text.contains("BUG: sleeping function called from invalid context at mm/vmalloc.c"))
        v.vfree(cpu, p)
    }
}
