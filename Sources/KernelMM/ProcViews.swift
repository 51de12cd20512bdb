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

    /// `/proc/zoneinfo` in the layout of current kernels (mm/vmstat.c `zoneinfo_show_print`,
    /// checked against a 6.18 kernel): watermarks with promo and cma, the protection array,
    /// the zone counters, the NUMA event counters, each CPU's pageset with high_min/high_max
    /// and its vmstat threshold, and for an empty zone only the lines up to protection, as the
    /// kernel stops there.
    ///
    /// Only counters the kernel has appear. The per-node block and the LRU, mlock and zsmalloc
    /// counters are left out, since the model has no page cache, LRU lists or zram to fill them;
    /// the model's own counters (allocation failures, fallbacks, watermark hits, reclaim
    /// passes) are in the results' zones.csv, not here.
    public func zoneinfo() -> String {
        var out = ""
        func stat(_ name: String, _ value: Int) { out += "\n      " + name.padding(toLength: max(12, name.count), withPad: " ", startingAt: 0) + " \(value)" }
        for z in zones {
            let name = z.type.description
            let w = z.watermarks
            out += "Node \(z.node), zone \(String(repeating: " ", count: max(0, 8 - name.count)))\(name)"
            out += "\n  pages free     \(z.freePages)"
            out += "\n        boost    0"
            out += "\n        min      \(w.min)"
            out += "\n        low      \(w.low)"
            out += "\n        high     \(w.high)"
            // WMARK_PROMO sits one watermark step above high (memory tiering; unused here).
            out += "\n        promo    \(w.high + (w.high - w.low))"
            out += "\n        spanned  \(z.pages)"
            out += "\n        present  \(z.pages)"
            out += "\n        managed  \(z.pages)"
            out += "\n        cma      0"
            out += "\n        protection: (" + z.lowmemReserve.map(String.init).joined(separator: ", ") + ")"
            guard !z.isEmpty else { out += "\n"; continue }
            stat("nr_free_pages", z.freePages)
            stat("nr_free_pages_blocks", freePagesInPageblocks(z))
            stat("nr_free_cma", 0)
            let e = events(zone: z.index)
            stat("numa_hit", Int(e.numaHit))
            stat("numa_miss", Int(e.numaMiss))
            stat("numa_foreign", Int(e.numaForeign))
            stat("numa_interleave", Int(e.interleaveHit))
            stat("numa_local", Int(e.numaLocal))
            stat("numa_other", Int(e.numaOther))
            out += "\n  pagesets"
            for cpu in cpus {
                let count = cpu.pcpPages(zone: z.index)
                out += "\n    cpu: \(cpu.id)"
                out += "\n              count:    \(count)"
                out += "\n              high:     \(z.pcpHigh)"
                out += "\n              batch:    \(z.pcpBatch)"
                // pcp->high does not move between bounds here: both bounds are the one value.
                out += "\n              high_min: \(z.pcpHigh)"
                out += "\n              high_max: \(z.pcpHigh)"
                // Per-CPU counters are summed exactly when read: no fold threshold.
                out += "\n  vm stats threshold: 0"
            }
            out += "\n  node_unreclaimable:  0"
            out += "\n  start_pfn:           \(z.startPFN)\n"
        }
        return out
    }

    /// NR_FREE_PAGES_BLOCKS: free pages in blocks of at least a pageblock (order 9 on x86-64,
    /// or the zone's largest order when that is smaller), read without the lock.
    func freePagesInPageblocks(_ z: Zone) -> Int {
        let pageblock = min(9, z.maxOrder)
        return (pageblock...z.maxOrder).reduce(0) { $0 + z.nrFreeBlocks(order: $1) << $1 }
    }
}
