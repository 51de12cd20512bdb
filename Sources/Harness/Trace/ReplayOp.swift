import KernelMM

/// One operation of a replay stream: what a traced kmem event asks of the model, reduced to
/// plain values (16 bytes + time) so that a CPU's stream is one flat array.
struct ReplayOp {
    enum Kind: UInt8 {
        /// `kmalloc(arg)`.
        case kmalloc
        /// `kmem_cache_alloc(caches[arg])`.
        case cacheAlloc
        /// `alloc_pages(order: arg)`.
        case pageAlloc
        /// The free of the object in `slot`, by the call its allocation needs (`kfree`,
        /// `kmem_cache_free`, `__free_pages`) whatever the traced free was: the kernel's
        /// kfree() also takes kmem_cache_alloc'd objects.
        case free
    }

    var kind: Kind
    /// For a free: the allocation's kind, which decides the call.
    var allocKind: Kind
    /// Size (kmalloc), plan cache index (cacheAlloc) or order (pageAlloc); for a free, the
    /// allocation's.
    var arg: Int32
    var gfp: UInt32
    /// Where the allocation leaves its object for the CPU that frees it; -1 for an allocation
    /// never freed in the trace (kept to the end of the run).
    var slot: Int32
    /// Nanoseconds since the trace's first event (for `--pace`).
    var timeNS: UInt64

    var opKind: OpKind {
        switch kind == .free ? allocKind : kind {
        case .kmalloc: return .kmalloc
        case .cacheAlloc: return .kmemCacheAlloc
        default: return .allocPages
        }
    }
}

/// A cache the trace allocated from by name (`kmem_cache_alloc: name=…`), created in the model
/// with the traced object size.
public struct ReplayCache: Sendable, Equatable {
    public var name: String
    /// `bytes_req` of the traced allocations: the cache's object size.
    public var objectSize: Int
    /// `bytes_alloc`: the real slot size, which hints at its alignment.
    public var slotSize: Int
    public var flags: SlabFlags

    /// SLAB_HWCACHE_ALIGN is read off the trace: a slot that is the object rounded up to a
    /// cache line (and bigger than the object rounded to a word) means the real cache asked for it.
    init(name: String, objectSize: Int, slotSize: Int) {
        self.name = name; self.objectSize = objectSize; self.slotSize = slotSize
        let line = SlabLayout.cacheLine
        let lineRounded = (objectSize + line - 1) / line * line
        let wordRounded = (objectSize + 7) / 8 * 8
        flags = slotSize == lineRounded && lineRounded != wordRounded && objectSize > line / 2 ? [.hwcacheAlign] : []
    }
}
