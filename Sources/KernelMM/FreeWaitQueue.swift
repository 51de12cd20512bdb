import CArch
import Foundation

/// Where blocking allocators sleep until pages are freed: the reclaim throttle wait queue
/// (`reclaim_throttle()` / `VMSCAN_THROTTLE_NOPROGRESS`) reduced to one condition variable.
/// Freers pay one relaxed load when nobody waits.
final class FreeWaitQueue: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    let waiters = UnsafeMutablePointer<UInt32>.allocate(capacity: 1)
    private var generation: UInt64 = 0

    init() {
        pthread_mutex_init(mutex, nil)
        var attr = pthread_condattr_t()
        pthread_condattr_init(&attr)
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
        pthread_cond_init(cond, &attr)
        pthread_condattr_destroy(&attr)
        waiters.initialize(to: 0)
    }

    deinit {
        pthread_cond_destroy(cond); pthread_mutex_destroy(mutex)
        cond.deallocate(); mutex.deallocate(); waiters.deallocate()
    }

    @inline(__always) var hasWaiters: Bool { arch_load_relaxed_u32(waiters) != 0 }

    /// Called after pages went back to the buddy allocator.
    @inline(__always) func pagesFreed() {
        if hasWaiters { wakeAll() }
    }

    @inline(never) func wakeAll() {
        pthread_mutex_lock(mutex)
        generation &+= 1
        pthread_cond_broadcast(cond)
        pthread_mutex_unlock(mutex)
    }

    /// The generation to wait on: read before the last allocation attempt, so that a free in
    /// between is not missed.
    func ticket() -> UInt64 {
        _ = arch_fetch_add_u32(waiters, 1)
        pthread_mutex_lock(mutex); defer { pthread_mutex_unlock(mutex) }
        return generation
    }

    /// Sleeps until a free after `ticket`, or `timeoutNS`. Returns true when woken by a free.
    func wait(ticket: UInt64, timeoutNS: UInt64) -> Bool {
        var deadline = timespec()
        clock_gettime(CLOCK_MONOTONIC, &deadline)
        let total = UInt64(deadline.tv_nsec) + timeoutNS
        deadline.tv_sec += Int(total / 1_000_000_000)
        deadline.tv_nsec = Int(total % 1_000_000_000)
        pthread_mutex_lock(mutex)
        var rc: Int32 = 0
        while generation == ticket && rc == 0 { rc = pthread_cond_timedwait(cond, mutex, &deadline) }
        let woken = generation != ticket
        pthread_mutex_unlock(mutex)
        return woken
    }

    func done() { _ = arch_fetch_add_u32(waiters, UInt32.max) }  // -1
}
