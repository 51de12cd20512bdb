import Foundation

/// Which plots a report holds. A plot whose data is missing (no access-cost probe, no lock
/// taken, a deterministic run without a timeline) is left out and named in `skipped` with the
/// reason; each plot is drawn from result data, never from the summary's text.
public enum ReportPlots {
    public static func make(_ d: PlotData, result: RunResult?) -> (plots: [Gnuplot.Plot], skipped: [String]) {
        var plots: [Gnuplot.Plot] = []
        var skipped: [String] = []
        func add(_ p: Gnuplot.Plot?, else why: @autoclosure () -> String?) {
            if let p { plots.append(p) } else if let w = why() { skipped.append(w) }
        }
        let isRun = result != nil
        let failed = Dictionary((result?.operations ?? []).filter { $0.count > 0 }.map { ("\($0.op)-\($0.gfpClass)", Double($0.failures) / Double($0.count)) },
                                uniquingKeysWith: { a, _ in a })
        add(LatencyPlot.make(d.cdfs, failed: failed), else: isRun || !d.cdfs.isEmpty ? "latency: no latency/*.hgrm files (no operation was sampled)" : nil)
        if let r = result {
            add(LockPlot.make(d.lockWaits), else: "lock times: no lock was taken in the measured phase")
            add(d.accessCost.map { NUMACostPlot.make($0, remoteCost: r.run.remoteCost, hostNodes: r.host.nodes) },
                else: "NUMA access cost: the run skipped the probe (--no-probe)")
            let marks = Dictionary(r.zones.map { ("\($0.node) \($0.zone)", $0.watermarks) }, uniquingKeysWith: { a, _ in a })
            add(d.freeTimeline.flatMap { FreePagesPlot.make($0, watermarks: marks) },
                else: "free pages over time: fewer than two samples (the measured phase was too short or interrupted)")
            add(d.freeTimeline.flatMap { FreePagesByTypePlot.make($0, watermarks: marks) },
                else: "free pages per migrate type: not in this result (written before they were sampled) or fewer than two samples")
            add(PerCPUPlot.make(r), else: "throughput per CPU: no CPU figures")
        }
        if !d.scaling.isEmpty { plots.append(ScalingPlot.make(d.scaling)) }
        return (plots, skipped)
    }
}
