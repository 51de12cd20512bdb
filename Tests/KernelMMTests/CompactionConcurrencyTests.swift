import Testing
import Foundation
import CArch
@testable import KernelMM
import Topology

/// Compaction on one CPU while the owner of the pages uses them on another (mm/compaction.c,
/// mm/migrate.c): the migrate scanner reads the owner's page flags, migration rewrites the
/// owner's PTEs and shoots down its TLB, and the owner keeps reading and writing through its
/// translations the whole time. Run under ThreadSanitizer by scripts/test.
@Suite(.serialized) struct CompactionConcurrencyTests {
    @Test("Rule: a page moves under its running owner without losing a write — contents, PTEs and TLBs coherent, every IPI answered, every moved page owned once")
    func compactWhileOwnerRuns() async throws {
        let (k, mmu, space, kept) = try CompactionTests.fragmented()
        mmu.synchronousIPIs = false   // real IPIs between the two threads from here on
        let z = k.nodes[0].zone(.normal)
        let host = HostBinding.shared.machine.pus
        let cpus = k.cpus.map { CPU(id: $0.id, node: $0.node, hostPU: host[$0.id % host.count].osIndex) }
        defer { cpus.forEach { $0.shutdown() } }
        let ctx = k.cpus
        let done = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)
        done.initialize(to: 0)
        defer { done.deallocate() }
        let doneSlot = UInt(bitPattern: done)
        let keptPages = kept
        let base = kept[0]
        let (result, touches) = await withTaskGroup(of: (CompactResult?, Int).self) { group in
            group.addTask {
                await cpus[0].run {
                    let me = ctx[0]
                    mmu.enter(me)
                    var cc = CompactControl(zone: z.index, order: 9, migratetype: MigrateType.movable.rawValue, priority: .syncFull,
                                            direct: true, highest: .normal, allocFlags: [], wholeZone: true)
                    let r = k.compactZone(&cc, cpu: me)
                    arch_store_release_u64(UnsafeMutablePointer<UInt64>(bitPattern: doneSlot)!, 1)
                    mmu.leave(me)
                    return (r, 0)
                }
            }
            group.addTask {
                await cpus[1].run {
                    let me = ctx[1]
                    mmu.enter(me)
                    var n = 0
                    var rng = SplitMix(seed: 5)
                    // Rewrite each page's own pattern and read it back, until compaction is done.
                    while arch_load_acquire_u64(UnsafeMutablePointer<UInt64>(bitPattern: doneSlot)!) == 0 || n < 200 {
                        let a = keptPages[Int(rng.next() % UInt64(keptPages.count))]
                        let i = Int((a - base) / UInt64(KernelMM.PAGE_SIZE))
                        let pattern = UInt8(truncatingIfNeeded: i | 1)
                        _ = try? mmu.access(me, space, a, bytes: 64, write: true, pattern: pattern)
                        _ = try? mmu.access(me, space, a, bytes: KernelMM.PAGE_SIZE, write: false)
                        n += 1
                    }
                    mmu.leave(me)
                    return (nil, n)
                }
            }
            var r: CompactResult? = nil, t = 0
            for await (a, b) in group { if let a { r = a }; t += b }
            return (r, t)
        }
        #expect(result == .success || result == .complete)
        #expect(touches >= 200)
        #expect(z.vmEvent(.pgmigrateSuccess) > 0, "pages moved while their owner ran")
        let t = mmu.totals
        #expect(t.ipisSent > 0 && t.ipisSent == t.ipisReceived, "every shootdown answered")
        #expect(k.checkPages(expectAllFree: false).isEmpty)
        mmu.synchronousIPIs = true
        try CompactionTests.checkMapping(k, mmu, space, kept, base: base)
        mmu.teardown(cpu: k.cpus[0])
        k.drainPCP(k.cpus[0]); k.drainPCP(k.cpus[1])
        #expect(k.checkPages(expectAllFree: true).isEmpty, "every moved page freed exactly once")
    }
}
