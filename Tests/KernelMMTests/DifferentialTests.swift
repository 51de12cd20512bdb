import Testing
import Foundation
@testable import KernelMM

/// Differential testing: random operation sequences against small sequential reference models.
@Suite struct DifferentialTests {
    static let steps = ProcessInfo.processInfo.environment["DIFF_STEPS"].flatMap(Int.init) ?? 20_000

    /// The locked lists (`__rmqueue_smallest()` / `__free_one_page()`) and the lock-free tree
    /// (`AtomicBuddy`) against the same model: buddy allocation never fails while an aligned free
    /// run of the order exists, because freeing always merges buddies back.
    @Test("Buddy vs a page bitmap: an order-n allocation succeeds exactly when an aligned free 2^n run exists",
          arguments: [LockPolicy.spin, .atomic], [1, 2, 3] as [UInt64])
    func buddy(policy: LockPolicy, seed: UInt64) throws {
        let k = try TestKernel.make("pack:1 [numa] core:1 pu:1", perNode: 4 << 20 + 3 * 4096 * 37, dma: 0, dma32: 0, lock: policy)
        let z = k.nodes[0].zone(.normal)
        var free = [Bool](repeating: true, count: z.pages)
        var held: [(Int32, Int)] = []
        var rng = SplitMix(seed: seed)
        func alignedRunExists(_ order: Int) -> Bool {
            stride(from: 0, to: z.pages - (1 << order) + 1, by: 1 << order).contains { s in (s..<(s + (1 << order))).allSatisfy { free[$0] } }
        }
        for step in 0..<Self.steps {
            if held.isEmpty || rng.next() % 3 != 0 {
                let order = Int(rng.next() % UInt64(z.maxOrder + 1))
                let expected = alignedRunExists(order)
                let got = z.takeBlock(order: order)
                if let i = got { z.meta[Int(i)].flags = .head; z.meta[Int(i)].order = Int8(order) }   // as prep_new_page
                #expect((got != nil) == expected, "step \(step): order \(order) buddy \(got as Any) model \(expected)")
                if let i = got {
                    #expect(Int(i) % (1 << order) == 0)
                    for p in Int(i)..<(Int(i) + (1 << order)) { #expect(free[p], "page \(p) handed out twice"); free[p] = false }
                    held.append((i, order))
                }
            } else {
                let (i, order) = held.remove(at: Int(rng.next() % UInt64(held.count)))
                z.meta[Int(i)].flags = []
                z.giveBlock(i, order: order)
                for p in Int(i)..<(Int(i) + (1 << order)) { free[p] = true }
            }
            #expect(z.freePages == free.filter { $0 }.count)
            if step % 2000 == 0 { let v = k.checkPages(expectAllFree: false); #expect(v.isEmpty, "\(v.prefix(3))") }
        }
        for (i, o) in held { z.meta[Int(i)].flags = []; z.giveBlock(i, order: o) }
        #expect(k.checkPages(expectAllFree: true).isEmpty)
    }

    @Test("Slab vs a set of live objects: never a live object twice, in-use count exact, everything back",
          arguments: [SlabFlags(), [.redZone, .poison]])
    func slab(flags: SlabFlags) throws {
        let k = try TestKernel.make("pack:2 [numa] core:1 pu:1", perNode: 16 << 20)
        let s = try SlabAllocator(kernel: k)
        let cache = try s.createCache(name: "diff", size: 88, flags: flags)
        var live = Set<UnsafeMutableRawPointer>()
        var rng = SplitMix(seed: 77)
        for _ in 0..<Self.steps {
            let cpu = k.cpus[Int(rng.next() % 2)]   // allocations and frees from both nodes
            if live.isEmpty || rng.next() % 2 == 0 {
                let useKmalloc = rng.next() % 4 == 0
                guard let p = useKmalloc ? s.kmalloc(cpu, 1 + Int(rng.next() % 700), .kernel) : cache.alloc(cpu, .kernel) else {
                    Issue.record("allocation failed"); break
                }
                #expect(!live.contains(p), "object handed out twice")
                live.insert(p)
            } else {
                let p = live.randomElement(using: &rng)!
                live.remove(p)
                s.kfree(cpu, p)
            }
            #expect(s.allCaches.reduce(0) { $0 + $1.objectsInUse } == live.count)
        }
        for p in live { s.kfree(k.cpus[0], p) }
        #expect(cache.errors(.doubleFree) + cache.errors(.redZone) + cache.errors(.poison) == 0)
        s.flushAll(cpu: k.cpus[0])
        k.cpus.forEach { k.drainPCP($0) }
        #expect(s.checkSlabs(expectEmpty: true).isEmpty)
        #expect(k.checkPages(expectAllFree: true).isEmpty)
    }
}
