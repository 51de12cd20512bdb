import Foundation
import KernelMM
import Topology

/// A trace turned into what the model can run: one operation stream per logical CPU, the
/// caches to create, and the slots through which an object allocated on one CPU reaches the
/// CPU that frees it. Built in one pass over the file in its order, which is the kernel's
/// order of events: a free is paired with the latest allocation of the same pointer (slab
/// objects) or pfn (pages) still live.
///
/// Pairing and the CPU order together can never deadlock the replay: a free waits only for
/// an allocation earlier in the file, and each CPU's stream is in file order, so the earliest
/// waiting free's allocation is always runnable.
public final class ReplayPlan: @unchecked Sendable, Equatable {
    public static func == (a: ReplayPlan, b: ReplayPlan) -> Bool { a === b }

    /// Why an event is not replayed.
    enum Skip: String, CaseIterable {
        case preTraceFree = "free of an object allocated before the trace"
        case nullFree = "free of NULL"
        case failedInKernel = "allocation that failed in the traced kernel"
        case zeroSize = "kmalloc(0)"
        case modelInternal = "PCP refill/drain (the model makes its own)"
        case tooLarge = "larger than the model's largest allocation"
        case unsupportedCache = "cache the model cannot create"
        case overwritten = "allocation whose free was not traced (pointer reused)"
    }

    let header: TraceHeader
    let path: String
    /// Streams by logical CPU id (only CPUs with operations).
    let streams: [Int: ContiguousArray<ReplayOp>]
    public let caches: [ReplayCache]
    let slotCount: Int
    public private(set) var figures: ReplayFigures
    /// Real slabinfo names of the caches the trace touched (kmalloc-N for kmalloc by bytes_alloc).
    public let touchedCaches: [String]
    /// Bytes live at the trace's peak (pages and slab slots), to size the model's memory.
    public let peakBytes: Int

    /// The logical CPUs with a stream.
    public var cpus: [Int] { streams.keys.sorted() }
    public var operationCount: Int { streams.values.reduce(0) { $0 + $1.count } }
    public var longestStream: Int { streams.values.map(\.count).max() ?? 0 }

    // Run-time state: the slot table of the current run.
    private let lock = NSLock()
    private var slots: UnsafeMutablePointer<UInt64>?
    private var slotsOwner: ObjectIdentifier?
    /// The replay's time zero for --pace, set by the first CPU to start (0: not yet).
    let epoch = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)

    deinit { slots?.deallocate(); epoch.deallocate() }

    /// Reads `path` and builds the streams for `machine`. `strict`: a malformed line throws.
    public convenience init(path: String, machine: Topology.Machine, maxOrder: Int = 10, strict: Bool = false) throws {
        var reader = TraceReader(path: path, strict: strict)
        try self.init(reader: &reader, machine: machine, maxOrder: maxOrder)
    }

    init(reader: inout TraceReader, machine: Topology.Machine, maxOrder: Int) throws {
        let t0 = Date()
        let cpu0 = Self.threadCPUSeconds()
        // The CPU map needs the recorded shape before the first event.
        var builder = Builder(machine: machine, header: try TraceReader.header(path: reader.path), maxOrder: maxOrder)
        try reader.read { builder.take($0, $1) }
        let seconds = Date().timeIntervalSince(t0)
        let cpuSeconds = Self.threadCPUSeconds() - cpu0
        // The header is only complete once the file is read (the lost-events trailer).
        header = reader.header
        path = reader.path
        builder.finish()
        var byCPU: [Int: ContiguousArray<ReplayOp>] = [:]
        for (cpu, ops) in builder.streams.enumerated() where !ops.isEmpty { byCPU[cpu] = ops }
        streams = byCPU
        caches = builder.caches
        slotCount = Int(builder.nextSlot)
        touchedCaches = builder.touched.sorted()
        peakBytes = builder.peakBytes
        var f = ReplayFigures(trace: reader.path, kernel: header.kernel, tracedCPUs: header.cpus, tracedNodes: header.nodes,
                              events: reader.counts.events, replayed: builder.replayed, skipped: builder.skipped,
                              malformedLines: reader.counts.malformed, foreignLines: reader.counts.foreign,
                              lostEvents: header.lostEvents, tracedRemoteFrees: builder.tracedRemote,
                              remoteFrees: builder.modelRemote, liveAtEnd: builder.live.count,
                              cpuMap: builder.cpuMapTable, peakObjects: builder.peakByCache,
                              unknownGFPNames: reader.unknownGFPNames, parseSeconds: seconds,
                              parseEventsPerSecond: Double(reader.counts.events) / max(seconds, 1e-9))
        f.replayed = f.replayed.filter { $0.value > 0 }
        f.parseCPUSeconds = cpuSeconds
        f.parseEventsPerCPUSecond = Double(reader.counts.events) / max(cpuSeconds, 1e-9)
        figures = f
        epoch.initialize(to: 0)
        firstMalformed = reader.counts.firstMalformed
    }

    /// The first malformed lines, FILE:LINE: reason.
    public let firstMalformed: [String]

    func setOpsPerSecond(_ v: Double, paced: Bool) { figures.opsPerSecond = v; figures.paced = paced }

    /// The slot table for the run whose environment is `owner`, emptied when a new run starts
    /// (each repetition builds its workers, and so asks, again).
    func slotTable(for owner: AnyObject) -> UnsafeMutablePointer<UInt64> {
        lock.lock(); defer { lock.unlock() }
        if slotsOwner != ObjectIdentifier(owner) || slots == nil {
            slots?.deallocate()
            let s = UnsafeMutablePointer<UInt64>.allocate(capacity: max(slotCount, 1))
            s.initialize(repeating: 0, count: max(slotCount, 1))
            slots = s
            slotsOwner = ObjectIdentifier(owner)
            epoch.pointee = 0
        }
        return slots!
    }

    func stream(cpu: Int) -> ContiguousArray<ReplayOp>? { streams[cpu] }

    /// CPU time of the calling thread: on a shared machine the parse rate per CPU second says
    /// what the parser costs, where the wall-clock rate also says how busy the machine was.
    static func threadCPUSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Trace CPU → logical CPU: a CPU keeps its node (the trace's node N on the model's Nth node
    /// with CPUs, wrapping) and its rank among that node's CPUs (wrapping), so the locality of
    /// the recorded machine survives on a different shape as far as it can.
    static func cpuMap(traceCPUs: Int, cpuNodes: [Int], machine: Topology.Machine) -> [Int] {
        let withCPUs = machine.nodes.indices.filter { !machine.cpus(ofNode: $0).isEmpty }
        guard !withCPUs.isEmpty else { return Array(repeating: 0, count: traceCPUs) }
        var rank: [Int: Int] = [:]
        return (0..<traceCPUs).map { c in
            let node = c < cpuNodes.count ? cpuNodes[c] : 0
            let r = rank[node, default: 0]
            rank[node] = r + 1
            let modelNode = withCPUs[node % withCPUs.count]
            let cpus = machine.cpus(ofNode: modelNode)
            return cpus[r % cpus.count]
        }
    }
}
