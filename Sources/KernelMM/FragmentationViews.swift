import Foundation

/// The kernel's views of fragmentation (mm/vmstat.c): `/proc/pagetypeinfo`, the debugfs
/// `extfrag/extfrag_index` and `extfrag/unusable_index`, and the fragmentation, compaction,
/// migration and THP lines of `/proc/vmstat`.
extension Kernel {
    /// `/proc/pagetypeinfo` as `pagetypeinfo_show()` prints it, once per node with memory:
    /// the pageblock geometry, free blocks per zone, type and order (`%6lu`, each list counted
    /// up to 100 000 as the kernel caps its walk, shown as ">100000"), and pageblocks per type.
    /// Without CONFIG_PAGE_OWNER there is no "mixed blocks" table, as on most kernels.
    public func pagetypeinfo() -> String {
        var out = ""
        for node in nodes {
            let populated = node.zones.filter { !$0.isEmpty }
            guard let first = populated.first else { continue }
            out += "Page block order: \(first.pageblockOrder)\n"
            out += "Pages per block:  \(1 << first.pageblockOrder)\n\n"
            out += "Free pages count per migrate type at order".padding(toLength: 43, withPad: " ", startingAt: 0) + " "
            out += (0...first.maxOrder).map { String(format: "%6d ", $0) }.joined() + "\n"
            for z in populated {
                let rows = MigrateType.allCases.map { z.freeBlocks(migratetype: $0) }
                for mt in MigrateType.allCases {
                    out += "Node \(Self.pad(String(node.id), 4)), zone \(Self.pad(z.type.description, 8)), type \(Self.pad(mt.description, 12)) "
                    out += rows[mt.rawValue].map { $0 >= 100_000 ? ">100000 " : String(format: "%6d ", $0) }.joined() + "\n"
                }
            }
            out += "\n" + "Number of blocks type ".padding(toLength: 23, withPad: " ", startingAt: 0)
            out += MigrateType.allCases.map { Self.pad($0.description, 12) + " " }.joined() + "\n"
            for z in populated {
                out += "Node \(node.id), zone \(Self.pad(z.type.description, 8)) "
                out += z.pageblockCounts().map { Self.pad(String($0), 12) + " " }.joined() + "\n"
            }
        }
        return out
    }

    /// debugfs `extfrag/extfrag_index`: per zone and order, `__fragmentation_index()` as
    /// "%2d.%03d": -1.000 when a block of the order is free, otherwise 0 (failure would be for
    /// lack of memory) … 1 (failure would be from fragmentation).
    public func extfragIndex() -> String {
        indexTable { order, blocks in Self.fragmentationIndex(order: order, freeBlocks: blocks) } format: { v in
            String(format: "%2d.%03d ", v / 1000, abs(v % 1000))
        }
    }

    /// debugfs `extfrag/unusable_index`: per zone and order, the share of free memory in
    /// blocks too small for the order (`unusable_free_index()`), "%d.%03d".
    public func unusableIndex() -> String {
        indexTable { order, blocks in Self.unusableFreeIndex(order: order, freeBlocks: blocks) } format: { v in
            String(format: "%d.%03d ", v / 1000, v % 1000)
        }
    }

    private func indexTable(_ index: (Int, [Int]) -> Int, format: (Int) -> String) -> String {
        var out = ""
        for z in zones where !z.isEmpty {
            let blocks = z.freeBlocksPerOrder()
            out += "Node \(z.node), zone \(Self.pad(z.type.description, 8)) "
            out += (0...z.maxOrder).map { format(index($0, blocks)) }.joined() + "\n"
        }
        return out
    }

    /// `fill_contig_page_info()`: free pages, free blocks, and blocks of at least `order`
    /// counted in units of that order.
    static func contigPageInfo(order: Int, freeBlocks: [Int]) -> (freePages: Int, total: Int, suitable: Int) {
        var pages = 0, total = 0, suitable = 0
        for (o, n) in freeBlocks.enumerated() {
            total += n
            pages += n << o
            if o >= order { suitable += n << (o - order) }
        }
        return (pages, total, suitable)
    }

    /// `__fragmentation_index()`, in thousandths: -1000 when the request would succeed.
    public static func fragmentationIndex(order: Int, freeBlocks: [Int]) -> Int {
        let info = contigPageInfo(order: order, freeBlocks: freeBlocks)
        if info.total == 0 { return 0 }
        if info.suitable > 0 { return -1000 }
        return 1000 - (1000 + info.freePages * 1000 / (1 << order)) / info.total
    }

    /// `unusable_free_index()`, in thousandths.
    public static func unusableFreeIndex(order: Int, freeBlocks: [Int]) -> Int {
        let info = contigPageInfo(order: order, freeBlocks: freeBlocks)
        if info.freePages == 0 { return 1000 }
        return (info.freePages - (info.suitable << order)) * 1000 / info.freePages
    }

    /// The fragmentation events summed over zones, as /proc/vmstat lines ("name value").
    public func fragmentationVMStat() -> String {
        ZoneVMEvent.allCases.map { e in "\(e) \(zones.reduce(UInt64(0)) { $0 + $1.vmEvent(e) })\n" }.joined()
    }

    /// A zone event summed over zones.
    public func vmEventTotal(_ e: ZoneVMEvent) -> UInt64 { zones.reduce(0) { $0 + $1.vmEvent(e) } }

    /// `%Ns`: right-aligned in `width` columns.
    static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
    }
}
