/// Consistency checks of the page allocator, the debug checks a test or a finished run switches
/// on (in the spirit of CONFIG_DEBUG_VM and `check_free_page()`): free lists well formed, no
/// overlapping or misaligned blocks, each free block on the list of its pageblocks' migrate
/// type, buddies merged where they must be (for an atomic zone: its buddy tree, see
/// `AtomicBuddyInvariants`, and every pageblock still MIGRATE_MOVABLE), NR_FREE_PAGES equal to
/// a recount, and page conservation (free + on PCP lists + allocated = present).
extension Kernel {
    public struct PageViolation: Sendable, CustomStringConvertible, Equatable {
        public var zone: String
        public var what: String
        public var description: String { "zone \(zone): \(what)" }
    }

    /// Checks every zone. Call with no allocation running (end of run, tests).
    /// `expectAllFree`: also require every page back and the free areas equal to boot time.
    public func checkPages(expectAllFree: Bool) -> [PageViolation] {
        var out: [PageViolation] = []
        for z in zones where !z.isEmpty {
            let name = "\(z.node) \(z.type)"
            func bad(_ s: String) { out.append(PageViolation(zone: name, what: s)) }
            z.lock.lock(mayBlock: true, cpu: nil)
            var covered = [Bool](repeating: false, count: z.pages)
            var free = 0
            if let tree = z.core.atomic {
                let r = tree.recount(meta: z.meta)
                r.problems.forEach(bad)
                for order in 0...z.maxOrder where r.blocks[order] != z.nrFreeBlocks(order: order) {
                    bad("order \(order): \(r.blocks[order]) free blocks in the tree, nr_free says \(z.nrFreeBlocks(order: order))")
                }
                // The single pool has no migrate types: nothing may have retyped a pageblock.
                for b in 0..<z.core.pageblocks where z.core.pageblockType(block: b) != MigrateType.movable.rawValue {
                    bad("pageblock \(b) is \(z.pageblockType(ofPage: b << z.pageblockOrder)) in an atomic zone"); break
                }
                free = r.freePages
            }
            // A zone that ever reserved high-atomic blocks may hold pageblock-sized buddies
            // that the merge rule kept apart, or that were apart when the reserve went back.
            let typesSplit = z.core.everReservedHighatomic
            for order in 0...z.maxOrder where z.core.atomic == nil {
              var listed = 0
              for mt in 0..<MigrateType.count {
                var i = z.freeHead(order: order, migratetype: mt), prev: Int32 = -1, n = 0
                while i >= 0 {
                    let m = z.meta[Int(i)]
                    if Int(m.buddyOrder) != order { bad("block \(i) on order-\(order) list without PageBuddy/order \(order)") }
                    if !m.flags.isEmpty { bad("free block \(i) has flags \(m.flags.rawValue)") }
                    if m.prev != prev { bad("broken prev link at block \(i)") }
                    if Int(i) & ((1 << order) - 1) != 0 { bad("block \(i) misaligned for order \(order)") }
                    // Free lists follow pageblock types: every pageblock the block covers.
                    let blocks = Swift.max(1, 1 << Swift.max(0, order - z.pageblockOrder))
                    for b in 0..<blocks where z.pageblockType(ofPage: Int(i) + b << z.pageblockOrder).rawValue != mt {
                        bad("block \(i) of order \(order) on the \(MigrateType(rawValue: mt)!) list in a \(z.pageblockType(ofPage: Int(i) + b << z.pageblockOrder)) pageblock")
                        break
                    }
                    for p in Int(i)..<min(Int(i) + (1 << order), z.pages) {
                        if covered[p] { bad("page \(p) in two free blocks") }
                        covered[p] = true
                    }
                    let buddy = Int(i) ^ (1 << order)
                    if order < z.maxOrder, buddy + (1 << order) <= z.pages, z.isFreeBuddy(buddy, order: order),
                       !(typesSplit && order >= z.pageblockOrder) {
                        bad("block \(i) and its buddy \(buddy) are both free at order \(order) but not merged")
                    }
                    free += 1 << order
                    n += 1
                    prev = i
                    i = m.next
                    if n > z.pages { bad("cycle in order-\(order) list"); break }
                }
                if n != z.core.nrFreeBlocks(order: order, mt: mt) {
                    bad("order \(order) \(MigrateType(rawValue: mt)!): \(n) blocks listed, nr_free says \(z.core.nrFreeBlocks(order: order, mt: mt))")
                }
                listed += n
              }
              if listed != z.nrFreeBlocks(order: order) { bad("order \(order): \(listed) blocks listed, nr_free says \(z.nrFreeBlocks(order: order))") }
            }
            if free != z.freePages { bad("NR_FREE_PAGES \(z.freePages) but \(free) pages on free lists") }
            let onPCP = pcpPages(zone: z.index)
            for cpu in cpus where cpu.pcpCount[z.index] != cpu.pcpPages(zone: z.index) {
                bad("cpu\(cpu.id): pcp->count \(cpu.pcpCount[z.index]) but \(cpu.pcpPages(zone: z.index)) pages on its lists")
            }
            var allocated = 0
            var i = 0
            while i < z.pages {
                let m = z.meta[i]
                if m.flags.contains(.head) { allocated += 1 << Int(m.order); i += 1 << Int(m.order); continue }
                i += 1
            }
            if free + onPCP + allocated != z.pages {
                bad("page conservation: free \(free) + pcp \(onPCP) + allocated \(allocated) != present \(z.pages)")
            }
            if expectAllFree {
                if allocated != 0 { bad("\(allocated) page(s) still allocated") }
                if onPCP != 0 { bad("\(onPCP) page(s) still on PCP lists") }
                let now = (0...z.maxOrder).map { z.nrFreeBlocks(order: $0) }
                if now != z.initialFreeBlocks && !typesSplit { bad("free areas \(now) differ from boot \(z.initialFreeBlocks)") }
            }
            z.lock.unlock(cpu: nil)
        }
        return out
    }

    /// Pages in allocated blocks over every zone (a recount of the block heads).
    public var allocatedPages: Int {
        var total = 0
        for z in zones where !z.isEmpty {
            z.lock.lock(mayBlock: true, cpu: nil)
            var i = 0
            while i < z.pages {
                let m = z.meta[i]
                if m.flags.contains(.head) { total += 1 << Int(m.order); i += 1 << Int(m.order); continue }
                i += 1
            }
            z.lock.unlock(cpu: nil)
        }
        return total
    }
}
