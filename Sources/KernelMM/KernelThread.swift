import Foundation
import Topology

/// A per-node kernel thread that sleeps on its wait queue until woken (`kthread_run()` with a
/// `wait_event_freezable()` loop, as kswapd and kcompactd are): a real pthread bound to a PU of
/// its node, a wake flag under a sleeping lock, and a body run once per wake-up with the lock
/// released. What the wakers pass in (orders, zones) lives in the owner, read and written
/// through `locked`.
final class KernelThread: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var woken = false
    private var stopping = false
    private var thread: pthread_t?
    private let hostPU: Int?
    private var body: (() -> Void)?

    init(hostPU: Int?) {
        self.hostPU = hostPU
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(cond, nil)
    }

    deinit {
        stop()
        pthread_cond_destroy(cond); pthread_mutex_destroy(mutex)
        cond.deallocate(); mutex.deallocate()
    }

    /// Runs `f` under the thread's lock (the wakers' side and the thread's side of its state).
    func locked<T>(_ f: () -> T) -> T {
        pthread_mutex_lock(mutex); defer { pthread_mutex_unlock(mutex) }
        return f()
    }

    /// Starts the thread; `body` runs once per wake-up until `stop()`.
    func start(_ body: @escaping () -> Void) {
        self.body = body
        let box = Unmanaged.passRetained(self).toOpaque()
        var tid = pthread_t()
        pthread_create(&tid, nil, { arg in
            Unmanaged<KernelThread>.fromOpaque(arg!).takeRetainedValue().main()
            return nil
        }, box)
        thread = tid
    }

    /// `wake_up_interruptible()`: `update` records what the waker wants under the lock, told
    /// whether this call is the one that wakes the thread (false when a wake-up is pending).
    func wake(_ update: (_ wakes: Bool) -> Void = { _ in }) {
        locked {
            update(!woken)
            if woken { return }
            woken = true
            pthread_cond_signal(cond)
        }
    }

    /// `kthread_stop()`: wakes the thread, lets its current pass finish, joins it. Idempotent.
    func stop() {
        let t: pthread_t? = locked {
            stopping = true
            pthread_cond_signal(cond)
            defer { thread = nil }
            return thread
        }
        if let t { pthread_join(t, nil) }
        body = nil   // the owner's closure: no cycle once the thread is gone
    }

    private func main() {
        if let pu = hostPU { HostBinding.shared.bindCurrentThread(toPU: pu) }
        while true {
            pthread_mutex_lock(mutex)
            while !woken && !stopping { pthread_cond_wait(cond, mutex) }
            if stopping { pthread_mutex_unlock(mutex); return }
            woken = false
            pthread_mutex_unlock(mutex)
            body?()
        }
    }
}
