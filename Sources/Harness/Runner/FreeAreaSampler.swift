import Foundation
import KernelMM

/// Free blocks per order and free pages per migrate type of every zone over the measured
/// phase: `/proc/buddyinfo` and pagetypeinfo's totals read at a fixed interval, so
/// fragmentation and watermark dips show as a picture rather than one end-of-run row. Reads
/// the zones' counters without their locks (lock statistics stay the workload's own) from a
/// thread of its own, never from a CPU actor; a deterministic run, which has no clock to
/// sample by, calls `sample()` itself every so many operations.
final class FreeAreaSampler: @unchecked Sendable {
    let zones: [Zone]
    let intervalNS: UInt64
    private var thread: Thread?
    private let done = NSCondition()
    /// Signalled by the sampler thread as it ends: orders its last sample before `stop()` reads.
    private let finished = DispatchSemaphore(value: 0)
    private var stopped = false
    private var start: UInt64 = 0
    private(set) var timeline: RunResult.FreeTimeline

    /// At most about 200 samples over `durationNS`, and no closer than 20 ms; 0 for a run that
    /// samples by operations (`intervalNS` then reads 0).
    init(kernel: Kernel, durationNS: UInt64) {
        zones = kernel.zones.filter { !$0.isEmpty }
        intervalNS = durationNS == 0 ? 0 : max(durationNS / 200, 20_000_000)
        timeline = .init(intervalNS: intervalNS, tNS: [],
                         zones: zones.map { .init(node: $0.node, zone: "\($0.type)", blocks: [], freeByType: []) })
    }

    func start(at t0: UInt64) {
        start = t0
        sample()
        let t = Thread { [self] in loop(); finished.signal() }
        thread = t
        t.start()
    }

    func stop() -> RunResult.FreeTimeline {
        done.lock(); stopped = true; done.signal(); done.unlock()
        if thread != nil { finished.wait() }
        sample()
        return timeline
    }

    func sample() {
        timeline.tNS.append(Clock.monotonicNS() - start)
        for (i, z) in zones.enumerated() {
            timeline.zones[i].blocks.append(z.freeBlocksPerOrderUnlocked())
            timeline.zones[i].freeByType?.append(z.freePagesPerMigrateTypeUnlocked())
        }
    }

    /// The first sample of a run that samples itself (no thread).
    func begin(at t0: UInt64) { start = t0; sample() }

    private func loop() {
        while true {
            done.lock()
            if !stopped { _ = done.wait(until: Date().addingTimeInterval(Double(intervalNS) / 1e9)) }
            let stop = stopped
            done.unlock()
            if stop { return }
            sample()
        }
    }
}
