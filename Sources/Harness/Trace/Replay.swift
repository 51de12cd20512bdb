import Foundation
import KernelMM
import Topology

/// `numastress replay TRACE`: a recorded kmem trace run as an ordinary run of the model, so
/// its result, summary and result.json are a run's, plus the replay figures and the slab
/// geometry against the recording kernel's.
public enum Replay {
    public struct Options: Sendable {
        /// nil: the recorded shape (its CPUs and nodes, synthetic), or this host when unknown.
        public var topology: TopologySource? = nil
        public var locks: LockPolicy? = nil
        /// Memory per node; nil: enough for the trace's peak (at least 64 MiB).
        public var memoryPerNode: Int? = nil
        public var pace = false
        public var strict = false
        public var seed: UInt64? = nil
        public init() {}
    }

    public struct Prepared: Sendable {
        public var config: StressConfig
        public var plan: ReplayPlan
    }

    public struct Outcome: Sendable {
        public var run: RunOutcome
        public var plan: ReplayPlan
        public var geometry: [SlabGeometry.Row]
    }

    /// Reads and pairs the trace and builds the config that runs it.
    public static func prepare(trace: String, options: Options = Options()) throws -> Prepared {
        let header = try TraceReader.header(path: trace)
        let source = options.topology ?? recordedShape(header)
        let machine = try TopologyLoader.load(source, distances: nil)
        var memory = MemoryConfig()
        let plan = try ReplayPlan(path: trace, machine: machine, maxOrder: memory.maxOrder, strict: options.strict)
        guard plan.operationCount > 0 else {
            throw TraceError("\(trace): no kmem events to replay (\(plan.figures.events) events, \(plan.figures.malformedLines) malformed lines)")
        }
        let nodes = max(machine.nodes.count, 1)
        // Twice the trace's peak spread over the nodes, plus the zones' DMA parts and room for
        // slab and page-table overhead; rounded to 16 MiB.
        let want = plan.peakBytes * 2 / nodes + memory.dmaBytes + memory.dma32Bytes + (32 << 20)
        memory.perNodeBytes = options.memoryPerNode ?? max(64 << 20, (want + (16 << 20) - 1) / (16 << 20) * (16 << 20))
        var config = StressConfig(name: configName(trace), topology: TopologySpec(source: source), memory: memory,
                                  caches: plan.caches.map { CacheSpec(name: $0.name, size: $0.objectSize, flags: $0.flags) })
        // `atomic` is a zone policy only: the node partial lists keep a spin lock then.
        if let l = options.locks { config.locks = LockSettings(zone: l, nodePartial: l == .atomic ? .spin : l) }
        config.nodeCount = machine.nodes.count
        config.run.warmupNS = 0          // a warm-up would use up the streams
        config.run.operations = plan.longestStream
        config.run.deterministic = false
        if let seed = options.seed { config.run.seed = seed }
        var w = WorkloadSpec(name: "replay", cpus: .list(Array(Set(plan.cpus)).sorted()))
        w.replay = plan
        w.replayPace = options.pace
        config.workloads = [w]
        return Prepared(config: config, plan: plan)
    }

    /// Runs a prepared replay and adds the replay figures and the geometry to the result.
    public static func run(_ p: Prepared, options: Runner.Options) async throws -> Outcome {
        var outcome = try await Runner.run(p.config, options: options)
        let paced = p.config.workloads.first?.replayPace ?? false
        let ops = outcome.result.throughput.totalOps
        p.plan.setOpsPerSecond(Double(ops) / max(Double(outcome.result.run.elapsedNS) / 1e9, 1e-9), paced: paced)
        outcome.result.replay = p.plan.figures
        let geometry = SlabGeometry.compare(slabinfo: p.plan.header.snapshots["slabinfo"] ?? "",
                                            model: outcome.result.caches.map(\.info), touched: p.plan.touchedCaches,
                                            peaks: p.plan.figures.peakObjects)
        return Outcome(run: outcome, plan: p.plan, geometry: geometry)
    }

    /// The recorded machine as a synthetic topology: its nodes, each with its share of CPUs.
    static func recordedShape(_ h: TraceHeader) -> TopologySource {
        guard let cpus = h.cpus, cpus > 0 else { return .host }
        let nodes = max(h.nodes ?? 1, 1)
        guard cpus % nodes == 0 else { return .host }
        return .synthetic("pack:\(nodes) [numa] core:\(cpus / nodes) pu:1")
    }

    /// `replay-<file name>` in the characters a Results folder name allows.
    static func configName(_ path: String) -> String {
        let base = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        let clean = String(base.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-" ? $0 : "_" })
        return "replay-" + (clean.isEmpty ? "trace" : clean)
    }

    /// The lines printed after the run's summary.
    public static func report(_ o: Outcome) -> String {
        let f = o.plan.figures
        var s = "replay of \(f.trace)"
        if let k = f.kernel { s += " (kernel \(k), \(f.tracedCPUs ?? 0) CPUs, \(f.tracedNodes ?? 0) nodes)" }
        s += "\n  events: \(f.events) read in \(String(format: "%.3f", f.parseSeconds)) s (\(String(format: "%.2f", f.parseEventsPerSecond / 1e6)) M events/s; \(String(format: "%.2f", f.parseEventsPerCPUSecond / 1e6)) M per CPU second)"
        s += "\n  replayed: " + f.replayed.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        s += String(format: "  (%.0f ops/s%@)", f.opsPerSecond, f.paced ? ", paced" : "")
        let skipped = f.skipped.values.reduce(0, +)
        s += "\n  skipped: \(skipped)" + (skipped == 0 ? "" : " — " + f.skipped.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; "))
        s += "\n  remote frees: \(f.remoteFrees) on the model (\(f.tracedRemoteFrees) in the trace); held to the end: \(f.liveAtEnd)"
        if f.malformedLines > 0 { s += "\n  malformed lines skipped: \(f.malformedLines) (first: \(o.plan.firstMalformed.first ?? ""))" }
        if let lost = f.lostEvents, lost > 0 { s += "\n  WARNING: the recording lost \(lost) events; frees of lost allocations count as pre-trace" }
        if !f.unknownGFPNames.isEmpty { s += "\n  GFP names the model lacks (dropped): " + f.unknownGFPNames.joined(separator: " ") }
        s += "\n  CPUs: trace → model " + f.cpuMap.enumerated().map { "\($0.offset)→\($0.element)" }.joined(separator: " ")
        return s + "\n\n" + SlabGeometry.table(o.geometry)
    }
}
