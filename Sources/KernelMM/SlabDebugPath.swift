import CArch
import Foundation

/// The slow paths of a debug cache (`kmem_cache_debug(s)`, mm/slub.c of Linux 6.12): no CPU
/// slab and no per-CPU partials; every allocation takes one object from a node partial slab
/// (`alloc_single_from_partial`) or a new slab (`alloc_single_from_new_slab`), every free goes
/// to the slab under the node's list lock (`free_to_partial_list`), so a validation pass under
/// that lock sees every object in a known state. Full slabs are kept on the node's full list
/// with SLAB_STORE_USER only (`add_full`), as in the kernel: without it a validation pass does
/// not see them. Slabs are added to the head of the partial list (the kernel adds frees to
/// the tail).
extension KmemCache {
    static let kmallocSite = SlabCallSite.register("__kmalloc")

    /// `___slab_alloc()` for a debug cache: `origSize` is the kmalloc request (the object size
    /// for `kmem_cache_alloc`).
    func debugAlloc(_ cpu: CPUContext, _ gfp: GFP, node: Int?, origSize: Int) -> UnsafeMutableRawPointer? {
        let c = percpu + cpu.id
        let target = node ?? cpu.node
        unowned(unsafe) let n = nodeRefs[target].takeUnretainedValue()
        var got: (Int, UnsafeMutableRawPointer)? = nil
        n.lock.lock(mayBlock: gfp.allowsBlocking, cpu: cpu)
        kernel.injectRemoteCost(cpu, node: target)
        var p = n.head
        while p >= 0 && got == nil {
            let pfn = Int(p)
            p = kernel.pfnToPage(pfn).pointee.next
            if let obj = allocSingleFromPartial(n, pfn, origSize: origSize) { got = (pfn, obj) }
        }
        n.lock.unlock(cpu: cpu)
        if got != nil { c.pointee.partialTaken &+= 1 }
        // A fresh slab whose first object fails its checks (only a concurrent corruption could
        // do that) is left aside and another is made (`goto new_objects`).
        while got == nil {
            let slabGFP = node == nil || node == cpu.node ? gfp : gfp.union(.thisnode)
            guard let (pfn, head) = newSlab(cpu, slabGFP, node: node, frozenBy: nil), let obj = head else {
                c.pointee.failures &+= 1
                return nil
            }
            c.pointee.newSlabs &+= 1
            if let o = allocSingleFromNewSlab(cpu, pfn, obj, origSize: origSize) { got = (pfn, o) }
        }
        let obj = got!.1
        setTrack(obj, .alloc, cpu: cpu, entry: flags.contains(.kmalloc) ? Self.kmallocSite : Self.allocSite)
        c.pointee.allocs &+= 1
        c.pointee.slowAllocs &+= 1
        if gfp.contains(.zero) {
            // slab_post_alloc_hook: a red-zoned or tracked kmalloc object is zeroed up to the request.
            let tracked = !flags.intersection([.storeUser, .redZone]).isEmpty && flags.contains(.kmalloc)
            memset(obj, 0, tracked ? min(origSize, objectSize) : objectSize)
        }
        return obj
    }

    /// `alloc_single_from_partial()` (list lock held): one object off the slab's freelist; a
    /// slab that fails its checks leaves the list; a slab that fills moves to the full list.
    func allocSingleFromPartial(_ n: NodePartial, _ pfn: Int, origSize: Int) -> UnsafeMutableRawPointer? {
        let w = load(pfn)
        guard w.hasFree, let obj = object(pfn, w.freelist) else { removePartial(n, pfn); return nil }
        let rest: UnsafeMutableRawPointer? = inSlab(pfn, obj, bytes: MemoryLayout<UInt64>.size) ? next(obj) : nil
        storeWord(pfn, freelist: rest, inuse: w.inuse + 1, frozen: w.frozen, owner: w.owner)
        if !allocDebugProcessing(pfn, obj, origSize: origSize) {
            removePartial(n, pfn)
            return nil
        }
        if load(pfn).inuse == layout.objectsPerSlab {
            removePartial(n, pfn)
            addFull(n, pfn)
        }
        return obj
    }

    /// `alloc_single_from_new_slab()`: the first object of a fresh slab, then the slab onto
    /// its node's partial list (or full list, for one-object slabs) and into the node's count.
    func allocSingleFromNewSlab(_ cpu: CPUContext, _ pfn: Int, _ obj: UnsafeMutableRawPointer, origSize: Int) -> UnsafeMutableRawPointer? {
        storeWord(pfn, freelist: next(obj), inuse: 1, frozen: false, owner: cpu.id)
        guard allocDebugProcessing(pfn, obj, origSize: origSize) else { return nil }
        unowned(unsafe) let n = nodeRefs[pfnToNode(pfn)].takeUnretainedValue()
        n.lock.lock(mayBlock: false, cpu: cpu)
        if load(pfn).inuse == layout.objectsPerSlab { addFull(n, pfn) } else { addPartial(n, pfn) }
        n.slabs += 1
        n.lock.unlock(cpu: cpu)
        return obj
    }

    /// `free_to_partial_list()`: checks, then the object onto its slab's freelist; a slab
    /// that was full goes back on the partial list, one that empties while the node has
    /// `min_partial` partial slabs goes back to the page allocator.
    func debugFree(_ cpu: CPUContext, _ obj: UnsafeMutableRawPointer, pfn: Int) {
        unowned(unsafe) let n = nodeRefs[pfnToNode(pfn)].takeUnretainedValue()
        let c = percpu + cpu.id
        var discard = false
        let node = pfnToNode(pfn)
        let held = c.pointee.heldNode == Int32(node)
        if !held { n.lock.lock(mayBlock: false, cpu: cpu) }
        if freeDebugProcessing(pfn, obj, cpu: cpu) {
            let w = load(pfn)
            let prior = w.hasFree ? object(pfn, w.freelist) : nil
            if prior == obj {
                freelistBug(obj)
            } else {
                setNext(obj, prior)
                storeWord(pfn, freelist: obj, inuse: w.inuse - 1, frozen: w.frozen, owner: w.owner)
                discard = w.inuse - 1 == 0 && n.count >= minPartial
                if prior == nil {
                    removeFull(n, pfn)
                    if !discard { addPartial(n, pfn) }
                } else if discard {
                    removePartial(n, pfn)
                }
                if discard { n.slabs -= 1 }
                if w.owner != cpu.id { remoteFrees[cpu.id * nodes.count + pfnToNode(pfn)] &+= 1 }
                c.pointee.frees &+= 1
                c.pointee.slowFrees &+= 1
            }
        }
        if held {
            if discard { n.deferredDiscards.append(pfn) }
            return
        }
        n.lock.unlock(cpu: cpu)
        if discard { discardSlab(cpu, pfn) }
    }

    /// Runs `body` while no other CPU can take `obj`, or the slab it lies in, away from this
    /// one — for code that misuses an object on purpose (a double free, a write after free)
    /// and needs the debug code, not a racing CPU, to meet the misuse. For a debug cache the
    /// slab's node list lock is held (this CPU's own frees into that node go through without
    /// taking it again, a slab they empty is discarded after `body`); for any other cache the
    /// object must lie in this CPU's own slab, which only this CPU allocates from. False, with
    /// `body` not run, when neither holds.
    @discardableResult
    public func withSlabHeld(_ cpu: CPUContext, _ obj: UnsafeMutableRawPointer, _ body: () -> Void) -> Bool {
        let c = percpu + cpu.id
        if fastPath {
            guard UInt(bitPattern: obj) &- c.pointee.slabBase < c.pointee.slabBytes else { return false }
            body()
            return true
        }
        guard let pfn = kernel.slabHeadPFN(obj), kernel.pfnToPage(pfn).pointee.cacheID == id,
              c.pointee.heldNode < 0 else { return false }
        let node = pfnToNode(pfn)
        unowned(unsafe) let n = nodeRefs[node].takeUnretainedValue()
        n.lock.lock(mayBlock: false, cpu: cpu)
        c.pointee.heldNode = Int32(node)
        body()
        c.pointee.heldNode = -1
        let discards = n.deferredDiscards
        n.deferredDiscards.removeAll()
        n.lock.unlock(cpu: cpu)
        for d in discards { discardSlab(cpu, d) }
        return true
    }

    // MARK: full list (list lock held; SLAB_STORE_USER only)

    func addFull(_ n: NodePartial, _ pfn: Int) {
        guard flags.contains(.storeUser) else { return }
        let page = kernel.pfnToPage(pfn)
        guard page.pointee.onPartial == 0 else { return }
        page.pointee.onPartial = 2
        page.pointee.next = n.fullHead
        page.pointee.prev = -1
        if n.fullHead >= 0 { kernel.pfnToPage(Int(n.fullHead)).pointee.prev = Int32(pfn) }
        n.fullHead = Int32(pfn)
    }

    func removeFull(_ n: NodePartial, _ pfn: Int) {
        let page = kernel.pfnToPage(pfn)
        guard page.pointee.onPartial == 2 else { return }
        let nx = page.pointee.next, pv = page.pointee.prev
        if pv >= 0 { kernel.pfnToPage(Int(pv)).pointee.next = nx } else { n.fullHead = nx }
        if nx >= 0 { kernel.pfnToPage(Int(nx)).pointee.prev = pv }
        page.pointee.onPartial = 0
        page.pointee.next = -1
        page.pointee.prev = -1
    }

    /// Runs `body` on every slab on the node lists (partial, then full), each node's list
    /// lock held meanwhile.
    func forEachListedSlab(_ body: (Int) -> Void) {
        for n in nodes {
            n.lock.lock(mayBlock: true, cpu: nil)
            for head in [n.head, n.fullHead] {
                var p = head
                while p >= 0 { let pfn = Int(p); p = kernel.pfnToPage(pfn).pointee.next; body(pfn) }
            }
            n.lock.unlock(cpu: nil)
        }
    }
}
