/// One CPU's state for one cache (`struct kmem_cache_cpu`): the lock-free freelist of its CPU
/// slab, the slab's address range (so that "is this object from my slab?" is two compares), and
/// event counters. Touched only by the owning CPU. Padded to 128 bytes so that no two CPUs share
/// a line.
public struct KmemCacheCPU {
    @usableFromInline var freelist: UnsafeMutableRawPointer?
    @usableFromInline var slabBase: UInt
    /// Bytes of the CPU slab; 0 when the CPU has none, so the range check always fails.
    @usableFromInline var slabBytes: UInt
    @usableFromInline var slabPFN: Int
    public var allocs: UInt64
    public var frees: UInt64
    public internal(set) var slowAllocs: UInt64
    public internal(set) var slowFrees: UInt64
    public internal(set) var failures: UInt64
    public internal(set) var newSlabs: UInt64
    /// Slabs taken from the node's partial list.
    public internal(set) var partialTaken: UInt64
    /// This CPU's partial slabs (`slub_percpu_partial`): frozen for it, linked by PFN through
    /// `Page.next`, `partialCount` of them.
    var partialHead: Int32
    var partialCount: Int32
    /// `cpu_partial_free`: frees that froze a full slab onto this list; `cpu_partial_alloc`:
    /// CPU slabs refilled from it; both without the node lock.
    public internal(set) var cpuPartialFree: UInt64
    public internal(set) var cpuPartialAlloc: UInt64
    /// Debug caches: the node whose list lock this CPU holds through `withSlabHeld` (its own
    /// frees into that node then take no lock), or -1.
    var heldNode: Int32 = -1
    /// To 128 bytes, so that `percpu + cpu` starts every CPU on lines of its own.
    private var pad0: Int32 = 0
    private var pad1: UInt64 = 0

    init() {
        freelist = nil; slabBase = 0; slabBytes = 0; slabPFN = -1
        allocs = 0; frees = 0; slowAllocs = 0; slowFrees = 0; failures = 0; newSlabs = 0; partialTaken = 0
        partialHead = -1; partialCount = 0; cpuPartialFree = 0; cpuPartialAlloc = 0; heldNode = -1
    }
}

/// A node's list of partially used slabs of one cache (`struct kmem_cache_node`), under the
/// node-partial lock (spin or mutex, as configured). Links are PFNs through `Page.next/prev`.
final class NodePartial: @unchecked Sendable {
    let lock: KernelLock
    var head: Int32 = -1
    var count = 0
    /// Debug caches only: full slabs (SLAB_STORE_USER, `n->full`) and every slab of the node
    /// (`n->nr_slabs`), for the validation pass's cross-checks.
    var fullHead: Int32 = -1
    var slabs = 0
    /// Slabs emptied while a CPU held the lock through `withSlabHeld`, discarded on release.
    var deferredDiscards: [Int] = []

    init(name: String, policy: LockPolicy, log: KernelLog) {
        lock = KernelLock(name: name, policy: policy, log: log)
    }
}
