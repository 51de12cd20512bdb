/// What a replay did with its trace, written into result.json (`replay`) beside an ordinary
/// run's figures: events read, operations replayed by kind, events skipped by reason, and the
/// pairing of frees with allocations.
public struct ReplayFigures: Codable, Sendable, Equatable {
    public var trace: String
    public var kernel: String?
    public var tracedCPUs: Int?
    public var tracedNodes: Int?
    /// kmem events read from the file.
    public var events: Int
    /// Operations replayed, by operation (kmalloc, kmem_cache_alloc, alloc_pages, free).
    public var replayed: [String: Int]
    /// Events not replayed, by reason (see `ReplayPlan.Skip`).
    public var skipped: [String: Int]
    /// Lines that were not trace lines, and trace lines of other events.
    public var malformedLines: Int
    public var foreignLines: Int
    /// Events the recording kernel lost (from the trace's trailer), when known.
    public var lostEvents: Int?
    /// Frees on another trace CPU than their allocation, and on another modelled CPU.
    public var tracedRemoteFrees: Int
    public var remoteFrees: Int
    /// Allocations the trace never freed: held to the end of the run, then freed by the drain.
    public var liveAtEnd: Int
    /// Trace CPU → logical CPU of the modelled machine.
    public var cpuMap: [Int]
    /// Most objects of each cache live at once in the trace (by its own order of events).
    public var peakObjects: [String: Int]
    /// GFP flag names the model does not have, dropped from the masks.
    public var unknownGFPNames: [String]
    /// Reading and pairing the trace: seconds and events per second.
    public var parseSeconds: Double
    public var parseEventsPerSecond: Double
    /// The same on the reading thread's CPU time (what the parser costs on a busy machine).
    public var parseCPUSeconds: Double = 0
    public var parseEventsPerCPUSecond: Double = 0
    /// Replayed operations per second over the measured phase (all CPUs).
    public var opsPerSecond: Double = 0
    public var paced: Bool = false
}
