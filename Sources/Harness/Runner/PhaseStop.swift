import CArch
import Foundation
import KernelMM

/// Ends a phase on time, whatever the allocators are doing: a watchdog thread that, at the
/// deadline, on a stop signal (SIGINT, SIGTERM, SIGHUP) or on an `on_slab_error: abort`
/// report, sets the kernel's stop word. CPUs read that word before every operation, and every
/// blocking wait of the model (sleep for free pages, NOFAIL retries) gives up on it, so a
/// phase ends within about a millisecond of its deadline plus the operations in flight.
///
/// The kernel has no such thing; it stands in for the run's end, which the kernel never sees.
final class PhaseStop: @unchecked Sendable {
    private let kernel: Kernel
    private let durationNS: UInt64?
    private let cpus: UInt64
    /// CPUs that began their loop; the phase starts when all have (on a loaded host an actor's
    /// thread can start seconds late, and its share must not be cut to nothing).
    let started = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)
    /// The deadline CPUs read (relaxed) every 64 operations: `.max` until every CPU started.
    let deadline = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)
    /// When the measured phase began: every CPU running (written before `ended` is signalled).
    private(set) var startedAt: UInt64 = 0
    /// Set by the phase when every CPU returned on its own (an operation count was reached).
    private let finished = UnsafeMutablePointer<UInt32>.allocate(capacity: 1)
    /// When the stop was requested (0: not yet), written by the watchdog before it ends.
    private let stoppedAt = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)
    private let ended = DispatchSemaphore(value: 0)
    private static let pollNS: UInt64 = 1_000_000

    /// `durationNS`: nil for a phase bounded by its operation count.
    init(kernel: Kernel, durationNS: UInt64?, cpus: Int) {
        self.kernel = kernel
        self.durationNS = durationNS
        self.cpus = UInt64(cpus)
        started.initialize(to: 0)
        deadline.initialize(to: .max)
        finished.initialize(to: 0)
        stoppedAt.initialize(to: 0)
        kernel.clearStop()
        let thread = Thread { [self] in watch() }
        thread.name = "numastress-stop"
        thread.start()
    }

    deinit { finished.deallocate(); stoppedAt.deallocate(); started.deallocate(); deadline.deallocate() }

    private func watch() {
        // The phase starts once every CPU runs (or a signal or the end comes first).
        while arch_load_acquire_u64(started) < cpus && arch_load_relaxed_u32(finished) == 0 && arch_stop_signal() == 0 {
            var ts = timespec(tv_sec: 0, tv_nsec: 100_000)
            nanosleep(&ts, nil)
        }
        startedAt = Clock.monotonicNS()
        let end = durationNS.map { startedAt &+ $0 } ?? .max
        arch_store_release_u64(deadline, end)
        while arch_load_relaxed_u32(finished) == 0 {
            let now = Clock.monotonicNS()
            if now >= end || arch_stop_signal() != 0 || kernel.log.stopRequested != nil {
                stoppedAt.pointee = now
                kernel.requestStop()
                break
            }
            var ts = timespec(tv_sec: 0, tv_nsec: Int(min(Self.pollNS, end &- now)))
            nanosleep(&ts, nil)
        }
        ended.signal()   // orders the write of stoppedAt before the phase reads it
    }

    /// Called once every CPU returned; waits for the watchdog and returns when the stop was
    /// requested (nil when the CPUs finished first).
    func end() -> UInt64? {
        arch_store_release_u32(finished, 1)
        ended.wait()
        return stoppedAt.pointee == 0 ? nil : stoppedAt.pointee
    }
}

/// SIGINT, SIGTERM and SIGHUP while a run is on: the first is noted (the run ends and its result
/// says so), a second ends the process at once.
public enum StopSignal {
    /// The pending stop signal's number, 0 when none came.
    public static var pending: Int32 { arch_stop_signal() }

    public static func install() { arch_install_stop_signals() }
    public static func reset() { arch_reset_stop_signals() }

    public static func name(_ n: Int32) -> String {
        switch n {
        case SIGINT: return "SIGINT"
        case SIGTERM: return "SIGTERM"
        case SIGHUP: return "SIGHUP"
        default: return "signal \(n)"
        }
    }
}
