import Foundation

/// The per-node reclaim daemon (mm/vmscan.c `kswapd()`): its own thread, bound to a PU of its
/// node, asleep until an allocation finds a zone below its low watermark or a high order
/// unsatisfiable (`wakeup_kswapd()`), then it runs the shrinkers until the node is balanced
/// or nothing more can be freed (`balance_pgdat()`). Balanced is `pgdat_balanced()` of Linux
/// 6.12: one populated zone up to the highest zone the wakers asked for
/// (`kswapd_highest_zoneidx`) at its high watermark is enough — not every zone of the node.
/// The model reclaims for order 0 only, where the kernel's kswapd drops a high order once it
/// has reclaimed the compaction gap; as the kernel's does before it sleeps
/// (`kswapd_try_to_sleep()`), it then wakes kcompactd for the highest order it was woken for.
final class Kswapd: @unchecked Sendable {
    let node: Int
    unowned let kernel: Kernel
    private let thread: KernelThread
    /// `pgdat->kswapd_highest_zoneidx`: the highest zone a waker could use since the last pass.
    private var highestZone: ZoneType? = nil
    /// `pgdat->kswapd_order`: the highest order a waker asked for since the last pass.
    private var order = 0
    let hostPU: Int?
    /// kswapd's own per-CPU state (a kernel thread runs on some CPU): the pages it frees go
    /// through its PCP lists, drained after each pass.
    let context: CPUContext
    /// Wake-ups received and balance passes run (`pageoutrun`).
    private var wakeupCount: UInt64 = 0
    private var passCount: UInt64 = 0

    var counts: (wakeups: UInt64, passes: UInt64) { thread.locked { (wakeupCount, passCount) } }

    init(node: Int, kernel: Kernel, hostPU: Int?) {
        self.node = node
        self.kernel = kernel
        self.hostPU = hostPU
        self.thread = KernelThread(hostPU: hostPU)
        self.context = CPUContext(id: 0x7000 + node, node: node, zoneCount: kernel.zones.count)
    }

    deinit { stop() }

    func start() { thread.start { [unowned self] in self.pass() } }

    func wake(order: Int, highest: ZoneType) {
        thread.wake { wakes in
            if highestZone.map({ $0.rawValue < highest.rawValue }) ?? true { highestZone = highest }
            self.order = Swift.max(self.order, order)
            if wakes { wakeupCount += 1 }
        }
    }

    func stop() { thread.stop() }

    /// One `balance_pgdat()` pass, then `kswapd_try_to_sleep()`'s `wakeup_kcompactd()`.
    private func pass() {
        let (highest, order): (ZoneType, Int) = thread.locked {
            defer { highestZone = nil; self.order = 0 }
            return (highestZone ?? .normal, self.order)
        }
        let ran = kernel.balanceNode(node, cpu: context, highest: highest)
        kernel.drainPCP(context)
        if ran { thread.locked { passCount += 1 } }
        if order > 0 { kernel.wakeKcompactd(node: node, order: order, highest: highest) }
    }
}
