import KernelMM

/// One kmem tracepoint hit as the replay needs it: which event, on which CPU and when, and the
/// fields the model can act on. Stands for one line of the ftrace text output of the events in
/// include/trace/events/kmem.h. Strings are interned (`nameID`) so that a parsed event is a
/// plain value with nothing to reference-count.
public struct TraceEvent: Sendable, Equatable {
    public enum Kind: UInt8, Sendable, CaseIterable {
        /// `kmalloc`: ptr, bytes_req, bytes_alloc, gfp_flags, node.
        case kmalloc
        /// `kfree`: ptr.
        case kfree
        /// `kmem_cache_alloc`: ptr, name, bytes_req, bytes_alloc, gfp_flags, node.
        case cacheAlloc
        /// `kmem_cache_free`: ptr, name.
        case cacheFree
        /// `mm_page_alloc`: pfn, order, gfp_flags.
        case pageAlloc
        /// `mm_page_free` and `mm_page_free_batched`: pfn (order 0 for the batched form).
        case pageFree
        /// `mm_page_alloc_zone_locked`: a buddy allocation under the zone lock (a PCP refill or
        /// a high order); the model makes its own, so the replay only counts it.
        case zoneLocked
        /// `mm_page_pcpu_drain`: pages going back from a PCP list to the buddy; counted only.
        case pcpDrain
        /// Any other event that may be in the file (recorded with --events).
        case other

        /// The tracepoint name as it appears in the trace.
        public var eventName: String {
            switch self {
            case .kmalloc: return "kmalloc"
            case .kfree: return "kfree"
            case .cacheAlloc: return "kmem_cache_alloc"
            case .cacheFree: return "kmem_cache_free"
            case .pageAlloc: return "mm_page_alloc"
            case .pageFree: return "mm_page_free"
            case .zoneLocked: return "mm_page_alloc_zone_locked"
            case .pcpDrain: return "mm_page_pcpu_drain"
            case .other: return "other"
            }
        }
    }

    public var kind: Kind
    /// The CPU in brackets.
    public var cpu: Int32
    public var pid: Int32
    /// The timestamp in nanoseconds (the trace prints seconds with microseconds).
    public var timeNS: UInt64
    /// `ptr=` for slab events (hashed by %p, but stable within one boot), `pfn=` for page events.
    public var address: UInt64
    public var bytesReq: Int32
    public var bytesAlloc: Int32
    public var order: Int32
    /// `node=`: -1 (any) unless the caller asked for a node.
    public var node: Int32
    public var gfp: GFP
    /// Index into the reader's name table (`name=` of the kmem_cache events), -1 when none.
    public var nameID: Int32
    /// Line in the file, for messages.
    public var line: Int32

    public init(kind: Kind, cpu: Int32 = 0, pid: Int32 = 0, timeNS: UInt64 = 0, address: UInt64 = 0, bytesReq: Int32 = 0,
                bytesAlloc: Int32 = 0, order: Int32 = 0, node: Int32 = -1, gfp: GFP = GFP(), nameID: Int32 = -1, line: Int32 = 0) {
        self.kind = kind; self.cpu = cpu; self.pid = pid; self.timeNS = timeNS; self.address = address
        self.bytesReq = bytesReq; self.bytesAlloc = bytesAlloc; self.order = order; self.node = node
        self.gfp = gfp; self.nameID = nameID; self.line = line
    }
}
