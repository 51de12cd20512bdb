import Foundation

/// `/proc/slabinfo` (version 2.1, mm/slab_common.c `cache_show`) and a `slabtop`-like table.
/// Objects on CPU freelists and in sheaves count as free here (SLUB counts them active): the
/// figures are exact.
extension SlabAllocator {
    public struct CacheInfo: Sendable, Codable, Equatable {
        public var name: String
        public var activeObjects: Int
        public var totalObjects: Int
        public var objectSize: Int
        /// Bytes per slot, metadata included (`s->size`, the objsize column).
        public var slotSize: Int
        public var objectsPerSlab: Int
        public var pagesPerSlab: Int
        public var slabs: Int
        public var remoteFrees: UInt64
        /// The fast/slow path counters of CONFIG_SLUB_STATS, summed over CPUs.
        public var stats: SlubStats? = nil
        public var cacheBytes: Int { slabs * pagesPerSlab * PAGE_SIZE }
    }

    /// `/sys/kernel/slab/<cache>/{alloc,free}_{fastpath,slowpath}`, `alloc_from_partial`,
    /// `alloc_slab`, `cpu_partial_alloc`, `cpu_partial_free`: where allocations and frees went.
    /// With sheaves, the fast and slow paths also count what sheaf refills and flushes sent
    /// through them (as the kernel's bulk paths count), so they are slab-path events, not
    /// caller operations.
    public struct SlubStats: Sendable, Codable, Equatable {
        public var allocFastpath: UInt64
        public var allocSlowpath: UInt64
        public var freeFastpath: UInt64
        public var freeSlowpath: UInt64
        public var allocFromPartial: UInt64
        public var allocSlab: UInt64
        public var cpuPartialAlloc: UInt64
        public var cpuPartialFree: UInt64
        /// The sheaf items, for a cache with sheaves only.
        public var sheaves: SheafStats? = nil

        /// Allocations and frees counted on any path (sheaves included): what a slow-path
        /// share is a share of.
        public var allocEvents: UInt64 { allocFastpath + allocSlowpath + (sheaves?.allocCPUSheaf ?? 0) }
        public var freeEvents: UInt64 { freeFastpath + freeSlowpath + (sheaves?.freeCPUSheaf ?? 0) }
    }

    /// `/sys/kernel/slab/<cache>/` of Linux 6.18 for a cache with sheaves: `sheaf_capacity`,
    /// `alloc_cpu_sheaf`, `free_cpu_sheaf` (objects through the sheaves), `sheaf_refill` and
    /// `sheaf_flush` (objects moved between sheaves and slabs), `sheaf_alloc`, `sheaf_free`,
    /// `barn_get(_fail)`, `barn_put(_fail)`.
    public struct SheafStats: Sendable, Codable, Equatable {
        public var sheafCapacity: Int
        public var allocCPUSheaf: UInt64 = 0
        public var freeCPUSheaf: UInt64 = 0
        public var sheafRefill: UInt64 = 0
        public var sheafFlush: UInt64 = 0
        public var sheafAlloc: UInt64 = 0
        public var sheafFree: UInt64 = 0
        public var barnGet: UInt64 = 0
        public var barnGetFail: UInt64 = 0
        public var barnPut: UInt64 = 0
        public var barnPutFail: UInt64 = 0

        public init(sheafCapacity: Int) { self.sheafCapacity = sheafCapacity }

        /// The counters' sysfs file names, and their values in the same order.
        public static let sysfsNames = ["alloc_cpu_sheaf", "free_cpu_sheaf", "sheaf_refill", "sheaf_flush", "sheaf_alloc",
                                        "sheaf_free", "barn_get", "barn_get_fail", "barn_put", "barn_put_fail"]
        public var sysfsValues: [UInt64] {
            [allocCPUSheaf, freeCPUSheaf, sheafRefill, sheafFlush, sheafAlloc, sheafFree, barnGet, barnGetFail, barnPut, barnPutFail]
        }

        /// Two caches' counters together (the capacity is left as it was).
        public mutating func add(_ o: SheafStats) {
            allocCPUSheaf += o.allocCPUSheaf; freeCPUSheaf += o.freeCPUSheaf
            sheafRefill += o.sheafRefill; sheafFlush += o.sheafFlush; sheafAlloc += o.sheafAlloc; sheafFree += o.sheafFree
            barnGet += o.barnGet; barnGetFail += o.barnGetFail; barnPut += o.barnPut; barnPutFail += o.barnPutFail
        }

        mutating func add(_ p: PerCPUSheaves) {
            allocCPUSheaf += p.allocCPUSheaf; freeCPUSheaf += p.freeCPUSheaf
            sheafRefill += p.sheafRefill; sheafFlush += p.sheafFlush; sheafAlloc += p.sheafAlloc; sheafFree += p.sheafFree
            barnGet += p.barnGet; barnGetFail += p.barnGetFail; barnPut += p.barnPut; barnPutFail += p.barnPutFail
        }
    }

    public func stats(_ c: KmemCache) -> SlubStats {
        var s = SlubStats(allocFastpath: 0, allocSlowpath: 0, freeFastpath: 0, freeSlowpath: 0, allocFromPartial: 0,
                          allocSlab: 0, cpuPartialAlloc: 0, cpuPartialFree: 0)
        for cpu in 0..<kernel.cpus.count {
            let p = c.cpuStats(cpu)
            s.allocSlowpath += p.slowAllocs; s.allocFastpath += p.allocs &- p.slowAllocs
            s.freeSlowpath += p.slowFrees; s.freeFastpath += p.frees &- p.slowFrees
            s.allocFromPartial += p.partialTaken; s.allocSlab += p.newSlabs
            s.cpuPartialAlloc += p.cpuPartialAlloc; s.cpuPartialFree += p.cpuPartialFree
        }
        if c.hasSheaves {
            var sh = SheafStats(sheafCapacity: c.sheafCapacity)
            for cpu in 0..<kernel.cpus.count {
                let p = c.sheafStats(cpu)
                sh.add(p)
                // The slab paths that refills and flushes reached count where the kernel counts them.
                s.allocSlowpath += p.refillSlowpath
                s.freeFastpath += p.flushFastpath; s.freeSlowpath += p.flushSlowpath
            }
            s.sheaves = sh
        }
        return s
    }

    public func info(_ c: KmemCache) -> CacheInfo {
        let remote = c.remoteFreeMatrix().joined().reduce(0, +)
        return CacheInfo(name: c.name, activeObjects: max(c.objectsInUse, 0), totalObjects: c.totalObjects,
                         objectSize: c.objectSize, slotSize: c.layout.size, objectsPerSlab: c.layout.objectsPerSlab,
                         pagesPerSlab: 1 << c.layout.order, slabs: c.slabs, remoteFrees: remote, stats: stats(c))
    }

    /// The text of /proc/slabinfo, newest cache first as the kernel lists them.
    public func slabinfo() -> String {
        var out = "slabinfo - version: 2.1\n"
        out += "# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>\n"
        for c in allCaches.reversed() {
            let i = info(c)
            out += Self.pad(i.name, 17) + " "
            out += Self.num(i.activeObjects, 6) + " " + Self.num(i.totalObjects, 6) + " " + Self.num(i.slotSize, 6) + " "
            out += Self.num(i.objectsPerSlab, 4) + " " + Self.num(i.pagesPerSlab, 4)
            out += " : tunables " + Self.num(0, 4) + " " + Self.num(0, 4) + " " + Self.num(0, 4)
            out += " : slabdata " + Self.num(i.slabs, 6) + " " + Self.num(i.slabs, 6) + " " + Self.num(0, 6) + "\n"
        }
        return out
    }

    /// slabtop's columns, largest caches first.
    public func slabtop(limit: Int = 20) -> String {
        let rows = allCaches.map(info).filter { $0.slabs > 0 }.sorted { $0.cacheBytes > $1.cacheBytes }.prefix(limit)
        var out = "  OBJS ACTIVE  USE OBJ SIZE  SLABS OBJ/SLAB CACHE SIZE NAME\n"
        for i in rows {
            let use = i.totalObjects == 0 ? 0 : i.activeObjects * 100 / i.totalObjects
            out += Self.num(i.totalObjects, 6) + " " + Self.num(i.activeObjects, 6) + " " + Self.num(use, 3) + "% "
            out += String(format: "%7.2fK", Double(i.objectSize) / 1024) + " " + Self.num(i.slabs, 6) + " "
            out += Self.num(i.objectsPerSlab, 8) + " " + Self.num(i.cacheBytes / 1024, 9) + "K " + i.name + "\n"
        }
        return out
    }

    static func num(_ v: Int, _ width: Int) -> String {
        let s = String(v)
        return String(repeating: " ", count: max(0, width - s.count)) + s
    }

    static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
    }
}
