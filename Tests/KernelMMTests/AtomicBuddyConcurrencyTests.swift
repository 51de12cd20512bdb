import Testing
import Foundation
import CArch
@testable import KernelMM
import Topology

/// The lock-free buddy (`locks: { zone: atomic }`, `AtomicBuddy`) under real concurrency:
/// pinned threads allocate and free mixed orders (0 … MAX_ORDER) on one zone at once, with no
/// lock anywhere. After each round, at a quiescent point, the invariant checker must find what
/// `__free_one_page()` guarantees under the zone lock: no page handed out twice, no page lost
/// (NR_FREE_PAGES and nr_free per order equal to a recount of the tree), and once everything is
/// given back, every buddy merged back into the boot-time blocks. Run under TSan by scripts/test
/// (the suite name matches its `Concurrency` filter) and once more with schedule shaking.
@Suite(.serialized) struct AtomicBuddyConcurrencyTests {
    /// One thread's blocks, carried from one phase of a round to the next.
    final class Held: @unchecked Sendable { var blocks: [(Int32, Int)] = [] }
    /// Who holds each page (0: nobody), and how many pages were found handed out twice.
    final class Owners: @unchecked Sendable {
        let owner: UnsafeMutablePointer<UInt32>
        let doubles: UnsafeMutablePointer<UInt64>
        init(pages: Int) {
            owner = .allocate(capacity: pages)
            owner.initialize(repeating: 0, count: pages)
            doubles = .allocate(capacity: 1)
            doubles.initialize(to: 0)
        }
        deinit { owner.deallocate(); doubles.deallocate() }
    }

    /// Runs `rounds` rounds of `ops` operations per thread on the Normal zone of a one-node
    /// machine with `threads` CPUs; returns every violation found and the zone's figures.
    static func hammer(threads: Int, rounds: Int, ops: Int, seed: UInt64) async throws -> (problems: [String], figures: AtomicBuddyFigures) {
        let k = try TestKernel.make("pack:1 [numa] core:\(threads) pu:1", perNode: 4 << 20 + 7 * 4096, dma: 0, dma32: 0,
                                    lock: .atomic, maxOrder: 8)
        let z = k.nodes[0].zone(.normal)
        let host = HostBinding.shared.machine.pus
        let cpus = (0..<threads).map { CPU(id: $0, node: 0, hostPU: host[$0 % host.count].osIndex) }
        defer { cpus.forEach { $0.shutdown() } }
        // Who holds each page: claimed by CAS when a block is handed out, so that a block
        // handed out twice is seen at once, by the thread that got it second.
        let owners = Owners(pages: z.pages)
        let held = (0..<threads).map { _ in Held() }
        var problems: [String] = []
        for round in 0..<rounds {
            // Phase 1: allocate and free at random, keeping some blocks.
            await withTaskGroup(of: Void.self) { group in
                for cpu in cpus {
                    group.addTask {
                        await cpu.run {
                            let mine = held[cpu.id]
                            var rng = SplitMix(seed: seed &+ UInt64(round * 131 + cpu.id))
                            for _ in 0..<ops {
                                let r = rng.next()
                                if mine.blocks.isEmpty || r % 5 < 3 {
                                    // Mostly small orders, now and then up to MAX_ORDER.
                                    let order = r & 0x700 == 0 ? Int(r >> 12 % UInt64(z.maxOrder + 1)) : Int(r >> 12 % 4)
                                    guard let i = z.takeBlock(order: order, cpu: cpu.id) else { continue }
                                    for p in Int(i)..<(Int(i) + (1 << order)) {
                                        var free: UInt32 = 0
                                        if !arch_cmpxchg_u32(owners.owner + p, &free, UInt32(cpu.id + 1)) { _ = arch_fetch_add_u64(owners.doubles, 1) }
                                    }
                                    z.meta[Int(i)].flags = .head
                                    z.meta[Int(i)].order = Int8(order)
                                    mine.blocks.append((i, order))
                                } else {
                                    let (i, order) = mine.blocks.remove(at: Int(r >> 32) % mine.blocks.count)
                                    for p in Int(i)..<(Int(i) + (1 << order)) { arch_store_release_u32(owners.owner + p, 0) }
                                    z.meta[Int(i)].flags = []
                                    z.giveBlock(i, order: order, cpu: cpu.id)
                                }
                            }
                        }
                    }
                }
            }
            // Quiescent, blocks still held: the tree, the counters and conservation must agree.
            problems += k.checkPages(expectAllFree: false).map { "round \(round), held: \($0)" }
            let heldPages = held.reduce(0) { $0 + $1.blocks.reduce(0) { $0 + (1 << $1.1) } }
            if z.freePages + heldPages != z.pages { problems.append("round \(round): free \(z.freePages) + held \(heldPages) != \(z.pages)") }
            // Phase 2: every thread gives back what it holds, concurrently.
            await withTaskGroup(of: Void.self) { group in
                for cpu in cpus {
                    group.addTask {
                        await cpu.run {
                            for (i, order) in held[cpu.id].blocks {
                                for p in Int(i)..<(Int(i) + (1 << order)) { arch_store_release_u32(owners.owner + p, 0) }
                                z.meta[Int(i)].flags = []
                                z.giveBlock(i, order: order, cpu: cpu.id)
                            }
                            held[cpu.id].blocks.removeAll()
                        }
                    }
                }
            }
            // Everything back: merged into the boot-time blocks, nothing lost.
            problems += k.checkPages(expectAllFree: true).map { "round \(round), all freed: \($0)" }
            let twice = arch_load_relaxed_u64(owners.doubles)
            if twice > 0 { problems.append("round \(round): \(twice) page(s) handed out twice") }
            if !problems.isEmpty { break }
        }
        return (problems, z.lockSnapshot().atomic ?? AtomicBuddyFigures())
    }

    @Test("Lock-free buddy (NBBS): pinned threads, mixed orders on one zone; after every round no double hand-out, no lost page, merged back to boot state")
    func stress() async throws {
        let (problems, f) = try await Self.hammer(threads: 4, rounds: 10, ops: 3000, seed: 7)
        #expect(problems.isEmpty, "\(problems.prefix(6))")
        #expect(f.operations > 4 * 10 * 3000 / 2, "every take and give is counted")
        #expect(f.casAttempts >= f.operations, "each operation CASes at least its own block's word")
        print("atomic buddy stress: \(f.operations) ops, \(f.casAttempts) CAS, \(f.casFailures) failed, longest chain \(f.longestRetryChain), restarts \(f.restarts), aborted claims \(f.abortedClaims)")
    }

    @Test("Lock-free buddy with schedule shaking (yields between reading a word and its CAS): the same invariants")
    func shaken() async throws {
        ScheduleShaker.enable(seed: 99, probability: 0.02)
        defer { ScheduleShaker.disable() }
        let (problems, f) = try await Self.hammer(threads: 3, rounds: 6, ops: 2500, seed: 11)
        #expect(ScheduleShaker.count > 0, "the shaker did shake")
        #expect(problems.isEmpty, "\(problems.prefix(6))")
        print("atomic buddy shaken: \(f.operations) ops, \(f.casFailures) failed CAS, longest chain \(f.longestRetryChain), restarts \(f.restarts), aborted claims \(f.abortedClaims)")
    }

    @Test("The zone's figures for the atomic policy read as lock figures: operations as acquisitions, no wait, no sleep")
    func figuresInLockTerms() throws {
        let k = try TestKernel.make("pack:1 [numa] core:1 pu:1", perNode: 4 << 20, dma: 0, dma32: 0, lock: .atomic)
        let z = k.nodes[0].zone(.normal)
        let a = try #require(z.takeBlock(order: 3)), b = try #require(z.takeBlock(order: 0))
        z.giveBlock(a, order: 3)
        z.giveBlock(b, order: 0)
        let s = z.lockSnapshot()
        #expect(s.policy == .atomic && s.acquisitions == 4 && s.sleeps == 0 && s.waitNS == 0 && s.holdNS == 0)
        #expect(s.atomic?.operations == 4 && (s.atomic?.casAttempts ?? 0) >= 4 && s.atomic?.casFailures == 0)
        #expect(z.freeBlocksPerOrder() == z.initialFreeBlocks, "both blocks merged back")
        z.resetLockStats()
        #expect(z.lockSnapshot().acquisitions == 0)
    }
}
