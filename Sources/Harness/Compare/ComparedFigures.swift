/// The figures `compare` takes from a result, by kind: exact counters (the whole result),
/// and samples with one value per repetition (timings, stable ratios).
enum ComparedFigures {
    struct Sample {
        var values: [Double]
        var higherIsBetter: Bool
        /// Why the sample cannot be judged, when it cannot.
        var unusable: String? = nil
    }

    /// Counters compared exactly in deterministic runs: operation counts, zone events, NUMA
    /// matrices, slab sizes, TLB events.
    static func counters(_ r: RunResult) -> [String: Double] {
        var m: [String: Double] = [:]
        m["throughput.total_ops"] = Double(r.throughput.totalOps)
        for o in r.operations {
            m["ops.\(o.op).\(o.gfpClass).count"] = Double(o.count)
            m["ops.\(o.op).\(o.gfpClass).failures"] = Double(o.failures)
        }
        for z in r.zones where z.pages > 0 {
            let e = z.events, k = "zone.\(z.node).\(z.zone)"
            m["\(k).allocs"] = Double(e.totalAllocs)
            m["\(k).failures"] = Double(e.failures)
            m["\(k).zone_fallbacks"] = Double(e.zoneFallbacks)
            m["\(k).node_fallbacks"] = Double(e.nodeFallbacks)
            m["\(k).watermark_hits"] = Double(e.watermarkHits)
        }
        for (i, row) in r.numa.remoteFrees.enumerated() { for (j, v) in row.enumerated() { m["numa.remote_frees.\(i).\(j)"] = Double(v) } }
        for (i, row) in r.numa.localityMatrix.enumerated() { for (j, v) in row.enumerated() { m["numa.locality.\(i).\(j)"] = Double(v) } }
        for c in r.caches { m["slab.\(c.info.name).slabs"] = Double(c.info.slabs) }
        if let t = r.tlb?.totals {
            m["tlb.misses"] = Double(t.misses)
            m["tlb.walks"] = Double(t.walks)
            m["tlb.faults"] = Double(t.faults)
            m["tlb.ipis_sent"] = Double(t.ipisSent)
        }
        return m
    }

    /// Timings, one value per repetition: throughput (per CPU-second, so that other processes'
    /// load on a shared machine does not count) and p50 and p99 latency of each operation class.
    /// Lock waits are not among them: with more logical CPUs than host PUs they time the host's
    /// scheduler (a preempted holder), and they moved by 3.5x between identical runs here; lock
    /// use is judged by the acquisitions-per-operation ratios instead.
    static func timings(_ r: RunResult) -> [String: Sample] {
        var m: [String: Sample] = [:]
        let reps = r.repetitions
        let older = "recorded by an older build, without this figure per repetition"
        let perCPU = reps.compactMap(\.opsPerCPUSec)
        m["throughput.ops_per_cpu_sec"] = Sample(values: perCPU, higherIsBetter: true,
                                                 unusable: perCPU.count < reps.count || reps.isEmpty ? older : nil)
        let withLatency = reps.compactMap(\.latency)
        if withLatency.count < reps.count || reps.isEmpty {
            // Name the classes from the final result so the reader sees what went unjudged.
            for o in r.operations where o.samples >= Comparison.minSamples {
                for q in ["p50", "p99"] {
                    m["latency.\(o.op).\(o.gfpClass).\(q)_ns"] = Sample(values: [], higherIsBetter: false, unusable: older)
                }
            }
            return m
        }
        var classes: [String: (p50: [Double], p99: [Double], fewest: UInt64)] = [:]
        for rep in withLatency {
            for l in rep {
                let k = "\(l.op).\(l.gfpClass)"
                var c = classes[k] ?? ([], [], .max)
                c.p50.append(l.p50NS); c.p99.append(l.p99NS); c.fewest = min(c.fewest, l.samples)
                classes[k] = c
            }
        }
        for (k, c) in classes {
            let why: String? = c.p50.count < reps.count ? "the class ran in only \(c.p50.count) of \(reps.count) repetitions"
                : c.fewest < Comparison.minSamples ? "fewer than \(Comparison.minSamples) timed operations in a repetition (\(c.fewest))" : nil
            m["latency.\(k).p50_ns"] = Sample(values: c.p50, higherIsBetter: false, unusable: why)
            m["latency.\(k).p99_ns"] = Sample(values: c.p99, higherIsBetter: false, unusable: why)
        }
        return m
    }

    /// Speed-independent ratios, one value per repetition (see `StableRatios`). A ratio a
    /// repetition lacks (here or in `other`) is an event it never saw: 0.
    static func ratios(_ r: RunResult, other: RunResult) -> [String: Sample] {
        let reps = r.repetitions
        guard !reps.isEmpty, reps.allSatisfy({ $0.ratios != nil }) else {
            return ["ratios": Sample(values: [], higherIsBetter: false,
                                     unusable: "recorded by an older build, without ratios per repetition")]
        }
        let keys = Set((reps + other.repetitions).flatMap { $0.ratios?.keys.map { $0 } ?? [] })
        var m: [String: Sample] = [:]
        for k in keys { m["ratio." + k] = Sample(values: reps.map { $0.ratios![k] ?? 0 }, higherIsBetter: false) }
        return m
    }
}
