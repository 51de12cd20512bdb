import KernelMM
import Topology

extension ReplayPlan {
    /// The one pass over the events: pairs frees with allocations, assigns slots, maps CPUs and
    /// keeps the figures. Live objects are keyed by address with the page/slab namespace in the
    /// top bit (a pfn and a hashed pointer could be equal).
    struct Builder {
        struct Live {
            var cpu: Int32          // logical CPU of the allocation
            var traceCPU: Int32
            var index: Int32        // position of the allocation in its CPU's stream
            var kind: ReplayOp.Kind
            var arg: Int32
            var bytes: Int32
            var cache: Int32        // plan cache index or -1 (for the peak figures)
            var size: Int32         // bytes_req
        }

        let machine: Topology.Machine
        let cpuNodes: [Int]
        var cpuMapTable: [Int] = []
        /// By logical CPU (an array: this is touched once per event).
        var streams: [ContiguousArray<ReplayOp>]
        var live: [UInt64: Live] = [:]
        var nextSlot: Int32 = 0
        var caches: [ReplayCache] = []
        var cacheByName: [String: Int32] = [:]     // name → plan cache (-3: the model cannot create it)
        var unresolved: [Int32: Int] = [:]         // unnamed cache → allocations no free has named
        var touched = Set<String>()
        /// Counted by kind and by reason in arrays (a string-keyed dictionary per event would
        /// hash a string each time); `replayed` and `skipped` give them names.
        var replayedCounts = [Int](repeating: 0, count: 4)
        var skippedCounts = [Int](repeating: 0, count: Skip.allCases.count)
        var replayed: [String: Int] {
            Dictionary(uniqueKeysWithValues: (0..<4).map { (Self.label(ReplayOp.Kind(rawValue: UInt8($0))!), replayedCounts[$0]) })
        }
        var skipped: [String: Int] {
            Dictionary(uniqueKeysWithValues: Self.reasons.enumerated().filter { skippedCounts[$0.offset] > 0 }
                .map { ($0.element.rawValue, skippedCounts[$0.offset]) })
        }
        var tracedRemote = 0
        var modelRemote = 0
        var firstTime: UInt64? = nil
        var liveBytes = 0
        var peakBytes = 0
        var liveByCache: [Int32: Int] = [:]
        var peakByCacheID: [Int32: Int] = [:]
        var peakByCache: [String: Int] = [:]
        static let pageBit: UInt64 = 1 << 63
        /// Above this a kmalloc or page block is not replayed: the model's largest buddy block.
        let maxOrder: Int

        init(machine: Topology.Machine, header: TraceHeader, maxOrder: Int) {
            self.machine = machine
            cpuNodes = header.cpuNodes
            self.maxOrder = maxOrder
            cpuMapTable = ReplayPlan.cpuMap(traceCPUs: max(header.cpus ?? 0, 1), cpuNodes: header.cpuNodes, machine: machine)
            streams = Array(repeating: [], count: max(machine.pus.count, 1))
        }

        static let reasons = Skip.allCases
        mutating func skip(_ why: Skip) { skippedCounts[Self.reasons.firstIndex(of: why)!] += 1 }

        mutating func logical(_ traceCPU: Int32) -> Int {
            let c = Int(traceCPU)
            if c >= cpuMapTable.count {
                cpuMapTable = ReplayPlan.cpuMap(traceCPUs: c + 1, cpuNodes: cpuNodes, machine: machine)
            }
            return cpuMapTable[c]
        }

        mutating func take(_ e: TraceEvent, _ names: [String]) {
            if firstTime == nil { firstTime = e.timeNS }
            let t = e.timeNS &- firstTime!
            switch e.kind {
            case .kmalloc:
                guard e.address != 0 else { return skip(.failedInKernel) }
                let size = Int(e.bytesReq > 0 ? e.bytesReq : e.bytesAlloc)
                guard size > 0 else { return skip(.zeroSize) }
                guard size <= KernelMM.PAGE_SIZE << maxOrder else { return skip(.tooLarge) }
                if e.bytesAlloc <= 8192 { touched.insert(SlabAllocator.kmallocCacheName(size: Int(e.bytesAlloc), dma: false)) }
                allocate(e, kind: .kmalloc, arg: Int32(size), bytes: e.bytesAlloc, cache: -1, gfp: e.gfp, time: t)
            case .cacheAlloc:
                guard e.address != 0 else { return skip(.failedInKernel) }
                // Kernels before 6.2 print no name= here; the cache is named by the object
                // size until its kmem_cache_free (which has name=) says which it was.
                let name = e.nameID >= 0 && Int(e.nameID) < names.count ? names[Int(e.nameID)]
                    : Self.unnamedPrefix + String(e.bytesReq > 0 ? e.bytesReq : e.bytesAlloc)
                if let dma = Self.kmallocClass(name) {
                    // kmalloc-64, kmalloc-cg-64, kmalloc-rnd-03-64, dma-kmalloc-64: the model's kmalloc caches.
                    touched.insert(name)
                    let size = Int(e.bytesReq > 0 ? e.bytesReq : e.bytesAlloc)
                    guard size > 0 else { return skip(.zeroSize) }
                    var gfp = e.gfp
                    if dma { gfp.insert(.dma) }
                    allocate(e, kind: .kmalloc, arg: Int32(size), bytes: e.bytesAlloc, cache: -1, gfp: gfp, time: t)
                    return
                }
                let cache = cacheIndex(name, size: Int(e.bytesReq > 0 ? e.bytesReq : e.bytesAlloc), slot: Int(e.bytesAlloc))
                guard cache >= 0 else { return skip(.unsupportedCache) }
                touched.insert(name)
                if e.nameID < 0 { unresolved[cache, default: 0] += 1 }
                allocate(e, kind: .cacheAlloc, arg: cache, bytes: e.bytesAlloc, cache: cache, gfp: e.gfp, time: t)
            case .pageAlloc:
                guard e.address != 0 else { return skip(.failedInKernel) }
                guard e.order >= 0 && Int(e.order) <= maxOrder else { return skip(.tooLarge) }
                allocate(e, kind: .pageAlloc, arg: e.order, bytes: Int32(KernelMM.PAGE_SIZE << Int(e.order)), cache: -1,
                         gfp: e.gfp, time: t, key: e.address | Self.pageBit)
            case .kfree, .cacheFree:
                guard e.address != 0 else { return skip(.nullFree) }
                free(e, key: e.address, time: t, names: names)
            case .pageFree:
                free(e, key: e.address | Self.pageBit, time: t, names: names)
            case .zoneLocked, .pcpDrain:
                skip(.modelInternal)
            case .other:
                break
            }
        }

        /// nil: not a kmalloc cache; otherwise whether it is a DMA one.
        static func kmallocClass(_ name: String) -> Bool? {
            if name.hasPrefix("dma-kmalloc") { return true }
            if name.hasPrefix("kmalloc-") { return false }
            return nil
        }

        static let unnamedPrefix = "unnamed-"

        mutating func cacheIndex(_ name: String, size: Int, slot: Int) -> Int32 {
            if let c = cacheByName[name] { return c }
            let c = ReplayCache(name: name, objectSize: size, slotSize: slot)
            let ok = size > 0 && (try? SlabLayout(size: size, align: 0, flags: c.flags, hasCtor: false, cpus: max(machine.pus.count, 1))) != nil
            let index: Int32 = ok ? Int32(caches.count) : -3
            if ok { caches.append(c) }
            cacheByName[name] = index
            return index
        }

        /// An allocation from an unnamed cache whose free names it: the allocation moves to
        /// the named cache (or to kmalloc when it names a kmalloc cache).
        mutating func resolve(_ a: inout Live, name: String) {
            guard a.kind == .cacheAlloc, a.cache >= 0, caches[Int(a.cache)].name.hasPrefix(Self.unnamedPrefix),
                  !name.hasPrefix(Self.unnamedPrefix) else { return }
            unresolved[a.cache, default: 0] -= 1
            liveByCache[a.cache, default: 1] -= 1
            if let dma = Self.kmallocClass(name) {
                touched.insert(name)
                replayedCounts[Int(ReplayOp.Kind.cacheAlloc.rawValue)] -= 1
                replayedCounts[Int(ReplayOp.Kind.kmalloc.rawValue)] += 1
                a.kind = .kmalloc
                a.arg = a.size
                a.cache = -1
                streams[Int(a.cpu)][Int(a.index)].kind = .kmalloc
                streams[Int(a.cpu)][Int(a.index)].allocKind = .kmalloc
                streams[Int(a.cpu)][Int(a.index)].arg = a.size
                if dma { streams[Int(a.cpu)][Int(a.index)].gfp |= GFP.dma.rawValue }
                return
            }
            let c = cacheIndex(name, size: Int(a.size), slot: Int(a.bytes))
            guard c >= 0 else { return }
            touched.insert(name)
            a.cache = c
            a.arg = c
            streams[Int(a.cpu)][Int(a.index)].arg = c
            liveByCache[c, default: 0] += 1
            peakByCacheID[c] = max(peakByCacheID[c, default: 0], liveByCache[c]!)
        }

        mutating func allocate(_ e: TraceEvent, kind: ReplayOp.Kind, arg: Int32, bytes: Int32, cache: Int32, gfp: GFP,
                               time: UInt64, key: UInt64? = nil) {
            let key = key ?? e.address
            let cpu = logical(e.cpu)
            if let old = live[key] {
                // The same address handed out again without a traced free: the earlier object
                // stays held to the end, as a leak would.
                skip(.overwritten)
                release(old)
            }
            let index = Int32(streams[cpu].count)
            streams[cpu].append(ReplayOp(kind: kind, allocKind: kind, arg: arg, gfp: gfp.rawValue, slot: -1, timeNS: time))
            live[key] = Live(cpu: Int32(cpu), traceCPU: e.cpu, index: index, kind: kind, arg: arg, bytes: bytes, cache: cache,
                             size: e.bytesReq > 0 ? e.bytesReq : bytes)
            replayedCounts[Int(kind.rawValue)] += 1
            liveBytes += Int(bytes)
            peakBytes = max(peakBytes, liveBytes)
            if cache >= 0 {
                let n = liveByCache[cache, default: 0] + 1
                liveByCache[cache] = n
                peakByCacheID[cache] = max(peakByCacheID[cache, default: 0], n)
            }
        }

        mutating func release(_ l: Live) {
            liveBytes -= Int(l.bytes)
            if l.cache >= 0 { liveByCache[l.cache, default: 1] -= 1 }
        }

        mutating func free(_ e: TraceEvent, key: UInt64, time: UInt64, names: [String]) {
            guard var a = live.removeValue(forKey: key) else { return skip(.preTraceFree) }
            if e.nameID >= 0 && Int(e.nameID) < names.count { resolve(&a, name: names[Int(e.nameID)]) }
            release(a)
            let cpu = logical(e.cpu)
            let slot = nextSlot
            nextSlot += 1
            streams[Int(a.cpu)][Int(a.index)].slot = slot
            streams[cpu].append(ReplayOp(kind: .free, allocKind: a.kind, arg: a.arg, gfp: 0, slot: slot, timeNS: time))
            replayedCounts[Int(ReplayOp.Kind.free.rawValue)] += 1
            if a.traceCPU != e.cpu { tracedRemote += 1 }
            if Int(a.cpu) != cpu { modelRemote += 1 }
        }

        static func label(_ k: ReplayOp.Kind) -> String {
            switch k {
            case .kmalloc: return "kmalloc"
            case .cacheAlloc: return "kmem_cache_alloc"
            case .pageAlloc: return "alloc_pages"
            case .free: return "free"
            }
        }

        mutating func finish() {
            // An unnamed cache every allocation of which was named by its free is not a cache.
            for (c, n) in unresolved where n == 0 { touched.remove(caches[Int(c)].name) }
            for (id, peak) in peakByCacheID { peakByCache[caches[Int(id)].name] = peak }
        }
    }
}
