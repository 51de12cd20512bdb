/// The zones of a node, lowest first: `enum zone_type` of include/linux/mmzone.h on x86-64
/// (no HIGHMEM; MOVABLE is not modelled, __GFP_MOVABLE allocations use NORMAL).
public enum ZoneType: Int, CaseIterable, Sendable, Codable, CustomStringConvertible {
    case dma = 0
    case dma32 = 1
    case normal = 2

    public var description: String { ["DMA", "DMA32", "Normal"][rawValue] }

    /// `gfp_zone()`: the highest zone a mask may use. Allocation falls back downwards from it.
    @inlinable public static func highest(for gfp: GFP) -> ZoneType {
        if gfp.contains(.dma) { return .dma }
        if gfp.contains(.dma32) { return .dma32 }
        return .normal
    }

    /// `lowmem_reserve_ratio` (mm/page_alloc.c): how much of the upper zones' size a lower zone
    /// keeps back from allocations that could have used an upper zone.
    public var lowmemReserveRatio: Int { [256, 256, 32][rawValue] }
}
