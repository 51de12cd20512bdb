import CArch
import Foundation
import KernelMM

/// The allocators alone on `Configs/allocator-compare.yaml`'s traffic, without the runner: one
/// CPU keeps 512 live objects with sizes from that config's kmalloc table, and each step frees
/// a member chosen at random and allocates its replacement. The same seeded steps go to glibc,
/// to the slab layer with 6.12's CPU slabs, and to the slab layer with percpu sheaves on every
/// cache, so the three rows differ only in the allocator. One operation is one free plus one
/// allocation.
enum RandomOrderBench {
    static let live = 512
    /// `allocator-compare.yaml`'s kmalloc sizes and weights.
    static let sizes: [(size: Int, weight: Int)] = [(16, 2), (32, 3), (64, 4), (128, 2), (256, 2), (512, 1), (1024, 1), (2048, 1)]
    static let note = "512 live objects of 16 B–2 KiB, a random one freed and replaced per operation"

    /// A window of live objects and the steps, kept across the runs of one case.
    final class Window: @unchecked Sendable {
        let objects = UnsafeMutablePointer<UnsafeMutableRawPointer>.allocate(capacity: RandomOrderBench.live)
        /// (slot, size) per step, drawn once from a fixed seed; a run walks them in a ring.
        let slots: [Int]
        let sizes: [Int]
        var next = 0

        init() {
            var rng = SplitMix(seed: 20)
            let table = RandomOrderBench.sizes.flatMap { Array(repeating: $0.size, count: $0.weight) }
            slots = (0..<8192).map { _ in rng.below(RandomOrderBench.live) }
            sizes = (0..<8192).map { _ in table[rng.below(table.count)] }
        }

        /// `count` steps of freeing a slot and allocating into it again.
        @inline(__always) func run(_ count: Int, alloc: (Int) -> UnsafeMutableRawPointer, free: (UnsafeMutableRawPointer) -> Void) {
            var k = next
            for _ in 0..<count {
                let slot = slots[k]
                free(objects[slot])
                objects[slot] = alloc(sizes[k])
                k = k + 1 == slots.count ? 0 : k + 1
            }
            next = k
        }

        func fill(alloc: (Int) -> UnsafeMutableRawPointer) {
            for i in 0..<RandomOrderBench.live { objects[i] = alloc(sizes[i]) }
        }

        func empty(free: (UnsafeMutableRawPointer) -> Void) {
            for i in 0..<RandomOrderBench.live { free(objects[i]) }
            objects.deallocate()
        }
    }

    static func cases() -> [BenchCase] {
        [mallocCase()] + SheafMode.allCases.map(slabCase)
    }

    static func mallocCase() -> BenchCase {
        BenchCase(group: "random order", name: "random-order kmalloc traffic, glibc malloc/free", cpus: 1,
                  reference: Benchmarks.glibc, note: note) {
            let w = Window()
            w.fill { malloc($0)! }
            let loop: @Sendable (Int) -> Void = { n in w.run(n, alloc: { malloc($0)! }, free: { Foundation.free($0) }) }
            return ([loop], { w.empty { Foundation.free($0) } })
        }
    }

    static func slabCase(_ mode: SheafMode) -> BenchCase {
        let name = mode == .all ? "random-order kmalloc traffic, slab with sheaves (7.0)"
                                : "random-order kmalloc traffic, slab with CPU slabs (6.12)"
        return BenchCase(group: "random order", name: name, cpus: 1, reference: Benchmarks.glibc, note: note) {
            let kernel = try Benchmarks.benchKernel(cpus: 1, policy: .spin)
            let slab = try SlabAllocator(kernel: kernel, sheaves: mode)
            let cpu = kernel.cpus[0]
            let w = Window()
            w.fill { slab.kmalloc(cpu, $0, .kernel)! }
            let loop: @Sendable (Int) -> Void = { n in
                w.run(n, alloc: { slab.kmalloc(cpu, $0, .kernel)! }, free: { slab.kfree(cpu, $0) })
            }
            return ([loop], { w.empty { slab.kfree(cpu, $0) }; withExtendedLifetime(slab) { kernel.unmapArenas() } })
        }
    }
}
