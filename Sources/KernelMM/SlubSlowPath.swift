import CArch
import Foundation

/// The slow paths of SLUB (mm/slub.c): `___slab_alloc` (take back remote frees, deactivate,
/// get a partial slab, allocate a new slab), `__slab_free` (cmpxchg on the slab's freelist,
/// with the node lock only when the slab must move on or off a list), `deactivate_slab`,
/// `discard_slab`, and flushing a CPU's slab.
///
/// Freezing, a deliberate difference from Linux 6.12: since 6.8 ("delay freezing of partial
/// slabs") only a CPU's active slab is frozen; slabs on a CPU's partial list stay unfrozen and
/// are told apart from node-partial slabs by a flag, and a free into one of them takes the
/// node lock when it must leave a list. The model keeps the earlier rule: a full slab that
/// gets its first free is frozen for the freeing CPU and put on its partial list without a
/// lock, and slabs taken onto a CPU's partial list from the node list are frozen too. Which
/// CPU may allocate from which slab, and the budgets (`set_cpu_partial`), are the same; what
/// differs is which frees of such slabs take the node's list_lock.
extension KmemCache {
    static let wordOffset = MemoryLayout<Page>.offset(of: \Page.privateWord)!

    @inline(__always) func word(_ pfn: Int) -> UnsafeMutablePointer<UInt64> {
        (UnsafeMutableRawPointer(kernel.pfnToPage(pfn)) + Self.wordOffset).assumingMemoryBound(to: UInt64.self)
    }

    @inline(__always) func load(_ pfn: Int) -> SlabWord { SlabWord(raw: arch_load_acquire_u64(word(pfn))) }

    @inline(__always) func cmpxchg(_ pfn: Int, _ old: SlabWord, _ new: SlabWord) -> Bool {
        var expected = old.raw
        return arch_cmpxchg_u64(word(pfn), &expected, new.raw)
    }

    @inline(__always) func slabBase(_ pfn: Int) -> UnsafeMutableRawPointer { kernel.pfnToVirt(pfn) }

    @inline(__always) func object(_ pfn: Int, _ index: Int) -> UnsafeMutableRawPointer? {
        index == SlabWord.none ? nil : slabBase(pfn) + index * layout.size + layout.leftPad
    }

    @inline(__always) func index(_ pfn: Int, _ obj: UnsafeMutableRawPointer?) -> Int {
        guard let obj else { return SlabWord.none }
        return reciprocalSize.divide(obj - slabBase(pfn) - layout.leftPad)   // obj_to_index()
    }

    @inline(__always) func next(_ obj: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer? {
        obj.load(fromByteOffset: freePointerOffset, as: UnsafeMutableRawPointer?.self)
    }

    @inline(__always) func setNext(_ obj: UnsafeMutableRawPointer, _ n: UnsafeMutableRawPointer?) {
        obj.storeBytes(of: n, toByteOffset: freePointerOffset, as: UnsafeMutableRawPointer?.self)
    }

    /// Whether this call may sleep on a lock: its mask allows it and it is not in atomic
    /// context (where `might_alloc()` at the entry has reported the caller's bug already).
    @inline(__always) func mayBlock(_ cpu: CPUContext, _ gfp: GFP) -> Bool { gfp.allowsBlocking && !cpu.inAtomic }

    // MARK: allocation

    @usableFromInline @inline(never)
    func allocSlow(_ cpu: CPUContext, _ gfp: GFP, node: Int?, origSize: Int) -> UnsafeMutableRawPointer? {
        if !fastPath { return debugAlloc(cpu, gfp, node: node, origSize: origSize) }
        let c = percpu + cpu.id
        var obj: UnsafeMutableRawPointer?
        if let node, node != cpu.node {
            obj = allocFromNode(cpu, gfp, node: node)
        } else {
            if c.pointee.freelist == nil && !refillCPUSlab(cpu, gfp) {
                c.pointee.failures &+= 1
                return nil
            }
            obj = c.pointee.freelist
            c.pointee.freelist = next(obj!)
        }
        guard let obj else { c.pointee.failures &+= 1; return nil }
        c.pointee.allocs &+= 1
        c.pointee.slowAllocs &+= 1
        if gfp.contains(.zero) { memset(obj, 0, objectSize) }
        return obj
    }

    /// Gives the CPU a non-empty freelist: remote frees of its slab, else a partial slab of its
    /// node, else a new slab. False when the page allocator fails.
    func refillCPUSlab(_ cpu: CPUContext, _ gfp: GFP) -> Bool {
        arch_shake(6)
        let c = percpu + cpu.id
        if c.pointee.slabPFN >= 0 {
            if let head = takeFreelist(c.pointee.slabPFN, owner: cpu.id) { c.pointee.freelist = head; return true }
            deactivate(cpu, gfp)
        }
        // `slub_percpu_partial()`: a slab this CPU froze when freeing into it, no lock needed.
        while c.pointee.partialHead >= 0 {
            let pfn = Int(popCPUPartial(c))
            if let head = takeFreelist(pfn, owner: cpu.id) {
                install(c, pfn: pfn, freelist: head)
                c.pointee.cpuPartialAlloc &+= 1
                return true
            }
            // Never without a free object while listed (a free listed it); stay safe: unfreeze.
            pushCPUPartial(c, pfn)
            putPartials(cpu)
        }
        if let (pfn, head) = takePartial(cpu, node: cpu.node, gfp) {
            install(c, pfn: pfn, freelist: head)
            c.pointee.partialTaken &+= 1
            return true
        }
        guard let (pfn, head) = newSlab(cpu, gfp, node: nil, frozenBy: cpu.id) else { return false }
        install(c, pfn: pfn, freelist: head)
        c.pointee.newSlabs &+= 1
        return true
    }

    @inline(__always) func install(_ c: UnsafeMutablePointer<KmemCacheCPU>, pfn: Int, freelist: UnsafeMutableRawPointer?) {
        c.pointee.slabPFN = pfn
        c.pointee.slabBase = UInt(bitPattern: slabBase(pfn))
        c.pointee.slabBytes = UInt(PAGE_SIZE << layout.order)
        c.pointee.freelist = freelist
    }

    /// `get_freelist()`: take every object freed to a frozen slab since, keeping it frozen.
    func takeFreelist(_ pfn: Int, owner: Int) -> UnsafeMutableRawPointer? {
        while true {
            let old = load(pfn)
            guard old.hasFree else { return nil }
            let new = SlabWord(freelist: SlabWord.none, inuse: layout.objectsPerSlab, frozen: true, owner: owner)
            if cmpxchg(pfn, old, new) { return object(pfn, old.freelist) }
        }
    }

    /// `get_partial_node()`: the first partial slab of `node`, frozen for `cpu` with all its
    /// free objects.
    /// While the lock is held, up to half of `cpu_partial_slabs` more slabs are frozen onto the
    /// CPU's partial list, so the next refills need no lock.
    func takePartial(_ cpu: CPUContext, node: Int, _ gfp: GFP) -> (Int, UnsafeMutableRawPointer?)? {
        unowned(unsafe) let n = nodeRefs[node].takeUnretainedValue()
        n.lock.lock(mayBlock: mayBlock(cpu, gfp), cpu: cpu)
        defer { n.lock.unlock(cpu: cpu) }
        kernel.injectRemoteCost(cpu, node: node)
        var taken: (Int, UnsafeMutableRawPointer?)? = nil
        let c = percpu + cpu.id
        while n.head >= 0 {
            if taken != nil && (node != cpu.node || Int(c.pointee.partialCount) * 2 >= cpuPartialSlabs) { break }
            let pfn = Int(n.head)
            removePartial(n, pfn)
            if taken == nil {
                // The CPU slab: every free object onto the CPU freelist.
                while true {
                    let old = load(pfn)
                    let new = SlabWord(freelist: SlabWord.none, inuse: layout.objectsPerSlab, frozen: true, owner: cpu.id)
                    if cmpxchg(pfn, old, new) {
                        if old.hasFree { taken = (pfn, object(pfn, old.freelist)); break }
                        // Nothing free after all (cannot happen while listed, but stay safe): unfreeze.
                        _ = cmpxchg(pfn, new, SlabWord(freelist: SlabWord.none, inuse: layout.objectsPerSlab, frozen: false, owner: cpu.id))
                        break
                    }
                }
            } else {
                // Frozen for this CPU with its freelist left in place (taken at refill time).
                while true {
                    let old = load(pfn)
                    if cmpxchg(pfn, old, SlabWord(freelist: old.freelist, inuse: old.inuse, frozen: true, owner: old.owner)) { break }
                }
                pushCPUPartial(c, pfn)
            }
        }
        return taken
    }

    // MARK: per-CPU partial slabs (owner CPU only)

    @inline(__always) func pushCPUPartial(_ c: UnsafeMutablePointer<KmemCacheCPU>, _ pfn: Int) {
        kernel.pfnToPage(pfn).pointee.next = c.pointee.partialHead
        c.pointee.partialHead = Int32(pfn)
        c.pointee.partialCount += 1
    }

    @inline(__always) func popCPUPartial(_ c: UnsafeMutablePointer<KmemCacheCPU>) -> Int32 {
        let pfn = c.pointee.partialHead
        let page = kernel.pfnToPage(Int(pfn))
        c.pointee.partialHead = page.pointee.next
        page.pointee.next = -1
        c.pointee.partialCount -= 1
        return pfn
    }

    /// `put_cpu_partial()`: `pfn` was just frozen for this CPU by a free. A full list first goes
    /// to the node lists in one batch (`__put_partials`).
    func putCPUPartial(_ cpu: CPUContext, _ pfn: Int) {
        let c = percpu + cpu.id
        if Int(c.pointee.partialCount) >= cpuPartialSlabs { putPartials(cpu) }
        pushCPUPartial(c, pfn)
        c.pointee.cpuPartialFree &+= 1
    }

    /// `__put_partials()`: unfreeze every slab on this CPU's partial list, holding each node's
    /// lock across a run of slabs of that node: onto the node's partial list, or (empty, with
    /// enough partial slabs there already) back to the buddy allocator.
    func putPartials(_ cpu: CPUContext) {
        let c = percpu + cpu.id
        var held = -1             // node whose lock we hold
        var discard: Int32 = -1   // chained through Page.next
        while c.pointee.partialHead >= 0 {
            let pfn = Int(popCPUPartial(c))
            let node = pfnToNode(pfn)
            unowned(unsafe) let n = nodeRefs[node].takeUnretainedValue()
            if held != node {
                if held >= 0 { nodeRefs[held].takeUnretainedValue().lock.unlock(cpu: cpu) }
                n.lock.lock(mayBlock: false, cpu: cpu)
                held = node
            }
            var new: SlabWord
            while true {
                let old = load(pfn)
                new = SlabWord(freelist: old.freelist, inuse: old.inuse, frozen: false, owner: old.owner)
                if cmpxchg(pfn, old, new) { break }
            }
            if new.inuse == 0 && n.count >= minPartial {
                kernel.pfnToPage(pfn).pointee.next = discard
                discard = Int32(pfn)
            } else if new.hasFree {
                addPartial(n, pfn)
            }
        }
        if held >= 0 { nodeRefs[held].takeUnretainedValue().lock.unlock(cpu: cpu) }
        while discard >= 0 {
            let pfn = Int(discard)
            discard = kernel.pfnToPage(pfn).pointee.next
            kernel.pfnToPage(pfn).pointee.next = -1
            discardSlab(cpu, pfn)
        }
    }

    /// `kmem_cache_alloc_node()` for another node, as `___slab_alloc()` of Linux 6.12 does it:
    /// one object from that node's partial list under its lock; else a new slab there, asked
    /// for opportunistically (GFP_NOWAIT | __GFP_THISNODE); when that fails too and the caller
    /// did not insist on the node (__GFP_THISNODE), a new slab with the caller's own mask,
    /// which the page allocator may place on another node by the node's zonelist. The other
    /// objects of a new slab go on the partial list of the node the slab really is on.
    /// Deliberate simplification: the retry does not scan other nodes' partial lists first
    /// (`get_any_partial()`, which the kernel also skips at random by
    /// `remote_node_defrag_ratio`).
    func allocFromNode(_ cpu: CPUContext, _ gfp: GFP, node: Int) -> UnsafeMutableRawPointer? {
        unowned(unsafe) let n = nodeRefs[node].takeUnretainedValue()
        n.lock.lock(mayBlock: mayBlock(cpu, gfp), cpu: cpu)
        if n.head >= 0 {
            let pfn = Int(n.head)
            while true {
                let old = load(pfn)
                guard let obj = object(pfn, old.freelist) else { break }
                let new = SlabWord(freelist: index(pfn, next(obj)), inuse: old.inuse + 1, frozen: false, owner: old.owner)
                if cmpxchg(pfn, old, new) {
                    if !new.hasFree { removePartial(n, pfn) }
                    n.lock.unlock(cpu: cpu)
                    return obj
                }
            }
        }
        n.lock.unlock(cpu: cpu)
        let opportunistic = GFP.nowait.union(.thisnode).union(gfp.intersection([.dma, .dma32]))
        var slab = newSlab(cpu, opportunistic, node: node, frozenBy: nil)
        if slab == nil && !gfp.contains(.thisnode) { slab = newSlab(cpu, gfp, node: node, frozenBy: nil) }
        guard let (pfn, head) = slab, let obj = head else { return nil }
        let rest = next(obj)
        arch_store_release_u64(word(pfn), SlabWord(freelist: index(pfn, rest), inuse: 1, frozen: false, owner: cpu.id).raw)
        if rest != nil {
            unowned(unsafe) let home = nodeRefs[pfnToNode(pfn)].takeUnretainedValue()
            home.lock.lock(mayBlock: mayBlock(cpu, gfp), cpu: cpu)
            addPartial(home, pfn)
            home.lock.unlock(cpu: cpu)
        }
        return obj
    }

    /// `allocate_slab()` + `shuffle`-free `init_object()`: buddy pages from the CPU's node (or
    /// `node`), objects set up (ctor, poison, red zones), chained. Frozen for `frozenBy` with
    /// all objects handed over, or unfrozen and empty of users for the caller to set.
    func newSlab(_ cpu: CPUContext, _ gfp: GFP, node: Int?, frozenBy: Int?) -> (Int, UnsafeMutableRawPointer?)? {
        var slabGFP = gfp.subtracting([.zero, .dma, .dma32, .highmem])
        if flags.contains(.cacheDMA) { slabGFP.insert(.dma) }
        guard let ref = kernel.allocPagesChecked(cpu, slabGFP, order: layout.order, node: node) else { return nil }
        let pfn = kernel.pfn(ref).raw
        let head = kernel.pfnToPage(pfn)
        head.flagsOnce = head.flagsOnce.union(.slab)
        head.cacheIDOnce = id
        head.pointee.slabCache = UnsafeRawPointer(Unmanaged.passUnretained(self).toOpaque())
        for t in 1..<(1 << layout.order) {
            kernel.pfnToPage(pfn + t).flagsOnce = .slabTail
            kernel.pfnToPage(pfn + t).pointee.next = Int32(pfn)
        }
        let count = layout.objectsPerSlab
        // setup_slab_debug(): with SLAB_POISON the whole slab starts as POISON_INUSE.
        if flags.contains(.poison) { memset(slabBase(pfn), Int32(SlabPoison.inUse), PAGE_SIZE << layout.order) }
        for i in 0..<count {
            let obj = object(pfn, i)!
            // setup_object_debug(): inactive red zones and poison, tracks cleared.
            if !flags.intersection([.storeUser, .redZone]).isEmpty || layout.objectPoison {
                initObject(obj, SlabPoison.redInactive)
                initTracking(obj)
            }
            if let ctor {
                ctor(obj)
                _ = arch_fetch_add_u64(counters + 1, 1)
            }
            setNext(obj, i + 1 < count ? object(pfn, i + 1) : nil)
        }
        arch_store_release_u64(word(pfn), SlabWord(freelist: SlabWord.none, inuse: count,
                                                   frozen: frozenBy != nil, owner: frozenBy ?? cpu.id).raw)
        _ = arch_fetch_add_u64(counters, 1)
        return (pfn, object(pfn, 0))
    }

    // MARK: free

    @usableFromInline @inline(never)
    func freeSlow(_ cpu: CPUContext, _ obj: UnsafeMutableRawPointer) {
        guard let pfn = slabOf(obj, caller: "kmem_cache_free") else { return }
        let page = kernel.pfnToPage(pfn)
        if page.pointee.cacheID != id {
            let real = allocator.cache(id: page.pointee.cacheID)
            report(.wrongCache, "kmem_cache_free: Wrong slab cache. \(name) but object is from \(real?.name ?? "?")", obj: obj, pfn: pfn)
            real?.freeSlow(cpu, obj)
            return
        }
        if !fastPath { debugFree(cpu, obj, pfn: pfn); return }
        let c = percpu + cpu.id
        c.pointee.frees &+= 1
        c.pointee.slowFrees &+= 1
        if pfn == c.pointee.slabPFN {
            if obj == c.pointee.freelist {
                freelistBug(obj)   // set_freepointer(s, obj, obj) would trip BUG_ON
                c.pointee.frees &-= 1
                return
            }
            setNext(obj, c.pointee.freelist)
            c.pointee.freelist = obj
            return
        }
        slabFree(cpu, pfn: pfn, head: obj, tail: obj, count: 1)
    }

    /// The slab an object pointer belongs to, after checking it points at an object of some
    /// slab; reports "Invalid object pointer" and returns nil otherwise.
    func slabOf(_ obj: UnsafeMutableRawPointer, caller: String) -> Int? {
        guard var pfn = kernel.virtToPFN(obj) else {
            report(.invalidPointer, "\(caller): Invalid object pointer 0x\(String(UInt(bitPattern: obj), radix: 16)) (not in the direct map)", obj: obj, pfn: nil)
            return nil
        }
        var page = kernel.pfnToPage(pfn)
        if page.pointee.flags.contains(.slabTail) { pfn = Int(page.pointee.next); page = kernel.pfnToPage(pfn) }
        guard page.pointee.flags.contains(.slab) else {
            report(.invalidPointer, "\(caller): Invalid object pointer 0x\(String(UInt(bitPattern: obj), radix: 16)) (not a slab page)", obj: obj, pfn: nil)
            return nil
        }
        // Our own slab (the usual case) is checked against our layout without a registry lookup.
        let layout: SlabLayout
        if page.pointee.cacheID == id { layout = self.layout } else {
            guard let cache = allocator.cache(id: page.pointee.cacheID) else {
                report(.invalidPointer, "\(caller): Invalid object pointer 0x\(String(UInt(bitPattern: obj), radix: 16)) (not a slab page)", obj: obj, pfn: nil)
                return nil
            }
            layout = cache.layout
        }
        let offset = obj - slabBase(pfn) - layout.leftPad
        // check_valid_pointer(): inside the slab, on an object boundary (by reciprocal, as
        // obj_to_index() divides, for our own cache; another cache's layout divides plainly).
        let index = page.pointee.cacheID == id ? reciprocalSize.divide(offset) : offset / max(layout.size, 1)
        guard offset >= 0, index * layout.size == offset, index < layout.objectsPerSlab else {
            report(.invalidPointer, "Invalid object pointer 0x\(String(UInt(bitPattern: obj), radix: 16))", obj: obj, pfn: pfn)
            return nil
        }
        return pfn
    }

    /// `__slab_free()`: push `head…tail` (`count` objects, already linked) onto the slab's
    /// freelist with cmpxchg. A frozen slab is left to its owner; an unfrozen slab that was full
    /// goes onto its node's partial list, one that becomes empty may be discarded — both under
    /// the node lock, taken before the cmpxchg so that the list and the word agree.
    func slabFree(_ cpu: CPUContext, pfn: Int, head: UnsafeMutableRawPointer, tail: UnsafeMutableRawPointer, count: Int) {
        let slabNode = pfnToNode(pfn)
        unowned(unsafe) let n = nodeRefs[slabNode].takeUnretainedValue()
        var locked = false
        var old = load(pfn)
        var new = old
        var toCPUPartial = false
        while true {
            old = load(pfn)
            new = SlabWord(freelist: index(pfn, head), inuse: old.inuse - count, frozen: old.frozen, owner: old.owner)
            // A full slab getting its first free object: with per-CPU partials it is frozen for
            // the freeing CPU instead of going onto the node list (no lock).
            toCPUPartial = cpuPartialSlabs > 0 && !old.frozen && !old.hasFree
            if toCPUPartial { new = SlabWord(freelist: new.freelist, inuse: new.inuse, frozen: true, owner: old.owner) }
            let needsList = !old.frozen && !toCPUPartial && (!old.hasFree || new.inuse == 0)
            if needsList && !locked {
                n.lock.lock(mayBlock: false, cpu: cpu)
                kernel.injectRemoteCost(cpu, node: slabNode)
                locked = true
                continue
            }
            setNext(tail, object(pfn, old.freelist))
            arch_shake(5)   // between reading the word and the cmpxchg: where remote frees race
            if cmpxchg(pfn, old, new) { break }
        }
        // Freed by a CPU other than the one that took the slab: the remote free of DESIGN.md.
        if old.owner != cpu.id { remoteFrees[cpu.id * nodes.count + slabNode] &+= 1 }
        if toCPUPartial {
            if locked { n.lock.unlock(cpu: cpu) }
            putCPUPartial(cpu, pfn)
            return
        }
        guard locked else { return }
        var discard = false
        if !old.frozen {
            if new.inuse == 0 && n.count >= minPartial {
                removePartial(n, pfn)
                discard = true
            } else if !old.hasFree {
                addPartial(n, pfn)
            }
        }
        n.lock.unlock(cpu: cpu)
        if discard { discardSlab(cpu, pfn) }
    }

    /// `deactivate_slab()`: give the CPU slab back, with the objects left on the CPU freelist.
    func deactivate(_ cpu: CPUContext, _ gfp: GFP) {
        let c = percpu + cpu.id
        let pfn = c.pointee.slabPFN
        guard pfn >= 0 else { return }
        var count = 0
        var tail: UnsafeMutableRawPointer? = nil
        var p = c.pointee.freelist
        while let o = p { count += 1; tail = o; p = next(o) }
        // Nothing left on the CPU freelist and nothing freed into the slab: it goes off the
        // CPU full, on no list, so no lock (deactivate_slab's M_FULL_NOLIST). A free racing in
        // now finds it unfrozen and full, and handles the list itself.
        if count == 0 {
            let old = load(pfn)
            if !old.hasFree && cmpxchg(pfn, old, SlabWord(freelist: SlabWord.none, inuse: old.inuse, frozen: false, owner: old.owner)) {
                c.pointee.slabPFN = -1
                c.pointee.slabBase = 0
                c.pointee.slabBytes = 0
                return
            }
        }
        unowned(unsafe) let n = nodeRefs[pfnToNode(pfn)].takeUnretainedValue()
        n.lock.lock(mayBlock: mayBlock(cpu, gfp), cpu: cpu)
        var new: SlabWord
        while true {
            let old = load(pfn)
            if let tail { setNext(tail, object(pfn, old.freelist)) }
            let head = c.pointee.freelist ?? object(pfn, old.freelist)
            new = SlabWord(freelist: index(pfn, head), inuse: old.inuse - count, frozen: false, owner: old.owner)
            if cmpxchg(pfn, old, new) { break }
        }
        var discard = false
        if new.inuse == 0 && n.count >= minPartial { discard = true }
        else if new.hasFree { addPartial(n, pfn) }
        n.lock.unlock(cpu: cpu)
        c.pointee.slabPFN = -1
        c.pointee.slabBase = 0
        c.pointee.slabBytes = 0
        c.pointee.freelist = nil
        if discard { discardSlab(cpu, pfn) }
    }

    /// `__free_slab()`: the slab's pages back to the buddy allocator.
    func discardSlab(_ cpu: CPUContext, _ pfn: Int) {
        if !fastPath { debugOnDiscard(pfn) }
        let head = kernel.pfnToPage(pfn)
        head.flagsOnce = head.flagsOnce.subtracting(.slab)
        head.pointee.onPartial = 0
        head.cacheIDOnce = -1
        head.pointee.slabCache = nil
        head.privateWordOnce = 0
        for t in 1..<(1 << layout.order) {
            kernel.pfnToPage(pfn + t).flagsOnce = []
            kernel.pfnToPage(pfn + t).pointee.next = -1
        }
        kernel.freePages(cpu, kernel.pageRef(pfn: pfn), order: layout.order)
        _ = arch_fetch_add_u64(counters, UInt64.max)  // -1
    }

    // MARK: partial lists (node lock held)

    func addPartial(_ n: NodePartial, _ pfn: Int) {
        let page = kernel.pfnToPage(pfn)
        guard page.pointee.onPartial == 0 else { return }
        page.pointee.onPartial = 1
        page.pointee.next = n.head
        page.pointee.prev = -1
        if n.head >= 0 { kernel.pfnToPage(Int(n.head)).pointee.prev = Int32(pfn) }
        n.head = Int32(pfn)
        n.count += 1
    }

    func removePartial(_ n: NodePartial, _ pfn: Int) {
        let page = kernel.pfnToPage(pfn)
        guard page.pointee.onPartial == 1 else { return }
        let nx = page.pointee.next, pv = page.pointee.prev
        if pv >= 0 { kernel.pfnToPage(Int(pv)).pointee.next = nx } else { n.head = nx }
        if nx >= 0 { kernel.pfnToPage(Int(nx)).pointee.prev = pv }
        page.pointee.onPartial = 0
        page.pointee.next = -1
        page.pointee.prev = -1
        n.count -= 1
    }

    // MARK: flush, shrink

    /// Gives back this CPU's sheaves and slab (`pcs_flush_all()`, `flush_slab()` on the
    /// owning CPU).
    public func flush(_ cpu: CPUContext) {
        flushSheaves(cpu)
        deactivate(cpu, .kernel)
        putPartials(cpu)
    }

    /// `__kmem_cache_do_shrink()`: discard empty slabs from every node's partial list. Returns
    /// pages freed. `cpu` frees the pages (its PCP lists receive order 0–3 blocks).
    @discardableResult
    public func shrink(_ cpu: CPUContext, limit: Int = .max) -> Int {
        var freed = 0
        for n in nodes {
            var empties: [Int] = []
            n.lock.lock(mayBlock: true, cpu: cpu)
            var p = n.head
            while p >= 0 && empties.count < limit {
                let pfn = Int(p)
                p = kernel.pfnToPage(pfn).pointee.next
                let w = load(pfn)
                // Empty and unfrozen: take it off the list; a racing free cannot reach an empty slab.
                if w.inuse == 0 && !w.frozen {
                    removePartial(n, pfn)
                    empties.append(pfn)
                    if !fastPath { n.slabs -= 1 }
                }
            }
            n.lock.unlock(cpu: cpu)
            for pfn in empties { discardSlab(cpu, pfn); freed += 1 << layout.order }
        }
        return freed
    }

    /// Empty slabs waiting on partial lists (what the shrinker could free).
    func emptySlabs(node: Int) -> Int {
        unowned(unsafe) let n = nodeRefs[node].takeUnretainedValue()
        n.lock.lock(mayBlock: true, cpu: nil)
        defer { n.lock.unlock(cpu: nil) }
        var count = 0
        var p = n.head
        while p >= 0 { if load(Int(p)).inuse == 0 { count += 1 }; p = kernel.pfnToPage(Int(p)).pointee.next }
        return count
    }
}
