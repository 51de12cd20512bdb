import Foundation
import Testing
@testable import KernelMM

/// CONFIG_DEBUG_ATOMIC_SLEEP's checks (`might_sleep()`, `might_alloc()`) at every entry that
/// may sleep, on every call, and interrupt context told apart from other atomic context where
/// Linux 6.12 treats them differently (`vfree()`).
@Suite struct ContextCheckTests {
    static func make() throws -> (Kernel, SlabAllocator) {
        let k = try TestKernel.make("pack:1 [numa] core:2 pu:1", perNode: 16 << 20)
        return (k, try SlabAllocator(kernel: k))
    }

    @Test("slab_pre_alloc_hook: might_alloc() reports a GFP_KERNEL kmalloc in atomic context even when the CPU freelist serves it")
    func mightAllocOnFastPath() throws {
        let (k, s) = try Self.make()
        let cpu = k.cpus[0]
        let warm = try #require(s.kmalloc(cpu, 64, .kernel))
        s.kfree(cpu, warm)   // the CPU slab now has free objects: the next kmalloc needs no page
        let pagesBefore = k.events(zone: 2).totalAllocs
        let p = cpu.atomicSection { s.kmalloc(cpu, 64, .kernel) }
        #expect(p != nil)
        #expect(k.events(zone: 2).totalAllocs == pagesBefore, "served from the CPU freelist")
        #expect(k.log.count(.sleepInAtomic) == 1)
        #expect(k.log.text.contains("sleeping function called from invalid context at mm/slub.c slab_pre_alloc_hook"))
        let q = cpu.atomicSection { s.kmalloc(cpu, 64, .atomic) }
        #expect(k.log.count(.sleepInAtomic) == 1, "GFP_ATOMIC has no __GFP_DIRECT_RECLAIM: nothing to report")
        s.kfree(cpu, p); s.kfree(cpu, q)
    }

    @Test("might_alloc() checks once per call: kmalloc in atomic context that reaches the page allocator is one report, not two")
    func onceThroughThePageAllocator() throws {
        let (k, s) = try Self.make()
        let cpu = k.cpus[0]
        let cache = try s.createCache(name: "fresh", size: 256)
        let p = cpu.atomicSection { cache.alloc(cpu, .kernel) }   // no slab yet: a new one from the buddy allocator
        #expect(p != nil && cache.slabs == 1)
        #expect(k.log.count(.sleepInAtomic) == 1)
        cache.free(cpu, p!)
    }

    @Test("kmem_cache_alloc_node() for another node checks might_alloc() too")
    func mightAllocRemoteNode() throws {
        let k = try TestKernel.make("pack:2 [numa] core:1 pu:1", perNode: 16 << 20)
        let s = try SlabAllocator(kernel: k)
        let cpu = k.cpus[0]
        let cache = try s.createCache(name: "remote", size: 128)
        let p = cpu.atomicSection { cache.allocNode(cpu, .kernel, node: 1) }
        #expect(k.log.count(.sleepInAtomic) == 1)
        if let p { cache.free(cpu, p) }
    }

    @Test("mutex_lock(): might_sleep() reports a caller in atomic context on every call, also when the mutex is free")
    func mutexUncontended() {
        let log = KernelLog()
        let lock = KernelLock(name: "test mutex", policy: .mutex, log: log)
        let cpu = CPUContext(id: 0, node: 0, zoneCount: 1)
        for _ in 0..<3 { cpu.atomicSection { lock.withLock(mayBlock: true, cpu: cpu) {} } }
        #expect(log.count(.sleepInAtomic) == 3)
        #expect(lock.snapshot().contended == 0)
        lock.withLock(mayBlock: true, cpu: cpu) {}
        cpu.atomicSection { lock.withLock(mayBlock: false, cpu: cpu) {} }   // a caller that does not sleep
        #expect(log.count(.sleepInAtomic) == 3)
    }

    @Test("vfree(): from an interrupt handler deferred to vfree_atomic() without a report; from other atomic context might_sleep() reports")
    func vfreeContext() throws {
        let k = try TestKernel.make()
        let v = try Vmalloc(kernel: k, bytes: 1 << 20)
        let cpu = k.cpus[0]
        let a = try #require(v.vmalloc(cpu, 8192))
        let b = try #require(v.vmalloc(cpu, 8192))
        cpu.interruptSection { v.vfree(cpu, a) }
        #expect(k.log.count(.sleepInAtomic) == 0)
        #expect(v.pendingDeferred == 1 && v.deferredFrees == 1)
        #expect(v.mappedPages == 4, "still mapped until process context runs the deferred free")
        cpu.atomicSection { v.vfree(cpu, b) }
        #expect(k.log.count(.sleepInAtomic) == 1)
        #expect(k.log.text.contains("at mm/vmalloc.c vfree"))
        #expect(k.log.text.contains("irqs_disabled(): 0"))
        v.runDeferred(cpu)
        #expect(v.pendingDeferred == 0 && v.mappedPages == 0)
    }

    @Test("An interrupt handler is atomic context: GFP_KERNEL there is reported, with irqs_disabled(): 1")
    func interruptIsAtomic() throws {
        let (k, s) = try Self.make()
        let cpu = k.cpus[0]
        let p = cpu.interruptSection { () -> UnsafeMutableRawPointer? in
            #expect(cpu.inAtomic && cpu.inInterrupt)
            return s.kmalloc(cpu, 32, .kernel)
        }
        #expect(!cpu.inAtomic && !cpu.inInterrupt)
        #expect(k.log.count(.sleepInAtomic) == 1)
        #expect(k.log.text.contains("irqs_disabled(): 1"))
        s.kfree(cpu, p)
    }

    @Test("free_slab() under SLAB_CONSISTENCY_CHECKS: a write after free into an object nobody allocates again is caught when the slab is discarded")
    func poisonCheckedAtDiscard() throws {
        let (k, s) = try Self.make()
        let cpu = k.cpus[0]
        let cache = try s.createCache(name: "uaf", size: 96, flags: [.poison, .consistencyChecks])
        let a = try #require(cache.alloc(cpu, .kernel))
        cache.free(cpu, a)
        a.storeBytes(of: 0, toByteOffset: 40, as: UInt8.self)   // use after free, never allocated again
        #expect(cache.errors(.poison) == 0)
        cache.flush(cpu)
        cache.shrink(cpu)
        #expect(cache.slabs == 0)
        #expect(cache.errors(.poison) == 1)
        #expect(k.log.text.contains("Poison overwritten"))
    }

    @Test("Without SLAB_CONSISTENCY_CHECKS free_slab() checks nothing (poison alone is checked at allocation only)")
    func noCheckAtDiscardWithoutConsistency() throws {
        let (k, s) = try Self.make()
        let cpu = k.cpus[0]
        let cache = try s.createCache(name: "uaf2", size: 96, flags: [.poison])
        let a = try #require(cache.alloc(cpu, .kernel))
        cache.free(cpu, a)
        a.storeBytes(of: 0, toByteOffset: 40, as: UInt8.self)
        cache.flush(cpu)
        cache.shrink(cpu)
        #expect(cache.errors(.poison) == 0)
        _ = k
    }
}

/// Entries that take sleeping locks (slab_mutex, mmap_lock) check might_sleep() too; mmap and
/// munmap through the mmap_lock, a mutex whose lock() checks it (down_write()'s might_sleep()).
@Suite struct SleepingEntryTests {
    @Test("kmem_cache_destroy(), mmap() and munmap() call might_sleep(): reported from atomic context")
    func sleepingEntries() throws {
        let k = try TestKernel.make(perNode: 16 << 20)
        let s = try SlabAllocator(kernel: k)
        let mmu = try MMU(kernel: k)
        let cpu = k.cpus[0]
        let cache = try s.createCache(name: "gone", size: 64)
        try cpu.atomicSection { try s.destroyCache(cache, cpu: cpu) }
        #expect(k.log.count(.sleepInAtomic) == 1)
        let space = try mmu.createAddressSpace(name: "t", cpu: cpu)
        let va = cpu.atomicSection { mmu.mmap(cpu, space, length: 4096) }
        #expect(k.log.count(.sleepInAtomic) == 2)
        cpu.atomicSection { mmu.munmap(cpu, space, va!, length: 4096) }
        #expect(k.log.count(.sleepInAtomic) == 3)
        _ = mmu.mmap(cpu, space, length: 4096)
        #expect(k.log.count(.sleepInAtomic) == 3, "process context: quiet")
        mmu.destroy(space, cpu: cpu)
    }
}
