import CArch
import Foundation

/// A cheap timestamp for hot paths: the TSC, calibrated once against CLOCK_MONOTONIC
/// (like the kernel's `sched_clock()` over `rdtsc`).
public enum Clock {
    /// Nanoseconds per TSC tick.
    public static let nsPerTick: Double = {
        let t0 = arch_rdtsc(), n0 = monotonicNS()
        var n1 = n0
        while n1 - n0 < 20_000_000 { n1 = monotonicNS() }
        let t1 = arch_rdtsc()
        return t1 > t0 ? Double(n1 - n0) / Double(t1 - t0) : 1
    }()

    @inlinable @inline(__always) public static func ticks() -> UInt64 { arch_rdtsc() }

    @inline(__always) public static func ns(ticks: UInt64) -> UInt64 { UInt64(Double(ticks) * nsPerTick) }

    public static func monotonicNS() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}
