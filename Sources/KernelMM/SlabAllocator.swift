import CArch
import Foundation

/// The slab layer of one kernel (mm/slab_common.c): the cache registry (`slab_caches`),
/// `kmem_cache_create/destroy`, the kmalloc size classes and the slab shrinker.
public final class SlabAllocator: @unchecked Sendable {
    public let kernel: Kernel
    public let nodePolicy: LockPolicy
    private let registryLock = NSLock()
    private var caches: [KmemCache] = []
    /// Cache by id, for `kfree()` and the free paths (`slab->slab_cache`).
    @usableFromInline let table: UnsafeMutablePointer<Unmanaged<KmemCache>?>
    static let maxCaches = 4096
    /// Caches a user may create: the registry less the kmalloc caches made at boot.
    public static var maxUserCaches: Int { maxCaches - kmallocCacheNames.count }
    /// kmalloc caches: `kmalloc_caches[KMALLOC_NORMAL]` and `[KMALLOC_DMA]` by class index.
    public private(set) var kmallocNormal: [KmemCache] = []
    public private(set) var kmallocDMA: [KmemCache] = []
    @usableFromInline let kmallocTable: UnsafeMutablePointer<Unmanaged<KmemCache>>
    @usableFromInline let kmallocDMATable: UnsafeMutablePointer<Unmanaged<KmemCache>>
    private var shrinker: SlabShrinker?

    /// The kmalloc size classes of the kernel with 8-byte minimum alignment.
    public static let kmallocSizes = [8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192]

    /// KMALLOC_MAX_CACHE_SIZE: larger requests go straight to the page allocator.
    public static let kmallocMaxCacheSize = 8192

    /// `kmalloc-64`, `dma-kmalloc-1k`: the name of each size class's cache. These names are
    /// taken at boot, so a user cache cannot have one.
    public static func kmallocCacheName(size: Int, dma: Bool) -> String {
        (dma ? "dma-kmalloc-" : "kmalloc-") + (size >= 1024 ? "\(size / 1024)k" : "\(size)")
    }
    public static var kmallocCacheNames: [String] {
        kmallocSizes.flatMap { [kmallocCacheName(size: $0, dma: false), kmallocCacheName(size: $0, dma: true)] }
    }

    /// The `slub_debug=` options in force: debug flags for each cache by name.
    public let debugOptions: SlubDebugOptions

    /// Which caches have percpu sheaves (`SheafMode`).
    public let sheafMode: SheafMode

    /// `debug` adds flags to every cache; `slubDebug` (the kernel's `slub_debug=` string,
    /// parsed) adds flags to each cache by its name, kmalloc caches included.
    public init(kernel: Kernel, nodePolicy: LockPolicy = .spin, debug: SlabFlags = [], slubDebug: SlubDebugOptions = .off,
                sheaves: SheafMode = .optIn) throws {
        self.kernel = kernel
        self.nodePolicy = nodePolicy
        self.debugOptions = slubDebug
        self.sheafMode = sheaves
        table = .allocate(capacity: Self.maxCaches)
        table.initialize(repeating: nil, count: Self.maxCaches)
        kmallocTable = .allocate(capacity: Self.kmallocSizes.count)
        kmallocDMATable = .allocate(capacity: Self.kmallocSizes.count)
        var normal: [KmemCache] = [], dma: [KmemCache] = []
        for size in Self.kmallocSizes {
            normal.append(try makeCache(name: Self.kmallocCacheName(size: size, dma: false), size: size, align: 0,
                                        flags: debug.union(.kmalloc), ctor: nil, sheafCapacity: 0))
            dma.append(try makeCache(name: Self.kmallocCacheName(size: size, dma: true), size: size, align: 0,
                                     flags: debug.union([.cacheDMA, .kmalloc]), ctor: nil, sheafCapacity: 0))
        }
        kmallocNormal = normal
        kmallocDMA = dma
        for (i, c) in normal.enumerated() { (kmallocTable + i).initialize(to: Unmanaged.passUnretained(c)) }
        for (i, c) in dma.enumerated() { (kmallocDMATable + i).initialize(to: Unmanaged.passUnretained(c)) }
        let s = SlabShrinker(allocator: self)
        shrinker = s
        kernel.registerShrinker(s)
    }

    deinit {
        if let s = shrinker { kernel.unregisterShrinker(s) }
        table.deallocate(); kmallocTable.deallocate(); kmallocDMATable.deallocate()
    }

    /// `kmem_cache_create(name, size, align, flags, ctor)`, with `sheafCapacity` as
    /// `kmem_cache_args.sheaf_capacity` (6.18: objects per percpu sheaf, 0 for none). A failure
    /// throws `SlabError`, or `KernelPanic` when the flags hold SLAB_PANIC.
    public func createCache(name: String, size: Int, align: Int = 0, flags: SlabFlags = [],
                            ctor: KmemCache.Constructor? = nil, sheafCapacity: Int = 0) throws -> KmemCache {
        do {
            return try makeCache(name: name, size: size, align: align, flags: flags, ctor: ctor, sheafCapacity: sheafCapacity)
        } catch let e as SlabError where flags.contains(.panic) {
            kernel.log.report(.slabError, "kmem_cache_create: Failed to create slab '\(name)'. Error \(e.message)")
            throw KernelPanic(message: "kmem_cache_create: Failed to create slab '\(name)'")
        }
    }

    private func makeCache(name: String, size: Int, align: Int, flags: SlabFlags, ctor: KmemCache.Constructor?,
                           sheafCapacity: Int) throws -> KmemCache {
        guard (0...SlabSheaf.maxCapacity).contains(sheafCapacity) else {
            throw SlabError("sheaf_capacity must be 0…\(SlabSheaf.maxCapacity), got \(sheafCapacity)")
        }
        registryLock.lock(); defer { registryLock.unlock() }
        if caches.contains(where: { $0.name == name }) { throw SlabError("a cache named \(name) exists already") }
        guard let id = (0..<Int32(Self.maxCaches)).first(where: { table[Int($0)] == nil }) else {
            throw SlabError("too many caches")
        }
        let flags = debugOptions.flags(for: name, size: size, align: align, base: flags, hasCtor: ctor != nil, cpus: kernel.cpus.count)
        let cache = try KmemCache(name: name, id: id, size: size, align: align, flags: flags, ctor: ctor,
                                  sheafCapacity: sheafCapacity, sheafMode: sheafMode,
                                  kernel: kernel, allocator: self, nodePolicy: nodePolicy)
        caches.append(cache)
        table[Int(id)] = Unmanaged.passUnretained(cache)
        return cache
    }

    /// `kmem_cache_destroy()`: refused, with the kernel's report, while objects are out. The
    /// CPUs must be quiet (the kernel would flush them by IPI; here the caller runs the flush on
    /// their behalf).
    public func destroyCache(_ cache: KmemCache, cpu: CPUContext) throws {
        cpu.mightSleep(log: kernel.log, at: "mm/slab_common.c kmem_cache_destroy")   // slab_mutex
        let inUse = cache.objectsInUse
        if inUse > 0 {
            cache.reportBug(.busyDestroy, address: nil, cache.bugHeader("Objects remaining in \(cache.name) on __kmem_cache_shutdown()")
                + "kmem_cache_destroy \(cache.name): Slab cache still has objects (\(inUse))")
            kernel.log.addTaint(KernelLog.taintBadPage)
            throw SlabError("kmem_cache_destroy \(cache.name): Slab cache still has objects")
        }
        for other in kernel.cpus { cache.flush(other) }
        cache.flushBarns(cpu)
        cache.shrink(cpu)
        registryLock.lock()
        caches.removeAll { $0 === cache }
        table[Int(cache.id)] = nil
        registryLock.unlock()
    }

    @inline(__always) func cache(id: Int32) -> KmemCache? {
        id >= 0 && Int(id) < Self.maxCaches ? table[Int(id)]?.takeUnretainedValue() : nil
    }

    public var allCaches: [KmemCache] {
        registryLock.lock(); defer { registryLock.unlock() }
        return caches
    }

    /// Flushes every CPU's sheaves and slab and every barn of every cache, then discards empty
    /// slabs: the end of a run, with the CPUs quiet. `cpu` receives the freed pages on its PCP
    /// lists.
    public func flushAll(cpu: CPUContext) {
        for c in allCaches {
            for other in kernel.cpus { c.flush(other) }
            c.flushBarns(cpu)
            c.shrink(cpu)
        }
    }
}

/// The slab layer's reclaim hook (`slab_shrink`-style): empty slabs on partial lists go back to
/// the buddy allocator, except for SLAB_NO_REAP caches.
final class SlabShrinker: Shrinker, @unchecked Sendable {
    let name = "slab"
    unowned let allocator: SlabAllocator
    init(allocator: SlabAllocator) { self.allocator = allocator }

    func count(node: Int) -> Int {
        allocator.allCaches.filter { !$0.flags.contains(.noReap) }.reduce(0) { $0 + $1.emptySlabs(node: node) }
    }

    func scan(node: Int, count: Int, cpu: CPUContext?) -> Int {
        guard let cpu = cpu ?? allocator.kernel.reclaimContext(node: node) else { return 0 }
        var freed = 0
        for c in allocator.allCaches where !c.flags.contains(.noReap) && freed < count {
            freed += c.shrink(cpu, limit: count)
        }
        return freed
    }
}
