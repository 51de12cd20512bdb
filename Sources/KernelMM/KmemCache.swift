import CArch
import Foundation

/// A slab cache (`struct kmem_cache`, mm/slub.c): objects of one size carved from buddy pages,
/// with a lock-free per-CPU freelist in front (`this_cpu_cmpxchg`-free here because only the
/// owner touches it) and per-node partial lists behind a node lock.
///
/// - Alloc fast path (`slab_alloc_node`): pop the CPU's main sheaf when the cache has sheaves
///   (`alloc_from_pcs`), else pop the CPU freelist.
/// - Free fast path: a local-node object onto the main sheaf (`free_to_pcs`), else, when it
///   lies in this CPU's slab, onto the CPU freelist (`do_slab_free`).
/// - Everything else (`___slab_alloc`, `__slab_free`) is in SlubSlowPath.swift, the sheaves'
///   slow paths in SlubSheafPath.swift; caches with debug flags always take the slab slow
///   path, so that every object is checked.
public final class KmemCache: @unchecked Sendable {
    public let name: String
    public let id: Int32
    public let flags: SlabFlags
    public let layout: SlabLayout
    public typealias Constructor = @Sendable (UnsafeMutableRawPointer) -> Void
    let ctor: Constructor?
    unowned(unsafe) let kernel: Kernel
    unowned(unsafe) let allocator: SlabAllocator
    /// The kernel's `pfn_to_nid()`, held here: the free paths ask it without a call on the
    /// shared kernel object (see `PFNToNode`).
    let pfnToNode: PFNToNode
    /// `[cpu]`, one 128-byte `KmemCacheCPU` each.
    @usableFromInline let percpu: UnsafeMutablePointer<KmemCacheCPU>
    @usableFromInline let fastPath: Bool
    @usableFromInline let freePointerOffset: Int
    public let objectSize: Int
    let nodes: [NodePartial]
    /// The same, reached without reference counting on the slow paths (both CPUs of a node
    /// would bounce the shared objects' counts); `nodes` keeps them alive.
    let nodeRefs: UnsafeMutablePointer<Unmanaged<NodePartial>>
    /// Remote frees `[freeing cpu][slab node]`, written by the freeing CPU only.
    let remoteFrees: UnsafeMutablePointer<UInt64>
    /// Slabs now owned by the cache, constructor calls, `slab_errors`, frees the debug code
    /// refused, and slabs it took out of service (all atomic).
    let counters: UnsafeMutablePointer<UInt64>
    let minPartial: Int
    /// `s->cpu_partial_slabs`: how many partial slabs a CPU may keep frozen for itself before
    /// they go to the node list; 0 for debug caches, which (as in SLUB) have no per-CPU partials.
    let cpuPartialSlabs: Int
    let errorCounts: UnsafeMutablePointer<UInt64>
    /// `s->reciprocal_size`: an offset in a slab to an object index without a divide.
    let reciprocalSize: ReciprocalDivisor
    /// `s->sheaf_capacity`: objects per sheaf; 0 for a cache without sheaves.
    public let sheafCapacity: Int
    @usableFromInline let hasSheaves: Bool
    /// `s->cpu_sheaves`: `[cpu]` when the cache has sheaves (one unused entry otherwise).
    let sheaves: UnsafeMutablePointer<PerCPUSheaves>
    let sheafSlots: Int
    /// The capacity-0 sheaf every CPU's `main` starts as (see `PerCPUSheaves`).
    let bootstrapSheaf: UnsafeMutablePointer<SlabSheaf>
    /// `n->barn` of each node, reached unretained (see `nodeRefs`).
    let barns: [NodeBarn]
    let barnRefs: UnsafeMutablePointer<Unmanaged<NodeBarn>>
    /// The direct map and `mem_map`, for the sheaf free path's `virt_to_slab()`.
    let directMapBase: UInt
    let directMapBytes: UInt
    let memMap: UnsafeMutablePointer<Page>

    init(name: String, id: Int32, size: Int, align: Int, flags: SlabFlags, ctor: Constructor?,
         sheafCapacity requested: Int = 0, sheafMode: SheafMode = .optIn,
         kernel: Kernel, allocator: SlabAllocator, nodePolicy: LockPolicy) throws {
        guard !name.isEmpty else { throw SlabError("cache name must not be empty") }
        self.name = name
        self.id = id
        self.flags = flags
        self.layout = try SlabLayout(size: size, align: align, flags: flags, hasCtor: ctor != nil, cpus: kernel.cpus.count)
        self.ctor = ctor
        self.kernel = kernel
        self.allocator = allocator
        pfnToNode = kernel.pfnToNode
        fastPath = flags.intersection(.debug).isEmpty
        freePointerOffset = layout.freePointerOffset
        objectSize = size
        let cpus = kernel.cpus.count
        percpu = CPUContext.cacheAligned(KmemCacheCPU.self, count: cpus)
        percpu.initialize(repeating: KmemCacheCPU(), count: cpus)
        nodes = kernel.nodes.map { NodePartial(name: "\(name) node \($0.id) partial", policy: nodePolicy, log: kernel.log) }
        nodeRefs = .allocate(capacity: nodes.count)
        for (i, n) in nodes.enumerated() { nodeRefs[i] = Unmanaged.passUnretained(n) }
        remoteFrees = .allocate(capacity: cpus * kernel.nodes.count)
        remoteFrees.initialize(repeating: 0, count: cpus * kernel.nodes.count)
        counters = .allocate(capacity: 5)
        counters.initialize(repeating: 0, count: 5)
        errorCounts = .allocate(capacity: SlabErrorKind.allCases.count)
        errorCounts.initialize(repeating: 0, count: SlabErrorKind.allCases.count)
        // SLUB's min_partial: ilog2(size) / 2, kept within [5, 10].
        reciprocalSize = ReciprocalDivisor(layout.size)
        minPartial = min(10, max(5, (Int.bitWidth - 1 - layout.size.leadingZeroBitCount) / 2))
        cpuPartialSlabs = fastPath ? Self.cpuPartialSlabs(size: layout.size, objectsPerSlab: layout.objectsPerSlab) : 0
        sheafCapacity = SlabSheaf.capacity(mode: sheafMode, requested: requested, slotSize: layout.size, debug: !fastPath)
        hasSheaves = sheafCapacity > 0
        bootstrapSheaf = SlabSheaf.allocate(capacity: 0)
        sheafSlots = hasSheaves ? cpus : 1
        sheaves = CPUContext.cacheAligned(PerCPUSheaves.self, count: sheafSlots)
        sheaves.initialize(repeating: PerCPUSheaves(bootstrap: bootstrapSheaf), count: sheafSlots)
        barns = hasSheaves ? kernel.nodes.map { NodeBarn(name: "\(name) node \($0.id) barn", log: kernel.log) } : []
        barnRefs = .allocate(capacity: max(barns.count, 1))
        for (i, b) in barns.enumerated() { barnRefs[i] = Unmanaged.passUnretained(b) }
        directMapBase = UInt(bitPattern: kernel.physicalBase)
        directMapBytes = UInt(kernel.physicalPages) << UInt(PAGE_SHIFT)
        memMap = kernel.memMap
    }

    /// `set_cpu_partial()` of Linux 6.12: an object budget by slot size (6, 24, 52 or 120
    /// objects from PAGE_SIZE, 1024, 256 bytes and below), kept by `slub_set_cpu_partial()` as
    /// twice that many objects' worth of slabs (`DIV_ROUND_UP(nr_objects * 2, oo_objects)`).
    static func cpuPartialSlabs(size: Int, objectsPerSlab: Int) -> Int {
        let objects = size >= KernelMM.PAGE_SIZE ? 6 : size >= 1024 ? 24 : size >= 256 ? 52 : 120
        return (objects * 2 + objectsPerSlab - 1) / max(objectsPerSlab, 1)
    }

    deinit {
        UnsafeMutableRawPointer(percpu).deallocate()
        releaseSheafMemory()
        remoteFrees.deallocate(); counters.deallocate(); errorCounts.deallocate(); nodeRefs.deallocate()
    }

    // MARK: fast paths

    /// `kmem_cache_alloc(cache, gfp)` on `cpu`.
    @inlinable @inline(__always)
    public func alloc(_ cpu: CPUContext, _ gfp: GFP) -> UnsafeMutableRawPointer? {
        if _slowPath(cpu.sleepForbidden(gfp)) { mightAllocReport(cpu) }
        if hasSheaves { return allocSheaved(cpu, gfp, origSize: objectSize) }
        return allocFromCPUSlab(cpu, gfp, origSize: objectSize)
    }

    /// `kmem_cache_alloc` for a kmalloc request of `origSize` bytes (`__kmalloc_cache`): the
    /// same fast path; a debug cache records the requested size.
    @inlinable @inline(__always)
    public func alloc(_ cpu: CPUContext, _ gfp: GFP, origSize: Int) -> UnsafeMutableRawPointer? {
        if _slowPath(cpu.sleepForbidden(gfp)) { mightAllocReport(cpu) }
        if hasSheaves { return allocSheaved(cpu, gfp, origSize: origSize) }
        return allocFromCPUSlab(cpu, gfp, origSize: origSize)
    }

    /// Pop the CPU freelist, else the slow path (`slab_alloc_node` without sheaves).
    @inlinable @inline(__always)
    func allocFromCPUSlab(_ cpu: CPUContext, _ gfp: GFP, origSize: Int) -> UnsafeMutableRawPointer? {
        let c = percpu + cpu.id
        if fastPath, let obj = c.pointee.freelist {
            c.pointee.freelist = obj.load(fromByteOffset: freePointerOffset, as: UnsafeMutableRawPointer?.self)
            c.pointee.allocs &+= 1
            if gfp.contains(.zero) { memset(obj, 0, objectSize) }
            return obj
        }
        return allocSlow(cpu, gfp, node: nil, origSize: origSize)
    }

    /// A cache with sheaves: the main sheaf, else the slabs. Out of line, so that the paths of
    /// caches without sheaves stay as short as they were (which cache has them is fixed).
    @usableFromInline @inline(never)
    func allocSheaved(_ cpu: CPUContext, _ gfp: GFP, origSize: Int) -> UnsafeMutableRawPointer? {
        if let obj = allocFromSheaves(cpu, gfp) { return obj }
        return allocFromCPUSlab(cpu, gfp, origSize: origSize)
    }

    /// `kmem_cache_alloc_node(cache, gfp, node)`.
    public func allocNode(_ cpu: CPUContext, _ gfp: GFP, node: Int) -> UnsafeMutableRawPointer? {
        if node == cpu.node {
            guard hasSheaves else { return alloc(cpu, gfp) }
            if cpu.sleepForbidden(gfp) { mightAllocReport(cpu) }
            return allocFromSheaves(cpu, gfp, node: node) ?? allocFromCPUSlab(cpu, gfp, origSize: objectSize)
        }
        if cpu.sleepForbidden(gfp) { mightAllocReport(cpu) }
        return allocSlow(cpu, gfp, node: node, origSize: objectSize)
    }

    /// `slab_pre_alloc_hook()`'s `might_alloc()` fired: a sleeping mask in atomic context.
    /// Every call reports, also those the CPU freelist would serve without sleeping.
    @usableFromInline @inline(never)
    func mightAllocReport(_ cpu: CPUContext) { kernel.log.reportSleepInAtomic(cpu, at: "mm/slub.c slab_pre_alloc_hook") }

    /// `kmem_cache_free(cache, obj)` on `cpu`.
    @inlinable @inline(__always)
    public func free(_ cpu: CPUContext, _ obj: UnsafeMutableRawPointer) {
        if hasSheaves { freeSheaved(cpu, obj); return }
        freeToCPUSlab(cpu, obj)
    }

    /// The object lies in this CPU's slab → push on its freelist (`do_slab_free`); else the
    /// slow path.
    @inlinable @inline(__always)
    func freeToCPUSlab(_ cpu: CPUContext, _ obj: UnsafeMutableRawPointer) {
        let c = percpu + cpu.id
        if fastPath && UInt(bitPattern: obj) &- c.pointee.slabBase < c.pointee.slabBytes && obj != c.pointee.freelist {
            obj.storeBytes(of: c.pointee.freelist, toByteOffset: freePointerOffset, as: UnsafeMutableRawPointer?.self)
            c.pointee.freelist = obj
            c.pointee.frees &+= 1
            return
        }
        freeSlow(cpu, obj)
    }

    /// A cache with sheaves: onto the main sheaf when the object is local, else to its slab.
    @usableFromInline @inline(never)
    func freeSheaved(_ cpu: CPUContext, _ obj: UnsafeMutableRawPointer) {
        if freeToSheaves(cpu, obj) { return }
        freeToCPUSlab(cpu, obj)
    }

    // MARK: figures

    /// Objects handed out and not yet freed (summed over CPUs; exact when they are quiet).
    public var objectsInUse: Int {
        (0..<kernel.cpus.count).reduce(0) { $0 + Int(allocations(onCPU: $1)) - Int(percpu[$1].frees) - Int(sheafStats($1).freeCPUSheaf) }
    }

    /// Objects handed out on `cpu`, from its sheaves and from its slabs.
    public func allocations(onCPU cpu: Int) -> UInt64 { percpu[cpu].allocs &+ sheafStats(cpu).allocCPUSheaf }

    /// The sheaf counters of `cpu` (all zero for a cache without sheaves).
    public func sheafStats(_ cpu: Int) -> PerCPUSheaves { hasSheaves ? sheaves[cpu] : PerCPUSheaves(bootstrap: bootstrapSheaf) }

    public var slabs: Int { Int(arch_load_relaxed_u64(counters)) }
    public var ctorCalls: Int { Int(arch_load_relaxed_u64(counters + 1)) }
    public var totalObjects: Int { slabs * layout.objectsPerSlab }

    public func errors(_ kind: SlabErrorKind) -> Int { Int(arch_load_relaxed_u64(errorCounts + kind.rawValue)) }

    /// Remote frees as a matrix `[freeing node][slab node]`.
    public func remoteFreeMatrix() -> [[UInt64]] {
        let n = kernel.nodes.count
        var m = Array(repeating: Array(repeating: UInt64(0), count: n), count: n)
        for cpu in kernel.cpus { for s in 0..<n { m[cpu.node][s] += remoteFrees[cpu.id * n + s] } }
        return m
    }

    public func cpuStats(_ cpu: Int) -> KmemCacheCPU { percpu[cpu] }

    /// The node-partial locks' figures, one snapshot per node.
    public func lockSnapshots() -> [LockSnapshot] { nodes.map { $0.lock.snapshot() } }

    /// Clears the node-partial lock figures (between warm-up and the measured phase).
    public func resetLockStats() { nodes.forEach { $0.lock.resetStats() } }
}

/// The kinds of misuse and corruption SLUB's debug checks report.
public enum SlabErrorKind: Int, CaseIterable, Sendable, Codable {
    case doubleFree, invalidPointer, redZone, poison, wrongCache, busyDestroy
    /// "Freepointer corrupt", "Freechain corrupt", "Freelist Pointer check fails".
    case freePointer
    /// "Wrong object count", slabs counted against the node's counters.
    case objectCount
    /// "Object padding", "Alignment padding", "Padding overwritten".
    case padding
    /// `check_slab()`: not a slab, counters out of bounds, disabled after a failed check.
    case slab
}
