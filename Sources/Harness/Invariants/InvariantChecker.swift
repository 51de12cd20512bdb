import KernelMM

/// DESIGN.md rule 8 as one component the runner, the tests and users call: page conservation
/// and buddy state per zone, slab counters against a recount, no object left out or handed out
/// twice, no mapping left, TLB coherence. Each violation says what and where, with the seed.
public struct InvariantChecker {
    public var kernel: Kernel
    public var slab: SlabAllocator?
    public var vmalloc: Vmalloc?
    public var mmu: MMU?
    public var ownership: ObjectOwnership?
    public var seed: UInt64?

    public init(kernel: Kernel, slab: SlabAllocator? = nil, vmalloc: Vmalloc? = nil, mmu: MMU? = nil,
                ownership: ObjectOwnership? = nil, seed: UInt64? = nil) {
        self.kernel = kernel; self.slab = slab; self.vmalloc = vmalloc; self.mmu = mmu
        self.ownership = ownership; self.seed = seed
    }

    /// Runs every check. `quiescent`: the run is over and everything should be back.
    public func check(quiescent: Bool = true) -> [String] {
        // Slabs SLUB's debug code keeps for good (an object whose free it refused, a slab it
        // marked all used) are the only pages a finished run may still hold.
        let kept = quiescent ? slab?.debugKeptSlabPages ?? 0 : 0
        var v = kernel.checkPages(expectAllFree: quiescent && kept == 0).map(\.description)
        if kept > 0 {
            let held = kernel.allocatedPages
            if held != kept { v.append("\(held) page(s) still allocated, \(kept) of them slabs SLUB's debug checks keep") }
        }
        if let slab { v += slab.checkSlabs(expectEmpty: quiescent) }
        if let vmalloc, quiescent, vmalloc.mappedPages != 0 { v.append("vmalloc: \(vmalloc.mappedPages) page(s) still mapped") }
        if let mmu {
            if quiescent { for s in mmu.spaces where s.mappedPages != 0 { v.append("address space \(s.name): \(s.mappedPages) page(s) still mapped") } }
            let t = mmu.totals
            if t.staleUses != 0 { v.append("TLB coherence: \(t.staleUses) use(s) of a stale translation") }
            if t.ipisSent != t.ipisReceived { v.append("TLB shootdown: \(t.ipisSent) IPIs sent, \(t.ipisReceived) acknowledged") }
        }
        if let ownership, quiescent, ownership.outstanding != 0 {
            v.append("ownership: \(ownership.outstanding) object(s) still marked handed out")
        }
        if kernel.log.text.contains("handed out twice") { v.append("an object was handed out twice (see kernel.log)") }
        guard let seed else { return v }
        return v.map { "\($0) [seed \(seed)]" }
    }
}
