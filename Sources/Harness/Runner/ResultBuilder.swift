import Foundation
import Histogram
import KernelMM
import Topology

/// Turns a finished repetition (its environment and workers) into a `RunResult`.
enum ResultBuilder {
    static func build(env: RunEnvironment, workers: [CPUWorker], elapsedNS: UInt64, started: String,
                      accessCost: AccessCostMatrix?, buddyAtEnd: [[Int]]) -> RunResult {
        let config = env.config
        let seconds = max(Double(elapsedNS) / 1e9, 1e-9)
        let perCPU = workers.map { w in
            RunResult.CPUFigures(cpu: w.cpu.id, node: w.cpu.node, hostPU: env.mapping.hostPU[w.cpu.id], ops: w.stats.ops,
                                 opsPerSec: Double(w.stats.ops) / seconds, atomicOps: w.stats.atomicOps)
        }
        let total = perCPU.reduce(0) { $0 + $1.ops }
        var perWorkload: [String: UInt64] = [:]
        for w in workers {
            // A CPU in several workloads splits its operations evenly between them.
            for p in w.parts { perWorkload[p.spec.name, default: 0] += w.stats.ops / UInt64(max(w.parts.count, 1)) }
        }
        let nodes = env.machine.nodes.count
        var locality = Array(repeating: Array(repeating: UInt64(0), count: nodes), count: nodes)
        for w in workers { for m in 0..<nodes { locality[w.cpu.node][m] += w.stats.locality[m] } }
        var remote = Array(repeating: Array(repeating: UInt64(0), count: nodes), count: nodes)
        for c in env.slab.allCaches { for (i, row) in c.remoteFreeMatrix().enumerated() { for (j, v) in row.enumerated() { remote[i][j] += v } } }
        let label: String
        switch config.remoteCost {
        case .measured: label = accessCost?.hostHasFewerNodes == true ? "measured (host has fewer nodes than the model: remote figures are local)" : "measured"
        case .model: label = "modelled (measured local cost x distance/10)"
        case .inject: label = "modelled and injected as real delay"
        }
        // The binding as the kernel carried it out, not as it was asked for.
        let binding = env.kernel.nodes.enumerated().compactMap { i, node in node.memory.bindingCheck(node: env.machine.nodes[i].osIndex) }
        let misplaced = binding.contains { !$0.verified }
        let host = HostBinding.shared.machine
        var uts = utsname()
        uname(&uts)
        let kernelName = withUnsafeBytes(of: &uts.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return RunResult(
            complete: true, stopReason: nil,
            config: .init(name: config.name, file: config.file,
                          text: config.file.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) }),
            host: .init(hostname: ProcessInfo.processInfo.hostName, kernel: kernelName, pus: host.pus.count,
                        nodes: host.nodes.count, gitRevision: gitRevision(), mapping: env.mapping.ratioDescription,
                        malloc: MallocIdentity.current()),
            topology: TopologyReport(machine: env.machine, mapping: env.mapping),
            run: .init(started: started, mode: config.run.deterministic ? "deterministic" : "concurrent", seed: config.run.seed,
                       warmupNS: config.run.deterministic ? 0 : config.run.warmupNS, elapsedNS: elapsedNS,
                       sampleRate: config.run.sampleRate, remoteCost: config.remoteCost.rawValue,
                       zoneLock: config.locks.zone.rawValue, nodePartialLock: config.locks.nodePartial.rawValue),
            throughput: .init(totalOps: total, opsPerSec: Double(total) / seconds, perCPU: perCPU, perWorkload: perWorkload),
            operations: operations(workers),
            locks: env.kernel.zones.filter { !$0.isEmpty }.map { $0.lockSnapshot() }
                + env.slab.allCaches.flatMap { $0.lockSnapshots() }.filter { $0.acquisitions > 0 },
            zones: env.kernel.zones.map { z in
                RunResult.ZoneFigures(node: z.node, zone: z.type.description, pages: z.pages, freePagesEnd: z.freePages,
                                      watermarks: z.watermarks, events: env.kernel.events(zone: z.index),
                                      reclaimPasses: z.reclaimPasses, freeBlocksPerOrder: buddyAtEnd[z.index],
                                      hostNode: env.kernel.nodes[z.node].memory.boundHostNode)
            },
            caches: caches(env),
            numa: .init(distances: env.machine.distances.values, distanceOrigin: env.machine.distances.origin.rawValue,
                        localityMatrix: locality, accessCost: accessCost,
                        costLabel: misplaced ? label + " (WARNING: node memory not where it was bound: not trustworthy)" : label,
                        remoteFrees: remote, binding: binding.isEmpty ? nil : binding),
            handoff: .init(sent: workers.reduce(0) { $0 + $1.stats.handoffSent },
                           received: workers.reduce(0) { $0 + $1.stats.handoffReceived },
                           full: workers.reduce(0) { $0 + $1.stats.handoffFull }),
            kernelLog: [:], invariants: .init(passed: true, violations: []), repetitions: [], tlb: tlb(env, workers),
            gfpClasses: gfpClasses(env, workers),
            kswapd: env.kernel.nodes.map { n in
                let c = n.kswapdCounts
                return RunResult.KswapdFigures(node: n.id, wakeups: c.wakeups, passes: c.passes)
            },
            vmstat: Dictionary(uniqueKeysWithValues: ZoneVMEvent.allCases.map { ("\($0)", env.kernel.vmEventTotal($0)) }))
    }

    /// Per GFP class: the zone events by class summed over zones, and the allocation latency
    /// of every allocating operation of the class merged into one distribution.
    static func gfpClasses(_ env: RunEnvironment, _ workers: [CPUWorker]) -> [RunResult.GFPClassFigures] {
        let events = env.kernel.zones.map { env.kernel.events(zone: $0.index) }.reduce(ZoneEvents(), +)
        let allocating = OpKind.byIndex.filter { !$0.isFree }
        return GFPClass.allCases.map { cls in
            var h = CPUStats.emptyHistogram
            var failures: UInt64 = 0
            for w in workers {
                for kind in allocating {
                    let i = w.stats.cell(kind, cls)
                    w.stats.addLatencies(i, into: &h)
                    failures += w.stats.failureCounts[i]
                }
            }
            return .init(gfpClass: cls.description, allocs: events.allocs[cls.rawValue], failures: failures,
                         reserveAllocs: events.reserveAllocsBy[cls], sleeps: events.sleepsBy[cls],
                         sleptNS: events.sleptNSBy[cls], directReclaims: events.directReclaimsBy[cls],
                         nofailStalled: cls == .blocking ? events.nofailStalled : 0, samples: h.totalCount,
                         p50NS: h.valueAtPercentile(50), p90NS: h.valueAtPercentile(90), p99NS: h.valueAtPercentile(99),
                         p999NS: h.valueAtPercentile(99.9), maxNS: h.max)
        }
    }

    static func tlb(_ env: RunEnvironment, _ workers: [CPUWorker]) -> RunResult.TLBFigures? {
        let totals = env.mmu.totals
        guard totals.l1Hits + totals.l2Hits + totals.misses + totals.ipisSent > 0 else { return nil }
        let spaces = ([env.mmu.kernelSpace] + env.spaceList).map { s -> RunResult.SpaceFigures in
            let d = s.shootdowns
            return .init(name: s.name, shootdowns: d.sent, meanWaitNS: d.sent == 0 ? 0 : Double(d.waitNS) / Double(d.sent),
                         maxWaitNS: d.maxWaitNS, meanTargets: d.sent == 0 ? 0 : Double(d.targets) / Double(d.sent),
                         pageTablePages: s.tablePages)
        }
        return .init(totals: totals, perCPU: workers.map { env.mmu.tlbs[$0.cpu.id].counters }, spaces: spaces,
                     lazyPurges: env.vmap.purges)
    }

    static func caches(_ env: RunEnvironment) -> [RunResult.CacheFigures] {
        let cpus = env.kernel.cpus.count
        let used = { (c: KmemCache) in (0..<cpus).contains { c.allocations(onCPU: $0) > 0 } }
        return env.slab.allCaches.filter { $0.slabs > 0 || used($0) || !env.slab.isKmalloc($0) }.map { c in
            RunResult.CacheFigures(info: env.slab.info(c), flags: c.flags.description,
                                   errors: Dictionary(uniqueKeysWithValues: SlabErrorKind.allCases.map { (JSONCoding.snake("\($0)"), c.errors($0)) }),
                                   remoteFrees: c.remoteFreeMatrix(), slabErrors: c.slabErrors)
        }
    }

    /// Per (operation, GFP class): counts and the merged latency percentiles.
    static func operations(_ workers: [CPUWorker]) -> [RunResult.OperationFigures] {
        var out: [RunResult.OperationFigures] = []
        for kind in OpKind.byIndex {
            for cls in GFPClass.allCases {
                var count: UInt64 = 0, failures: UInt64 = 0
                var h = CPUStats.emptyHistogram
                for w in workers {
                    let i = w.stats.cell(kind, cls)
                    count += w.stats.opCounts[i]; failures += w.stats.failureCounts[i]
                    w.stats.addLatencies(i, into: &h)
                }
                guard count > 0 else { continue }
                out.append(.init(op: kind.rawValue, gfpClass: cls.description, count: count, failures: failures,
                                 samples: h.totalCount, p50NS: h.valueAtPercentile(50), p90NS: h.valueAtPercentile(90),
                                 p99NS: h.valueAtPercentile(99), p999NS: h.valueAtPercentile(99.9), maxNS: h.max,
                                 meanNS: h.totalCount == 0 ? 0 : h.mean))
            }
        }
        return out
    }

    static func histograms(_ workers: [CPUWorker]) -> [String: Histogram<UInt64>] {
        var out: [String: Histogram<UInt64>] = [:]
        for kind in OpKind.byIndex {
            for cls in GFPClass.allCases {
                var h = CPUStats.emptyHistogram
                for w in workers { w.stats.addLatencies(w.stats.cell(kind, cls), into: &h) }
                if h.totalCount > 0 { out["\(kind.rawValue)-\(cls)"] = h }
            }
        }
        return out
    }

    static func gitRevision() -> String { GitRevision.short() }
}

extension SlabAllocator {
    func isKmalloc(_ c: KmemCache) -> Bool { kmallocNormal.contains { $0 === c } || kmallocDMA.contains { $0 === c } }
}
