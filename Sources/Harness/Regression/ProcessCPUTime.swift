import Foundation

/// CPU time of the whole process (every thread), in nanoseconds. Read around the measured
/// phase: on a machine shared with other work, wall-clock throughput moves with their load,
/// while operations per CPU-second count only the time this run's threads were running.
enum ProcessCPUTime {
    static func nowNS() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}
