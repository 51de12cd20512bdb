import Foundation

/// Percpu sheaves in front of a cache's slabs (mm/slub.c, Linux 6.18: `alloc_from_pcs`,
/// `free_to_pcs`, `__pcs_replace_empty_main`, `__pcs_replace_full_main`, `refill_sheaf`,
/// `sheaf_flush_unused`, `pcs_flush_all`, `barn_shrink`). As in 6.18, the slabs behind the
/// sheaves keep their CPU slab and per-CPU partial lists: a sheaf is refilled from the CPU
/// freelist (`__kmem_cache_alloc_bulk`) and flushed through the ordinary free
/// (`__kmem_cache_free_bulk`). Linux 7.0 gives every cache sheaves and drops the CPU slabs;
/// `SheafMode.all` models the first and keeps the second as in 6.18 (a stated departure).
///
/// Objects in sheaves count as free to their user and as in use to their slab, as in the kernel.
extension KmemCache {
    // MARK: fast paths

    /// `alloc_from_pcs()`: the top of the main sheaf; an empty main sheaf is first traded for
    /// a full one (out of line). nil: allocate from the slabs instead.
    @inline(__always)
    func allocFromSheaves(_ cpu: CPUContext, _ gfp: GFP) -> UnsafeMutableRawPointer? {
        let pcs = sheaves + cpu.id
        if _slowPath(pcs.pointee.main.pointee.size == 0) && !replaceEmptyMain(cpu, pcs, gfp) { return nil }
        return pop(pcs, gfp)
    }

    /// `slab_free()` → `free_to_pcs()`: an object of this cache from a slab of this CPU's node
    /// goes onto the main sheaf (a remote-node object goes back to its slab: frees never put
    /// another node's memory into a sheaf); a full main sheaf is first traded for an empty one
    /// (out of line). False: free it to the slab, whose path also reports a pointer that is not
    /// this cache's object.
    @inline(__always)
    func freeToSheaves(_ cpu: CPUContext, _ obj: UnsafeMutableRawPointer) -> Bool {
        // virt_to_slab(): the page, its head for a multi-page slab; slab_nid() from the PFN.
        let offset = UInt(bitPattern: obj) &- directMapBase
        guard offset < directMapBytes else { return false }
        let pfn = Int(offset >> UInt(PAGE_SHIFT))
        var page = memMap + pfn
        var flags = page.flagsOnce
        if flags.contains(.slabTail) { page = memMap + Int(page.pointee.next); flags = page.flagsOnce }
        // A slab page of this cache (`cacheID` alone is also an anonymous page's ASID).
        guard flags.contains(.slab), page.cacheIDOnce == id, pfnToNode(pfn) == cpu.node else { return false }
        let pcs = sheaves + cpu.id
        let main = pcs.pointee.main
        if _slowPath(main.pointee.size == main.pointee.capacity) { replaceFullMain(cpu, pcs) }
        push(pcs, obj)
        return true
    }

    /// The main sheaf's top object, taken (the sheaf is not empty).
    @inline(__always)
    func pop(_ pcs: UnsafeMutablePointer<PerCPUSheaves>, _ gfp: GFP) -> UnsafeMutableRawPointer {
        let main = pcs.pointee.main
        main.pointee.size &-= 1
        let obj = SlabSheaf.objects(main)[main.pointee.size]
        pcs.pointee.allocCPUSheaf &+= 1
        if gfp.contains(.zero) { memset(obj, 0, objectSize) }
        return obj
    }

    /// `obj` onto the main sheaf (which has room).
    @inline(__always)
    func push(_ pcs: UnsafeMutablePointer<PerCPUSheaves>, _ obj: UnsafeMutableRawPointer) {
        let main = pcs.pointee.main
        SlabSheaf.objects(main)[main.pointee.size] = obj
        main.pointee.size &+= 1
        pcs.pointee.freeCPUSheaf &+= 1
    }

    // MARK: slow paths

    /// `__pcs_replace_empty_main()`: the spare if it has objects; else a full sheaf from the
    /// node's barn for the empty main; else, when the caller may block, an empty sheaf (the
    /// spare, the barn's, or a new one) refilled from the slabs. False: the main sheaf stays
    /// empty and the caller allocates from the slabs.
    @inline(never)
    func replaceEmptyMain(_ cpu: CPUContext, _ pcs: UnsafeMutablePointer<PerCPUSheaves>, _ gfp: GFP) -> Bool {
        let main = pcs.pointee.main
        if let spare = pcs.pointee.spare, spare.pointee.size > 0 {
            pcs.pointee.spare = main
            pcs.pointee.main = spare
            return true
        }
        unowned(unsafe) let barn = barnRefs[cpu.node].takeUnretainedValue()
        let full = main == bootstrapSheaf ? barn.getFull(cpu: cpu) : barn.replaceEmpty(main, cpu: cpu)
        if let full {
            pcs.pointee.barnGet &+= 1
            pcs.pointee.main = full
            return true
        }
        pcs.pointee.barnGetFail &+= 1
        guard mayBlock(cpu, gfp) else { return false }
        let empty: UnsafeMutablePointer<SlabSheaf>
        if let spare = pcs.pointee.spare {
            pcs.pointee.spare = nil
            empty = spare
        } else {
            empty = barn.getEmpty(cpu: cpu) ?? newSheaf(pcs)
        }
        refill(cpu, pcs, empty, gfp)
        guard empty.pointee.size == empty.pointee.capacity else {
            // The page allocator failed part way: as `__kmem_cache_alloc_bulk()` is all or
            // nothing, what was taken goes back and the caller allocates from the slabs.
            flush(cpu, pcs, empty)
            freeSheaf(pcs, empty)
            return false
        }
        // Install: the old (empty) main becomes the spare, or goes to the barn.
        let old = pcs.pointee.main
        if old != bootstrapSheaf {
            if pcs.pointee.spare == nil { pcs.pointee.spare = old } else { barn.putEmpty(old, cpu: cpu) }
        }
        pcs.pointee.main = empty
        return true
    }

    /// `__pcs_replace_full_main()` + `__pcs_install_empty_sheaf()`: makes room on the main
    /// sheaf. An empty spare (or the barn's empty sheaf) becomes main, a non-full spare is
    /// swapped in; with both full, main goes to the barn for an empty one. A barn holding its
    /// limit of full sheaves refuses, and the spare is flushed to the slabs and reused; a barn
    /// with no empty sheaf leads to a new sheaf (never failing here, see `SlabSheaf`).
    @inline(never)
    func replaceFullMain(_ cpu: CPUContext, _ pcs: UnsafeMutablePointer<PerCPUSheaves>) {
        unowned(unsafe) let barn = barnRefs[cpu.node].takeUnretainedValue()
        let main = pcs.pointee.main
        if main == bootstrapSheaf {
            pcs.pointee.main = barn.getEmpty(cpu: cpu) ?? newSheaf(pcs)
            return
        }
        guard let spare = pcs.pointee.spare else {
            pcs.pointee.spare = main
            pcs.pointee.main = barn.getEmpty(cpu: cpu) ?? newSheaf(pcs)
            return
        }
        if spare.pointee.size < spare.pointee.capacity {
            pcs.pointee.spare = main
            pcs.pointee.main = spare
            return
        }
        switch barn.replaceFull(main, cpu: cpu) {
        case .done(let empty):
            pcs.pointee.barnPut &+= 1
            pcs.pointee.main = empty
        case .tooFull:
            pcs.pointee.barnPutFail &+= 1
            flush(cpu, pcs, spare)
            pcs.pointee.spare = main
            pcs.pointee.main = spare
        case .noEmpty:
            // An empty sheaf made for the purpose; the full main goes to the barn regardless.
            let empty = newSheaf(pcs)
            barn.putFull(main, cpu: cpu)
            pcs.pointee.barnPut &+= 1
            pcs.pointee.main = empty
        }
    }

    /// `refill_sheaf()` through `__kmem_cache_alloc_bulk()`: objects off the CPU freelist,
    /// refilling it from the slabs as often as needed, until the sheaf is full or the page
    /// allocator fails.
    func refill(_ cpu: CPUContext, _ pcs: UnsafeMutablePointer<PerCPUSheaves>, _ sheaf: UnsafeMutablePointer<SlabSheaf>, _ gfp: GFP) {
        let c = percpu + cpu.id
        let objects = SlabSheaf.objects(sheaf)
        let before = sheaf.pointee.size
        var size = before
        let gfp = gfp.subtracting(.zero)
        while size < sheaf.pointee.capacity {
            if c.pointee.freelist == nil {
                pcs.pointee.refillSlowpath &+= 1
                if !refillCPUSlab(cpu, gfp) { break }
            }
            var p = c.pointee.freelist
            while let o = p, size < sheaf.pointee.capacity { objects[size] = o; size += 1; p = next(o) }
            c.pointee.freelist = p
        }
        sheaf.pointee.size = size
        pcs.pointee.sheafRefill &+= UInt64(size - before)
    }

    /// `sheaf_flush_unused()`: every object of `sheaf` back to its slab, as
    /// `__kmem_cache_free_bulk()` does (onto the CPU freelist when it is the CPU slab's).
    func flush(_ cpu: CPUContext, _ pcs: UnsafeMutablePointer<PerCPUSheaves>, _ sheaf: UnsafeMutablePointer<SlabSheaf>) {
        let c = percpu + cpu.id
        let objects = SlabSheaf.objects(sheaf)
        for i in 0..<sheaf.pointee.size {
            let obj = objects[i]
            if UInt(bitPattern: obj) &- c.pointee.slabBase < c.pointee.slabBytes {
                setNext(obj, c.pointee.freelist)
                c.pointee.freelist = obj
                pcs.pointee.flushFastpath &+= 1
                continue
            }
            var pfn = Int((UInt(bitPattern: obj) &- directMapBase) >> UInt(PAGE_SHIFT))
            if memMap[pfn].flags.contains(.slabTail) { pfn = Int(memMap[pfn].next) }
            slabFree(cpu, pfn: pfn, head: obj, tail: obj, count: 1)
            pcs.pointee.flushSlowpath &+= 1
        }
        pcs.pointee.sheafFlush &+= UInt64(sheaf.pointee.size)
        sheaf.pointee.size = 0
    }

    func newSheaf(_ pcs: UnsafeMutablePointer<PerCPUSheaves>) -> UnsafeMutablePointer<SlabSheaf> {
        pcs.pointee.sheafAlloc &+= 1
        return SlabSheaf.allocate(capacity: sheafCapacity)
    }

    func freeSheaf(_ pcs: UnsafeMutablePointer<PerCPUSheaves>, _ s: UnsafeMutablePointer<SlabSheaf>) {
        pcs.pointee.sheafFree &+= 1
        SlabSheaf.deallocate(s)
    }

    /// `alloc_from_pcs()` asked for this CPU's own `node`: the main sheaf is made non-empty as
    /// for any allocation, and its top object is handed out only if it is from that node (a
    /// refill may have taken a CPU slab from elsewhere). nil: allocate from the slabs.
    @usableFromInline @inline(never)
    func allocFromSheaves(_ cpu: CPUContext, _ gfp: GFP, node: Int) -> UnsafeMutableRawPointer? {
        let pcs = sheaves + cpu.id
        if pcs.pointee.main.pointee.size == 0 && !replaceEmptyMain(cpu, pcs, gfp) { return nil }
        let main = pcs.pointee.main
        let top = SlabSheaf.objects(main)[main.pointee.size - 1]
        guard pfnToNode(Int((UInt(bitPattern: top) &- directMapBase) >> UInt(PAGE_SHIFT))) == node else { return nil }
        return pop(pcs, gfp)
    }

    // MARK: flushing (CPUs quiet)

    /// `pcs_flush_all()` for `cpu`: its main and spare sheaves back to the slabs; the spare is
    /// freed, the main kept. Run by the CPU itself or while it is quiet.
    func flushSheaves(_ cpu: CPUContext) {
        guard hasSheaves else { return }
        let pcs = sheaves + cpu.id
        if let spare = pcs.pointee.spare {
            flush(cpu, pcs, spare)
            pcs.pointee.spare = nil
            freeSheaf(pcs, spare)
        }
        let main = pcs.pointee.main
        if main != bootstrapSheaf { flush(cpu, pcs, main) }
    }

    /// `barn_shrink()` on every node: full sheaves flushed to the slabs, then all freed. The
    /// frees run as `cpu`, whose slabs are given back afterwards; every CPU must be quiet.
    public func flushBarns(_ cpu: CPUContext) {
        guard hasSheaves else { return }
        let pcs = sheaves + cpu.id
        for barn in barns {
            for s in barn.takeAll(cpu: cpu) {
                flush(cpu, pcs, s)
                freeSheaf(pcs, s)
            }
        }
        flush(cpu)
    }

    /// Sheaves and barns of a cache being torn down (its objects are gone by then).
    func releaseSheafMemory() {
        if hasSheaves {
            for cpu in 0..<sheafSlots {
                let pcs = sheaves + cpu
                if pcs.pointee.main != bootstrapSheaf { SlabSheaf.deallocate(pcs.pointee.main) }
                if let s = pcs.pointee.spare { SlabSheaf.deallocate(s) }
            }
            for barn in barns { while let s = barn.pop(full: true) ?? barn.pop(full: false) { SlabSheaf.deallocate(s) } }
        }
        UnsafeMutableRawPointer(sheaves).deallocate()
        barnRefs.deallocate()
        SlabSheaf.deallocate(bootstrapSheaf)
    }
}
