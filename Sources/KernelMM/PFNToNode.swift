/// `pfn_to_nid()`: the node a page frame belongs to. The kernel reads it from the page flags;
/// here every node owns an equal PFN range, so it is a division, done by reciprocal where PFNs
/// fit in 32 bits (the free paths ask on every slab free and node-list move).
///
/// A small value type so that the slab layer holds its own copy: asking the shared `Kernel`
/// object through a method call retained and released it on every `__slab_free`, an atomic on
/// one cache line that every CPU's frees then fought over.
public struct PFNToNode: Sendable {
    @usableFromInline let divisor: ReciprocalDivisor?
    @usableFromInline let pagesPerNode: Int

    init(pagesPerNode: Int, physicalPages: Int) {
        self.pagesPerNode = Swift.max(pagesPerNode, 1)
        divisor = physicalPages < 1 << 32 && pagesPerNode > 0 ? ReciprocalDivisor(pagesPerNode) : nil
    }

    @inlinable @inline(__always) public func callAsFunction(_ pfn: Int) -> Int {
        if let d = divisor, UInt(bitPattern: pfn) < 1 << 32 { return d.divide(pfn) }
        return pfn / pagesPerNode
    }
}
