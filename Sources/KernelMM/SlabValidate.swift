/// `validate_slab_cache()` (mm/slub.c of Linux 6.12; what `echo 1 > /sys/kernel/slab/<cache>/
/// validate` runs): every slab on each node's partial list — and, with SLAB_STORE_USER, on
/// its full list — is checked under the node's list lock: the slab itself (`check_slab`), its
/// freelist (`on_freelist`), then each object, free ones for poison and inactive red zones,
/// allocated ones for active red zones (`validate_slab`: the first bad object ends the slab's
/// walk). What can be repaired is repaired, so a second pass finds nothing. A cache without
/// debug flags has no checks to run (its CPU slabs are on no list) and is skipped, as the
/// kernel's sysfs `validate` is only writable for debug caches.
extension KmemCache {
    /// The outcome of one pass over one cache.
    public struct Validation: Sendable, Equatable {
        /// Slabs walked.
        public var slabs: Int
        /// `slab_errors` counted during the pass (BUG and FIX lines, as the self-tests count).
        public var errors: Int
    }

    /// Runs one validation pass. Safe while other CPUs allocate and free: a debug cache changes
    /// its slabs only under the list lock this pass holds.
    @discardableResult
    public func validate() -> Validation {
        guard !fastPath else { return Validation(slabs: 0, errors: 0) }
        let before = slabErrors
        var slabs = 0
        for n in nodes {
            n.lock.lock(mayBlock: true, cpu: nil)
            slabs += validateNode(n)
            n.lock.unlock(cpu: nil)
        }
        return Validation(slabs: slabs, errors: slabErrors - before)
    }

    /// `validate_slab_node()` (list lock held): the lists walked and their lengths checked
    /// against the node's counters.
    func validateNode(_ n: NodePartial) -> Int {
        var walked = 0
        var p = n.head
        while p >= 0 { let pfn = Int(p); p = kernel.pfnToPage(pfn).pointee.next; validateSlab(pfn); walked += 1 }
        if walked != n.count {
            kernel.log.append("SLUB \(name): \(walked) partial slabs counted but counter=\(n.count)")
            countSlabError()
            count(.objectCount)
        }
        guard flags.contains(.storeUser) else { return walked }
        p = n.fullHead
        while p >= 0 { let pfn = Int(p); p = kernel.pfnToPage(pfn).pointee.next; validateSlab(pfn); walked += 1 }
        if walked != n.slabs {
            kernel.log.append("SLUB: \(name) \(walked) slabs counted but counter=\(n.slabs)")
            countSlabError()
            count(.objectCount)
        }
        return walked
    }

    /// `validate_slab()`.
    func validateSlab(_ pfn: Int) {
        guard checkSlab(pfn), onFreelist(pfn, search: nil) else { return }
        let free = freeMap(pfn)
        for i in 0..<layout.objectsPerSlab {
            let val = free.contains(i) ? SlabPoison.redInactive : SlabPoison.redActive
            if !checkObject(pfn, object(pfn, i)!, val) { break }
        }
    }
}

extension SlabAllocator {
    /// One validation pass over every cache; the `slab_errors` each cache's pass counted.
    @discardableResult
    public func validateAll() -> [String: Int] {
        var out: [String: Int] = [:]
        for c in allCaches where !c.fastPath { out[c.name] = c.validate().errors }
        return out
    }
}
