import Foundation

/// The kernel's own text views of the page allocator, so that existing habits apply:
/// `/proc/buddyinfo` (mm/vmstat.c `frag_show_print`) and `/proc/zoneinfo` (`zoneinfo_show_print`).
extension Kernel {
    /// One row per non-empty zone: free blocks per order.
    public func buddyinfo() -> String {
        var out = ""
        for z in zones where !z.isEmpty {
            let blocks = z.freeBlocksPerOrder()
            let name = z.type.description
            out += "Node \(z.node), zone \(String(repeating: " ", count: max(0, 8 - name.count)))\(name) "
            out += blocks.map { String(format: "%6d ", $0) }.joined() + "\n"
        }
        return out
    }

    /// The zoneinfo fields the model has: free pages, watermarks, spanned/present/managed,
    /// protection (lowmem reserves), and each CPU's pagesets.
    public func zoneinfo() -> String {
        var out = ""
        for z in zones {
            out += "Node \(z.node), zone \(String(repeating: " ", count: max(0, 8 - z.type.description.count)))\(z.type)\n"
            out += "  pages free     \(z.freePages)\n"
            out += "        boost    0\n"
            out += "        min      \(z.watermarks.min)\n"
            out += "        low      \(z.watermarks.low)\n"
            out += "        high     \(z.watermarks.high)\n"
            out += "        spanned  \(z.pages)\n"
            out += "        present  \(z.pages)\n"
            out += "        managed  \(z.pages)\n"
            out += "        protection: (" + z.lowmemReserve.map(String.init).joined(separator: ", ") + ")\n"
            let e = events(zone: z.index)
            out += "      nr_free_pages \(z.freePages)\n"
            out += "      pgalloc      \(e.totalAllocs)\n"
            out += "      pgfree       \(e.frees)\n"
            out += "      allocfail    \(e.failures)\n"
            out += "      zone_fallback \(e.zoneFallbacks)\n"
            out += "      node_fallback \(e.nodeFallbacks)\n"
            out += "      wmark_hit    \(e.watermarkHits)\n"
            out += "      reclaim_pass \(z.reclaimPasses)\n"
            out += "  pagesets\n"
            for cpu in cpus {
                let count = (0..<PerCPUPages.orders).reduce(0) { $0 + Int(cpu.pcp[z.index * PerCPUPages.orders + $1].count) << $1 }
                out += "    cpu: \(cpu.id)\n"
                out += "              count: \(count)\n"
                out += "              high:  \(z.pcpHigh)\n"
                out += "              batch: \(z.pcpBatch)\n"
            }
            out += "  node_unreclaimable:  0\n"
            out += "  start_pfn:           \(z.startPFN)\n"
        }
        return out
    }
}
