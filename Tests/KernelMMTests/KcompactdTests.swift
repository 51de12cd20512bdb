import Testing
import Foundation
@testable import KernelMM

/// kcompactd (mm/compaction.c `kcompactd()`, `wakeup_kcompactd()`; mm/vmscan.c
/// `kswapd_try_to_sleep()`), Linux 6.12.
@Suite(.serialized) struct KcompactdTests {
    /// Waits up to 10 s for `done`, then stops the daemons (joining them, so everything they
    /// wrote is visible here).
    static func settle(_ k: Kernel, until done: () -> Bool) {
        let end = Date().addingTimeInterval(10)
        while !done() && Date() < end { usleep(2_000) }
        usleep(20_000)   // let a pass that is under way finish its work
        k.shutdown()
    }

    @Test("Rule: a high-order request that may not compact itself (THP defrag=defer: GFP_TRANSHUGE_LIGHT | __GFP_KSWAPD_RECLAIM) wakes kswapd on a free but fragmented node; kswapd hands the order to kcompactd, which compacts at SYNC_LIGHT, and the retry finds the block")
    func wokenByKswapd() throws {
        let (k, mmu, space, kept) = try CompactionTests.fragmented(kswapd: true)
        let z = k.nodes[0].zone(.normal)
        let gfp: GFP = [.transhugeLight, .kswapdReclaim]
        #expect(k.allocPages(k.cpus[0], gfp, order: 9) == nil, "fragmented: no pageblock free, no direct compaction")
        var kswapdWakeups: UInt64 = 0
        Self.settle(k) {
            kswapdWakeups = k.nodes[0].kswapdCounts.wakeups   // gone with the thread after shutdown
            return z.freeBlocksPerOrder()[9...].reduce(0, +) > 0
        }
        #expect(z.vmEvent(.compactDaemonWake) >= 1)
        #expect(z.vmEvent(.compactDaemonMigrateScanned) > 0 && z.vmEvent(.compactDaemonFreeScanned) > 0)
        #expect(z.vmEvent(.compactDaemonMigrateScanned) <= z.vmEvent(.compactMigrateScanned), "daemon scans also count as compaction scans")
        #expect(z.vmEvent(.compactStall) == 0, "the allocating task never compacted")
        #expect(kswapdWakeups >= 1)
        let page = try #require(k.allocPages(k.cpus[0], gfp, order: 9), "the daemon's work is there for the next try")
        try CompactionTests.checkMapping(k, mmu, space, kept, base: kept[0])
        k.freePages(k.cpus[0], page, order: 9)
        mmu.teardown(cpu: k.cpus[0])
        k.drainPCP(k.cpus[0]); k.drainPCP(k.cpus[1])
        #expect(k.checkPages(expectAllFree: true).isEmpty, "every page the daemon moved freed exactly once")
    }

    @Test("Rule: wakeup_kcompactd() ignores order 0, and a node with too little free memory for compaction (compaction_suitable) is not woken")
    func notWoken() throws {
        let (k, _, _, _) = try CompactionTests.fragmented(kswapd: true)
        #expect(k.kcompactdNodeSuitable(0, order: 9, highest: .normal), "fragmented with plenty free: suitable")
        k.wakeKcompactd(node: 0, order: 0, highest: .normal)
        // Take free memory below the compaction gap of order 9 (low + 2 << 9 pages).
        var held: [PageRef] = []
        while k.nodes[0].zone(.normal).freePages > 600, let p = k.allocPages(k.cpus[0], [.kernel, .nowarn], order: 0) { held.append(p) }
        #expect(!k.kcompactdNodeSuitable(0, order: 9, highest: .normal))
        k.wakeKcompactd(node: 0, order: 9, highest: .normal)
        Self.settle(k) { true }
        #expect(k.nodes[0].zone(.normal).vmEvent(.compactDaemonWake) == 0)
        held.forEach { k.freePages(k.cpus[0], $0, order: 0) }
    }

    @Test("Without compaction (memory.compaction: false) there is no kcompactd: the same request stays unserved")
    func offMeansNoDaemon() throws {
        let (k, _, _, _) = try CompactionTests.fragmented(compaction: false, kswapd: true)
        let z = k.nodes[0].zone(.normal)
        #expect(k.allocPages(k.cpus[0], [.transhugeLight, .kswapdReclaim], order: 9) == nil)
        Self.settle(k) { k.nodes[0].kswapdCounts.wakeups >= 1 }
        #expect(z.vmEvent(.compactDaemonWake) == 0 && z.vmEvent(.compactMigrateScanned) == 0)
        #expect(z.freeBlocksPerOrder()[9...].reduce(0, +) == 0)
    }
}
