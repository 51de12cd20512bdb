import Foundation
import Topology

/// The per-node reclaim daemon (mm/vmscan.c `kswapd()`): its own thread, bound to a PU of its
/// node, asleep until an allocation finds a zone below its low watermark
/// (`wakeup_kswapd()`), then it runs the shrinkers until the node is balanced or nothing more
/// can be freed (`balance_pgdat()`). Balanced is `pgdat_balanced()` of Linux 6.12: one
/// populated zone up to the highest zone the wakers asked for (`kswapd_highest_zoneidx`) at
/// its high watermark is enough — not every zone of the node.
final class Kswapd: @unchecked Sendable {
    let node: Int
    unowned let kernel: Kernel
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var woken = false
    /// `pgdat->kswapd_highest_zoneidx`: the highest zone a waker could use since the last pass.
    private var highestZone: ZoneType? = nil
    private var stopping = false
    private var thread: pthread_t?
    let hostPU: Int?
    /// kswapd's own per-CPU state (a kernel thread runs on some CPU): the pages it frees go
    /// through its PCP lists, drained after each pass.
    let context: CPUContext
    /// Wake-ups received and balance passes run (`pageoutrun`).
    private var wakeupCount: UInt64 = 0
    private var passCount: UInt64 = 0

    var counts: (wakeups: UInt64, passes: UInt64) {
        pthread_mutex_lock(mutex); defer { pthread_mutex_unlock(mutex) }
        return (wakeupCount, passCount)
    }

    init(node: Int, kernel: Kernel, hostPU: Int?) {
        self.node = node
        self.kernel = kernel
        self.hostPU = hostPU
        self.context = CPUContext(id: 0x7000 + node, node: node, zoneCount: kernel.zones.count)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(cond, nil)
    }

    deinit {
        stop()
        pthread_cond_destroy(cond); pthread_mutex_destroy(mutex)
        cond.deallocate(); mutex.deallocate()
    }

    func start() {
        let box = Unmanaged.passRetained(self).toOpaque()
        var tid = pthread_t()
        pthread_create(&tid, nil, { arg in
            let me = Unmanaged<Kswapd>.fromOpaque(arg!).takeRetainedValue()
            me.main()
            return nil
        }, box)
        thread = tid
    }

    func wake(highest: ZoneType) {
        pthread_mutex_lock(mutex)
        if highestZone.map({ $0.rawValue < highest.rawValue }) ?? true { highestZone = highest }
        if !woken { woken = true; wakeupCount += 1; pthread_cond_signal(cond) }
        pthread_mutex_unlock(mutex)
    }

    func stop() {
        pthread_mutex_lock(mutex)
        stopping = true
        let t = thread
        thread = nil
        pthread_cond_signal(cond)
        pthread_mutex_unlock(mutex)
        if let t { pthread_join(t, nil) }
    }

    private func main() {
        if let pu = hostPU { HostBinding.shared.bindCurrentThread(toPU: pu) }
        while true {
            pthread_mutex_lock(mutex)
            while !woken && !stopping { pthread_cond_wait(cond, mutex) }
            if stopping { pthread_mutex_unlock(mutex); return }
            woken = false
            let highest = highestZone ?? .normal
            highestZone = nil
            pthread_mutex_unlock(mutex)
            let ran = kernel.balanceNode(node, cpu: context, highest: highest)
            kernel.drainPCP(context)
            pthread_mutex_lock(mutex)
            if ran { passCount += 1 }
            pthread_mutex_unlock(mutex)
        }
    }
}
