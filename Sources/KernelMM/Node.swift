import Topology

/// A modelled NUMA node (`pg_data_t`, include/linux/mmzone.h): its zones laid out in one real
/// arena (DMA, DMA32, Normal in PFN order), bound to the host node it maps onto, and kswapd.
public final class Node: @unchecked Sendable {
    public let id: Int
    public let zones: [Zone]
    public let memory: NodeMemory
    var kswapd: Kswapd?
    var kcompactd: Kcompactd?

    init(id: Int, zones: [Zone], memory: NodeMemory) {
        self.id = id
        self.zones = zones
        self.memory = memory
    }

    public func zone(_ type: ZoneType) -> Zone { zones[type.rawValue] }

    public var kswapdCounts: (wakeups: UInt64, passes: UInt64) { kswapd?.counts ?? (0, 0) }
}

/// A reference to an allocated block: its zone and its index in that zone (the `struct page *`
/// the kernel's page allocator hands out).
public struct PageRef: Hashable, Sendable {
    public var zone: Int32
    public var index: Int32
    @inlinable public init(zone: Int32, index: Int32) { self.zone = zone; self.index = index }
}
