import Foundation
import Topology
import CArch

/// A `SerialExecutor` that is one pthread bound to one host PU: the real thread a modelled CPU
/// runs on (the kernel's per-CPU `smpboot` thread, `kthread_bind()`). Jobs run in FIFO order on
/// that thread only; nothing else ever runs there.
public final class PinnedThread: SerialExecutor, @unchecked Sendable {
    public let hostPU: Int
    public let name: String
    /// Whether hwloc accepted the binding (false e.g. when the PU is outside our cpuset); waits
    /// until the thread has tried.
    public var isBound: Bool {
        waitUntilStarted()
        return bound
    }
    private var bound = false

    // The sleeping lock policy everywhere in this project is pthread's, in allocated memory:
    // a pthread_mutex_t must not move, and Swift may move stored structs.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let cond: UnsafeMutablePointer<pthread_cond_t>
    private var queue: [UnownedJob] = []
    private var stopping = false
    private var started = false
    private var thread: pthread_t? = nil
    private var threadID: pthread_t? = nil

    public init(hostPU: Int, name: String) {
        self.hostPU = hostPU
        self.name = name
        mutex = .allocate(capacity: 1)
        cond = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(cond, nil)
        start()
    }

    deinit {
        shutdown()
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        cond.deallocate()
    }

    private func start() {
        let box = Unmanaged.passRetained(self).toOpaque()
        var tid = pthread_t()
        let rc = pthread_create(&tid, nil, { arg in
            let me = Unmanaged<PinnedThread>.fromOpaque(arg!).takeRetainedValue()
            me.main()
            return nil
        }, box)
        precondition(rc == 0, "pthread_create failed: \(rc)")
        thread = tid
        // No wait for the thread to bind itself here: hundreds of CPUs start in parallel, and
        // jobs queued meanwhile run once it has (`isBound` waits for it).
    }

    /// Returns once the thread has bound itself to its PU.
    public func waitUntilStarted() {
        pthread_mutex_lock(mutex)
        while !started { pthread_cond_wait(cond, mutex) }
        pthread_mutex_unlock(mutex)
    }

    private func main() {
        let bound = HostBinding.shared.bindCurrentThread(toPU: hostPU)
        arch_set_thread_name(name)
        // A stable per-thread seed for schedule shaking: the same CPU shakes the same way.
        arch_shake_thread(name.utf8.reduce(5381) { $0 &* 33 &+ UInt64($1) })
        pthread_mutex_lock(mutex)
        self.bound = bound
        threadID = pthread_self()
        started = true
        pthread_cond_broadcast(cond)
        pthread_mutex_unlock(mutex)
        var batch: [UnownedJob] = []
        while true {
            pthread_mutex_lock(mutex)
            while queue.isEmpty && !stopping { pthread_cond_wait(cond, mutex) }
            if queue.isEmpty && stopping { pthread_mutex_unlock(mutex); return }
            swap(&batch, &queue)
            pthread_mutex_unlock(mutex)
            for job in batch { job.runSynchronously(on: asUnownedSerialExecutor()) }
            batch.removeAll(keepingCapacity: true)
        }
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        pthread_mutex_lock(mutex)
        queue.append(unowned)
        pthread_cond_signal(cond)
        pthread_mutex_unlock(mutex)
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    /// Lets `assumeIsolated` work from code already on this thread.
    public func checkIsolated() {
        precondition(isCurrent, "not on pinned thread \(name)")
    }

    public var isCurrent: Bool {
        // The thread sets its id when it starts, maybe after the caller's first look.
        pthread_mutex_lock(mutex)
        let id = threadID
        pthread_mutex_unlock(mutex)
        guard let t = id else { return false }
        return pthread_equal(t, pthread_self()) != 0
    }

    /// Runs what is queued, then joins the thread. Idempotent.
    public func shutdown() {
        requestStop()
        pthread_mutex_lock(mutex)
        let t = thread
        thread = nil
        pthread_mutex_unlock(mutex)
        if let t, !isCurrent { pthread_join(t, nil) }
    }

    /// Tells the thread to end after what is queued, without waiting: stopping many threads
    /// asks them all first and then joins each (`shutdown`), so they end in parallel.
    public func requestStop() {
        pthread_mutex_lock(mutex)
        stopping = true
        pthread_cond_broadcast(cond)
        pthread_mutex_unlock(mutex)
    }
}
