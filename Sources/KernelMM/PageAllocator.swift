import CArch
import Foundation

/// The page allocator entry points (mm/page_alloc.c): `alloc_pages()` with its fast path
/// (`get_page_from_freelist()` at the low watermark, PCP for orders 0–3) and slow path
/// (`__alloc_pages_slowpath()`: wake kswapd, min watermark with the reserves GFP allows, direct
/// compaction, direct reclaim, the high-atomic reserve given back, bounded wait for frees),
/// and `free_pages()`.
extension Kernel {
    /// `alloc_pages_node(node, gfp, order)`; `node` nil means the CPU's own node.
    /// `prepare_alloc_pages()`'s `might_alloc()` first.
    public func allocPages(_ cpu: CPUContext, _ gfp: GFP, order: Int, node: Int? = nil) -> PageRef? {
        cpu.mightAlloc(gfp, log: log, at: "mm/page_alloc.c alloc_pages")
        return allocPagesChecked(cpu, gfp, order: order, node: node)
    }

    /// `alloc_pages_node()` for a caller that made the context check itself (the slab layer
    /// and vmalloc check at their own entry, once per call).
    func allocPagesChecked(_ cpu: CPUContext, _ gfp: GFP, order: Int, node: Int? = nil) -> PageRef? {
        // `__alloc_pages()`: an order above MAX_PAGE_ORDER is the caller's bug, warned about
        // once (`WARN_ON_ONCE_GFP`: not at all with __GFP_NOWARN) and refused with NULL.
        if _slowPath(order > config.maxOrder || order < 0) { return orderOutOfRange(gfp, order) }
        if cpu.drainPending { _ = drainPCP(cpu) }
        let nodeID = node ?? cpu.node
        let highest = ZoneType.highest(for: gfp)
        let zonelist = zonelistTable + (nodeID * ZoneType.allCases.count + highest.rawValue) * zoneCount
        if let p = getPageFromFreelist(cpu, gfp, order: order, zonelist: zonelist, node: nodeID,
                                       highest: highest, flags: .wmarkLow) {
            return prepNewPage(p, gfp: gfp, order: order)
        }
        return allocSlowPath(cpu, gfp, order: order, zonelist: zonelist, node: nodeID, highest: highest)
    }

    /// `__free_pages(page, order)`.
    public func freePages(_ cpu: CPUContext, _ p: PageRef, order: Int) {
        let z = cores + Int(p.zone)
        let m = z.pointee.meta + Int(p.index)
        guard m.pointee.flags.contains(.head), Int(m.pointee.order) == order else {
            reportBadPage(cpu, p, order: order, reason: m.pointee.flags.contains(.head)
                          ? "freed with order \(order), allocated with order \(m.pointee.order)"
                          : "page is not allocated (double free?)")
            return
        }
        m.flagsOnce = []
        m.pointee.refcount = 0
        cpu.events[Int(p.zone)].frees &+= 1
        if cpu.drainPending { _ = drainPCP(cpu) }
        // The pageblock's type picks the list (free_unref_page()); a HighAtomic page goes to
        // the movable list and finds its own list again when drained.
        let blockMT = z.pointee.pageblockType(of: p.index)
        if order < PerCPUPages.orders {
            let mt = blockMT < MigrateType.pcpTypes ? blockMT : MigrateType.movable.rawValue
            let list = cpu.pcp + PerCPUPages.index(zone: Int(p.zone), order: order, mt: mt)
            z.pointee.pushPCP(p.index, onto: list, cpu: cpu.id)
            cpu.pcpCount[Int(p.zone)] &+= 1 << order
            // `nr_pcp_high()`: pages over every order's list against high; while reclaim is
            // under way (the zone below its high watermark, or someone waiting for free pages)
            // against min(4 × batch, high). Below that lower mark neither can drain, so the
            // zone's free count (a line other CPUs' buddy operations write) is read only above it.
            let count = cpu.pcpCount[Int(p.zone)]
            if count >= Swift.min(z.pointee.pcpBatch << 2, z.pointee.pcpHigh) {
                let reclaim = z.pointee.freePages < z.pointee.watermarks.high || freeWait.hasWaiters
                let high = reclaim ? Swift.min(z.pointee.pcpBatch << 2, z.pointee.pcpHigh) : z.pointee.pcpHigh
                if count >= high {
                    drainPCPList(cpu, z, list, order: order, pages: PerCPUPages.toFree(batch: z.pointee.pcpBatch, high: high))
                }
            }
        } else {
            giveBlock(cpu, z, p.index, order: order, mt: blockMT)
            freeWait.pagesFreed()
        }
    }

    /// `free_pcppages_bulk()` when the lists reached high: `pages` worth back to the buddy
    /// areas. Deliberate simplification: from the list just freed to only, where the kernel
    /// goes round the lists of every order starting there.
    @inline(never)
    func drainPCPList(_ cpu: CPUContext, _ z: UnsafeMutablePointer<ZoneCore>, _ list: UnsafeMutablePointer<PCPList>,
                      order: Int, pages: Int) {
        let n = Swift.min(Int(list.pointee.count), Swift.max(pages >> order, 1))
        giveBulk(cpu, z, order: order, count: n, from: list, remoteCost: true)
        cpu.pcpCount[z.pointee.index] &-= n << order
        cpu.events[z.pointee.index].pcpDrains &+= 1
        freeWait.pagesFreed()
    }

    /// `__get_free_pages()`: the block's address.
    public func getFreePages(_ cpu: CPUContext, _ gfp: GFP, order: Int) -> UnsafeMutableRawPointer? {
        allocPages(cpu, gfp, order: order).map(pageAddress)
    }

    /// `get_zeroed_page()`.
    public func getZeroedPage(_ cpu: CPUContext, _ gfp: GFP) -> UnsafeMutableRawPointer? {
        getFreePages(cpu, gfp.union(.zero), order: 0)
    }

    /// `free_pages(addr, order)`.
    public func freePages(_ cpu: CPUContext, address: UnsafeMutableRawPointer, order: Int) {
        guard let p = virtToPage(address) else {
            log.report(.badPage, "BUG: Bad page state: free_pages(\(address), \(order)) outside every zone, cpu\(cpu.id)")
            return
        }
        freePages(cpu, p, order: order)
    }

    /// Empties the CPU's PCP lists into the buddy areas (`drain_local_pages()`). Owner only.
    @discardableResult
    public func drainPCP(_ cpu: CPUContext) -> Int {
        cpu.clearDrainRequest()
        var freed = 0
        for zi in 0..<zoneCount where cores[zi].pages > 0 {
            let z = cores + zi
            for order in 0..<PerCPUPages.orders {
              for mt in 0..<MigrateType.pcpTypes {
                let list = cpu.pcp + PerCPUPages.index(zone: zi, order: order, mt: mt)
                guard list.pointee.count > 0 else { continue }
                freed += Int(list.pointee.count) << order
                cpu.pcpCount[zi] &-= Int(list.pointee.count) << order
                giveBulk(cpu, z, order: order, count: Int(list.pointee.count), from: list, remoteCost: false)
                cpu.events[zi].pcpDrains &+= 1
              }
            }
        }
        if freed > 0 { freeWait.pagesFreed() }
        return freed
    }

    /// Pages sitting on all CPUs' PCP lists (for conservation checks and zoneinfo).
    public func pcpPages(zone: Int) -> Int {
        cpus.reduce(0) { $0 + $1.pcpPages(zone: zone) }
    }

    // MARK: fast path

    @inline(__always)
    func getPageFromFreelist(_ cpu: CPUContext, _ gfp: GFP, order: Int, zonelist: UnsafeMutablePointer<Int32>,
                             node: Int, highest: ZoneType, flags: AllocFlags) -> PageRef? {
        let thisNode = gfp.contains(.thisnode)
        // `ac->preferred_zoneref`: the first zone of the zonelist the allocation may use.
        var preferred = -1
        var k = 0
        while k < zoneCount {
            let zi = Int(zonelist[k])
            k += 1
            if zi < 0 { break }
            let z = cores + zi
            if z.pointee.pages == 0 || (thisNode && z.pointee.node != node) { continue }
            if preferred < 0 { preferred = zi }
            let mark = flags.contains(.wmarkLow) ? z.pointee.watermarks.low : z.pointee.watermarks.min
            if !z.pointee.watermarkOK(order: order, mark: mark, highest: highest, flags: flags) {
                cpu.events[zi].watermarkHits &+= 1
                continue
            }
            // Only slow-path attempts carry reserve flags: did this one need them?
            let reserve = flags.contains(.minReserve) || flags.contains(.nonBlock)
                ? !z.pointee.watermarkOK(order: order, mark: mark, highest: highest, flags: []) : false
            if let i = rmqueue(cpu, z, order: order, mt: MigrateType.index(gfp: gfp), flags: flags,
                               mayBlock: gfp.allowsBlocking && !cpu.inAtomic) {
                if flags.contains(.highAtomic) { reserveHighatomicPageblock(cpu, z, i, order: order) }
                let e = cpu.events + zi
                e.pointee.countAlloc(GFPClass(gfp))
                if reserve { e.pointee.reserveAllocsBy[GFPClass(gfp)] &+= 1 }
                if z.pointee.type != highest { e.pointee.zoneFallbacks &+= 1 }
                if z.pointee.node != node { e.pointee.nodeFallbacks &+= 1 }
                zoneStatistics(cpu, preferred: preferred, zone: zi)
                return PageRef(zone: Int32(zi), index: i)
            }
        }
        return nil
    }

    /// `zone_statistics()`: hit or miss against the preferred zone's node (a miss also counts
    /// foreign on the preferred zone), local or other against the allocating CPU's node. Per-CPU
    /// counters, like the kernel's per-CPU zone stats, so no atomics.
    @inline(__always)
    func zoneStatistics(_ cpu: CPUContext, preferred: Int, zone zi: Int) {
        let e = cpu.events + zi
        let node = cores[zi].node
        if node == cores[preferred].node {
            e.pointee.numaHit &+= 1
        } else {
            e.pointee.numaMiss &+= 1
            cpu.events[preferred].numaForeign &+= 1
        }
        if node == cpu.node { e.pointee.numaLocal &+= 1 } else { e.pointee.numaOther &+= 1 }
    }

    /// `rmqueue()`: orders 0–3 from the CPU's own list of the request's migrate type
    /// (refilled in a batch under the zone lock when empty), larger orders, and small ones
    /// whose refill found nothing, from the buddy areas (`rmqueue_buddy()`).
    @inline(__always)
    func rmqueue(_ cpu: CPUContext, _ z: UnsafeMutablePointer<ZoneCore>, order: Int, mt: Int, flags: AllocFlags,
                 mayBlock: Bool) -> Int32? {
        if order < PerCPUPages.orders {
            // A lock-free zone is one pool whose pageblocks are all Movable, so its pages are
            // freed to the Movable lists: every request takes from those, or each allocation
            // of another type would refill from the pool while its frees pile up elsewhere.
            let mt = z.pointee.atomic == nil ? mt : MigrateType.movable.rawValue
            let list = cpu.pcp + PerCPUPages.index(zone: z.pointee.index, order: order, mt: mt)
            if list.pointee.count == 0 && !refillPCP(cpu, z, list, order: order, mt: mt, flags: flags, mayBlock: mayBlock) {
                return takeBlock(cpu, z, order: order, mt: mt, flags: flags, mayBlock: mayBlock)
            }
            let i = list.pointee.head
            list.pointee.head = z.pointee.meta[Int(i)].next
            list.pointee.count -= 1
            cpu.pcpCount[z.pointee.index] &-= 1 << order
            return i
        }
        return takeBlock(cpu, z, order: order, mt: mt, flags: flags, mayBlock: mayBlock)
    }

    /// `rmqueue_bulk()` into an empty PCP list: one batch under the zone lock.
    @inline(never)
    func refillPCP(_ cpu: CPUContext, _ z: UnsafeMutablePointer<ZoneCore>, _ list: UnsafeMutablePointer<PCPList>,
                   order: Int, mt: Int, flags: AllocFlags, mayBlock: Bool) -> Bool {
        arch_shake(4)
        let batch = Swift.max(z.pointee.pcpBatch >> order, 1)
        let got = takeBulk(cpu, z, order: order, mt: mt, flags: flags, count: batch, into: list, mayBlock: mayBlock)
        cpu.pcpCount[z.pointee.index] &+= got << order
        cpu.events[z.pointee.index].pcpRefills &+= 1
        return got > 0
    }

    @inline(__always)
    func prepNewPage(_ p: PageRef, gfp: GFP, order: Int) -> PageRef {
        let m = cores[Int(p.zone)].meta + Int(p.index)
        m.flagsOnce = .head
        m.orderOnce = Int8(order)
        m.pointee.refcount = 1
        m.pointee.owner = -1
        m.pointee.next = -1
        m.privateWordOnce = 0
        m.cacheIDOnce = -1
        m.pointee.slabCache = nil
        if gfp.contains(.zero) { memset(pageAddress(p), 0, PAGE_SIZE << order) }
        return p
    }

    // MARK: slow path

    @inline(never)
    func allocSlowPath(_ cpu: CPUContext, _ gfp: GFP, order: Int, zonelist: UnsafeMutablePointer<Int32>, node: Int,
                       highest: ZoneType) -> PageRef? {
        let zoneIDs = (0..<zoneCount).map { Int(zonelist[$0]) }.filter { $0 >= 0 }
        // wake_all_kswapds(): a node whose zone is below low, or cannot give this order at low
        // (free but fragmented: kswapd then hands the order to kcompactd).
        if gfp.contains(.kswapdReclaim) {
            var woken = Set<Int>()
            for zi in zoneIDs where zones[zi].pages > 0 {
                let z = cores + zi
                let short = z.pointee.freePages < z.pointee.watermarks.low
                    || (order > 0 && !z.pointee.watermarkOK(order: order, mark: z.pointee.watermarks.low, highest: highest, flags: []))
                if short && woken.insert(zones[zi].node).inserted { wakeKswapd(node: zones[zi].node, order: order, highest: highest) }
            }
        }
        let flags = AllocFlags.slowPath(gfp, order: order)
        func attempt() -> PageRef? {
            getPageFromFreelist(cpu, gfp, order: order, zonelist: zonelist, node: node, highest: highest, flags: flags)
                .map { prepNewPage($0, gfp: gfp, order: order) }
        }
        if let p = attempt() { return p }
        // Without __GFP_DIRECT_RECLAIM (or in atomic context, already reported) never sleep.
        guard gfp.allowsBlocking && !cpu.inAtomic else { return fail(cpu, gfp, order, zoneIDs, reason: nil) }

        // Direct compaction first for costly orders, and for high-order requests that are not
        // movable (compaction then keeps them from polluting another pageblock).
        let costly = order > 3
        let canCompact = config.compaction && order > 0
        var compactPriority = CompactPriority.async
        var compactResult = CompactResult.skipped
        var compactionRetries = 0
        if canCompact && (costly || MigrateType.index(gfp: gfp) != MigrateType.movable.rawValue) && !flags.contains(.noWatermarks) {
            let (p, r) = directCompact(cpu, gfp, order: order, flags: flags, zoneIDs: zoneIDs, highest: highest,
                                       priority: .async, attempt: attempt)
            if let p { return p }
            compactResult = r
            // A costly __GFP_NORETRY request (THP) gives up when compaction could not even start.
            if costly && gfp.contains(.noretry) && (r == .skipped || r == .deferred) {
                return fail(cpu, gfp, order, zoneIDs, reason: "__GFP_NORETRY, compaction \(r == .skipped ? "skipped" : "deferred")")
            }
        }
        let start = Clock.monotonicNS()
        var lastStallReport = start
        var rounds = 0
        let nodesToReclaim = Array(Set(zoneIDs.map { zones[$0].node })).sorted()
        while true {
            // Direct reclaim (`__alloc_pages_direct_reclaim()`): our own PCP first, then the
            // shrinkers for SWAP_CLUSTER_MAX (32) pages or the order's worth.
            cpu.events[zoneIDs[0]].directReclaims &+= 1
            cpu.events[zoneIDs[0]].directReclaimsBy[GFPClass(gfp)] &+= 1
            var reclaimed = drainPCP(cpu)
            for n in nodesToReclaim {
                zones.filter { $0.node == n && $0.pages > 0 }.forEach { $0.countReclaimPass() }
                reclaimed += shrinkNode(n, target: Swift.max(32, 1 << order), cpu: cpu)
            }
            if let p = attempt() { return p }
            // Pages may be pinned in the high-atomic reserve: give one block back and retry
            // (__alloc_pages_direct_reclaim(), once per allocation).
            if rounds == 0 && unreserveHighatomicPageblock(cpu, zones: zoneIDs, migratetype: MigrateType.index(gfp: gfp), force: false),
               let p = attempt() { return p }
            if canCompact {
                let (p, r) = directCompact(cpu, gfp, order: order, flags: flags, zoneIDs: zoneIDs, highest: highest,
                                           priority: compactPriority, attempt: attempt)
                if let p { return p }
                compactResult = r
            }
            if gfp.contains(.noretry) { return fail(cpu, gfp, order, zoneIDs, reason: "__GFP_NORETRY") }
            // Costly orders give up after the first reclaim and compaction round unless told to
            // keep trying (6.12: `costly_order && !__GFP_RETRY_MAYFAIL` → nopage; NOFAIL loops).
            if costly && !gfp.contains(.retryMayfail) && !gfp.contains(.nofail) {
                return fail(cpu, gfp, order, zoneIDs, reason: "costly order")
            }
            // Reclaim made progress and compaction may do better at a higher priority: retry at
            // once. Otherwise sleep until someone frees (bounded slices), then try again.
            // The model has no LRU to reclaim: free memory compaction can work with counts as
            // the progress should_compact_retry() is gated on.
            let progress = reclaimed > 0 || zoneIDs.contains { cores[$0].pages > 0 && compactionSuitableWatermark(cores + $0, order: order, highest: highest) }
            let compactAgain = canCompact && progress
                && shouldCompactRetry(order: order, result: compactResult, priority: &compactPriority,
                                      retries: &compactionRetries, zoneIDs: zoneIDs, highest: highest)
            if !compactAgain {
                let ticket = freeWait.ticket()
                if let p = attempt() { freeWait.done(); return p }
                cpu.events[zoneIDs[0]].sleeps &+= 1
                cpu.events[zoneIDs[0]].sleepsBy[GFPClass(gfp)] &+= 1
                let asleep = Clock.monotonicNS()
                _ = freeWait.wait(ticket: ticket, timeoutNS: min(10_000_000, max(config.oomWaitNS, 100_000)))
                freeWait.done()
                cpu.events[zoneIDs[0]].sleptNSBy[GFPClass(gfp)] &+= Clock.monotonicNS() - asleep
                if let p = attempt() { return p }
            }
            rounds += 1
            // The run is ending: no allocation outlives it. It is not a failure of the model
            // (no count, no warning; the caller drops the operation), but a __GFP_NOFAIL
            // caller, which the kernel would keep looping, is counted as stalled.
            if stopRequested {
                if gfp.contains(.nofail) { cpu.events[zoneIDs[0]].nofailStalled &+= 1 }
                return nil
            }
            let now = Clock.monotonicNS()
            if now - start >= config.oomWaitNS {
                // Before OOM, exhaust the high-atomic reserve (should_reclaim_retry()).
                if unreserveHighatomicPageblock(cpu, zones: zoneIDs, migratetype: MigrateType.index(gfp: gfp), force: true),
                   let p = attempt() { return p }
                if !gfp.contains(.nofail) { return fail(cpu, gfp, order, zoneIDs, reason: "out of memory") }
                if now - lastStallReport >= 10_000_000_000 {
                    lastStallReport = now
                    log.report(.allocationStall, "cpu\(cpu.id): page allocation stalls for \((now - start) / 1_000_000)ms, order:\(order), \(gfp.modeString)")
                }
            }
        }
    }

    @inline(never)
    func fail(_ cpu: CPUContext, _ gfp: GFP, _ order: Int, _ zonelist: [Int], reason: String?) -> PageRef? {
        cpu.events[zonelist[0]].countFailure(GFPClass(gfp))
        if !gfp.contains(.nowarn) {
            log.report(.allocationFailure, "cpu\(cpu.id): page allocation failure: order:\(order), \(gfp.modeString), nodemask=(null)" + (reason.map { " [\($0)]" } ?? ""))
        }
        return nil
    }

    @inline(never)
    func orderOutOfRange(_ gfp: GFP, _ order: Int) -> PageRef? {
        if !gfp.contains(.nowarn) {
            log.warnOnce("__alloc_pages order", "WARNING: CPU: mm/page_alloc.c __alloc_pages: order \(order) > MAX_PAGE_ORDER \(config.maxOrder), \(gfp.modeString)")
        }
        return nil
    }

    @inline(never)
    func reportBadPage(_ cpu: CPUContext, _ p: PageRef, order: Int, reason: String) {
        let m = page(p).pointee
        log.report(.badPage, """
            BUG: Bad page state in process cpu\(cpu.id)  pfn:\(String(pfn(p).raw, radix: 16))
            page: refcount:\(m.refcount) order:\(m.order) flags:\(String(m.flags.rawValue, radix: 16))
            page dumped because: \(reason)
            """, debug: DebugReport(kind: .badPage, cpu: cpu.id, address: UInt(bitPattern: pageAddress(p))))
    }
}
