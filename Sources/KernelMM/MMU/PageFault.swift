import CArch
import Foundation

/// Memory accesses through the MMU: translate (TLB, then a page walk, then a fault), and the
/// fault handlers of Linux 6.12 for private anonymous memory: `do_anonymous_page()` maps the
/// shared zero page read-only on a read fault and allocates a page, where the mapping's policy
/// says, on a write fault; a write to a zero-page mapping is a write-protect fault
/// (`do_wp_page()` → `wp_page_copy()`) that allocates a zeroed page then, placed at the first
/// write. Bad accesses are reported and counted, never a crash. 2 MiB mappings (THP) allocate
/// on any first touch (no huge zero page here).
extension MMU {
    public enum AccessError: Error, Equatable, Sendable {
        /// No mapping covers the address (SIGSEGV, SEGV_MAPERR).
        case notMapped(UInt64)
        /// A write to a read-only mapping (SIGSEGV, SEGV_ACCERR).
        case readOnly(UInt64)
        /// No memory for the page or a page table.
        case outOfMemory(UInt64)
    }

    /// The physical address (PFN, offset) behind `va` for `cpu`, faulting the page in if needed.
    public func translate(_ cpu: CPUContext, _ space: AddressSpace, _ va: UInt64, write: Bool,
                          report: Bool = true) throws(AccessError) -> (pfn: Int, offset: Int) {
        poll(cpu)
        if onlineFlags[cpu.id].pointee == 0 { enter(cpu) }
        let tlb = tlbs[cpu.id]
        let offset = Int(va & UInt64(PAGE_SIZE - 1))
        if let hit = tlb.lookup(asid: space.asid, va: va) {
            if write && !hit.writable { return try writeProtectFault(cpu, space, va, offset: offset, report: report) }
            let pfn = hit.huge ? hit.pfn + Int(va >> 12 & 511) : hit.pfn
            if debugChecks { try verify(cpu, space, va, pfn: pfn) }
            return (pfn, offset)
        }
        space.noteCPU(cpu.id)   // before the walk: a concurrent munmap then includes us
        let (pte, levels) = space.pageTable.walk(va)
        tlb.counters.walks &+= 1
        tlb.counters.walkLevels &+= UInt64(levels)
        var leaf = pte
        if leaf == nil { leaf = try handleFault(cpu, space, va, write: write, report: report) }
        guard let e = leaf else { throw fault(cpu, .notMapped(va), report: report) }
        if write && !e.isWritable { return try writeProtectFault(cpu, space, va, offset: offset, report: report) }
        tlb.insert(asid: space.asid, va: va, pfn: e.pfn, writable: e.isWritable, huge: e.isHuge)
        return (e.isHuge ? e.pfn + Int(va >> 12 & 511) : e.pfn, offset)
    }

    /// Reads or writes `bytes` at `va` through the MMU, on the real backing memory (so real
    /// cache and NUMA costs happen). Writes store `pattern`; reads return a checksum.
    @discardableResult
    public func access(_ cpu: CPUContext, _ space: AddressSpace, _ va: UInt64, bytes: Int, write: Bool,
                       pattern: UInt8 = 0x5a, report: Bool = true) throws(AccessError) -> UInt64 {
        var sum: UInt64 = 0
        var done = 0
        while done < bytes {
            let at = va + UInt64(done)
            let (pfn, offset) = try translate(cpu, space, at, write: write, report: report)
            let n = min(bytes - done, PAGE_SIZE - offset)
            let p = kernel.pfnToVirt(pfn) + offset
            if write { memset(p, Int32(pattern), n) } else {
                var i = 0
                while i < n { sum &+= UInt64(p.load(fromByteOffset: i, as: UInt8.self)); i += 64 }
            }
            done += n
        }
        return sum
    }

    /// `do_anonymous_page()` / `do_huge_pmd_anonymous_page()`: nil when no mapping covers
    /// `va`. As in the kernel, the page is allocated with no page-table lock held (direct
    /// compaction for a THP may migrate pages of this very space), then mapped under the lock
    /// if nobody mapped the address meanwhile. A fault on a migration entry waits for the
    /// migration to finish (`migration_entry_wait()`), answering flush requests while it waits.
    ///
    /// A `huge` mapping is taken as MADV_HUGEPAGE'd under the default defrag setting
    /// ("madvise"): its THP faults use GFP_TRANSHUGE (direct reclaim and compaction) at
    /// order 9 and fall back to a 4 KiB page when that fails (`thp_fault_fallback`); from then
    /// on that 2 MiB range has a page table and faults in 4 KiB pages.
    func handleFault(_ cpu: CPUContext, _ space: AddressSpace, _ va: UInt64, write: Bool, report: Bool) throws(AccessError) -> PTE? {
        tlbs[cpu.id].counters.faults &+= 1
        enum Step { case none, mapped(PTE), migrating, readOnly, outOfMemory, need(AddressSpace.VMA, Bool) }
        while true {
            let step: Step = space.lock.withLock(mayBlock: true, cpu: cpu) {
                guard let vma = space.vma(containing: va) else { return .none }
                if write && vma.prot == .readOnly { return .readOnly }
                if let e = space.pageTable.walk(va).pte { return .mapped(e) }   // another CPU faulted it in
                if let slot = space.pageTable.leafSlot(va), PTE(raw: arch_load_acquire_u64(slot)).isMigrationEntry { return .migrating }
                if !write && !vma.huge {
                    // The zero page, read-only and special: nothing is allocated until a write
                    // (`writeProtectFault`). It is allocated once, with no page-table lock of
                    // another space held, so mapping it here cannot wait on compaction.
                    guard let zero = self.zeroPage(cpu) else { return .outOfMemory }
                    var tables = 0
                    guard space.pageTable.map(va & ~UInt64(PAGE_SIZE - 1), pfn: zero,
                                              flags: PTE.user | PTE.accessed | PTE.special | PTE.noExecute,
                                              huge: false, cpu: cpu, tablePages: &tables) else { return .outOfMemory }
                    space.tablePages += tables
                    space.mappedPages += 1
                    return space.pageTable.walk(va).pte.map { .mapped($0) } ?? .outOfMemory
                }
                return .need(vma, vma.huge && !space.pageTable.pmdIsTable(va))
            }
            switch step {
            case .none: return nil
            case .mapped(let e): return e
            case .readOnly: throw fault(cpu, .readOnly(va), report: report)
            case .outOfMemory: throw fault(cpu, .outOfMemory(va), report: report)
            case .migrating:
                poll(cpu)
                arch_cpu_relax()
                continue
            case .need(let vma, let huge):
                if let e = try faultIn(cpu, space, va, vma: vma, huge: huge, report: report) { return e }
            }
        }
    }

    /// Allocates the page for a fault (a THP first where the range allows one) and maps it
    /// under the lock. nil when the address changed meanwhile: the caller looks again.
    private func faultIn(_ cpu: CPUContext, _ space: AddressSpace, _ va: UInt64, vma: AddressSpace.VMA, huge: Bool,
                         report: Bool) throws(AccessError) -> PTE? {
        var huge = huge
        var pageVA = huge ? va & ~UInt64((2 << 20) - 1) : va & ~UInt64(PAGE_SIZE - 1)
        var (node, gfp) = placement(vma, pageVA: pageVA, cpu: cpu)
        var page: PageRef?
        if huge {
            // vma_thp_gfp_mask() for a madvised VMA under defrag=madvise.
            let thpGFP = GFP.transhuge.union(gfp.intersection(.thisnode))
            page = kernel.allocPages(cpu, thpGFP, order: 9, node: node)
            if let page {
                kernel.zones[Int(page.zone)].core.count(.thpFaultAlloc)
                memset(kernel.pageAddress(page), 0, PAGE_SIZE << 9)
            } else {
                kernel.nodes[node].zones.last { !$0.isEmpty }?.core.count(.thpFaultFallback)
                huge = false
                pageVA = va & ~UInt64(PAGE_SIZE - 1)
                (node, gfp) = placement(vma, pageVA: pageVA, cpu: cpu)
            }
        }
        if page == nil { page = kernel.allocPages(cpu, gfp, order: 0, node: node) }
        guard let page else { throw fault(cpu, .outOfMemory(va), report: report) }
        let order = huge ? 9 : 0
        let result: Result<PTE?, AccessError> = space.lock.withLock(mayBlock: true, cpu: cpu) {
            // Someone else mapped it, or the mapping went, while we allocated.
            guard space.vma(containing: va) == vma, space.pageTable.walk(va).pte == nil,
                  !(space.pageTable.leafSlot(va).map { PTE(raw: arch_load_acquire_u64($0)).isMigrationEntry } ?? false),
                  !(huge && space.pageTable.pmdIsTable(va)) else { return .success(nil) }
            // NUMA_INTERLEAVE_HIT, as alloc_pages_mpol() counts it: the page is on the chosen node.
            if case .interleave = vma.policy, kernel.zones[Int(page.zone)].node == node {
                cpu.events[Int(page.zone)].interleaveHit &+= 1
            }
            let pfn = kernel.pfn(page).raw
            let flags = PTE.user | PTE.accessed | (vma.prot == .readWrite ? PTE.writable | PTE.dirty : 0) | PTE.noExecute
            var tables = 0
            guard space.pageTable.map(pageVA, pfn: pfn, flags: flags, huge: huge, cpu: cpu, tablePages: &tables) else {
                return .failure(.outOfMemory(va))
            }
            space.tablePages += tables
            space.mappedPages += huge ? 512 : 1
            if !huge {
                // An anonymous 4 KiB page is on the LRU: movable, with its owner recorded.
                let m = kernel.page(page)
                m.flagsOnce = m.flagsOnce.union(.movable)
                m.cacheIDOnce = Int32(space.asid)
                m.privateWordOnce = pageVA
            }
            return .success(space.pageTable.walk(va).pte)
        }
        switch result {
        case .success(let e):
            if e == nil { kernel.freePages(cpu, page, order: order) }
            return e
        case .failure(let err):
            kernel.freePages(cpu, page, order: order)
            throw fault(cpu, err, report: report)
        }
    }

    /// A write to a present, non-writable PTE: on a writable mapping over the zero page,
    /// `wp_page_copy()` — a zeroed page placed by the mapping's policy now, the PTE replaced,
    /// the zero page's translation shot down wherever it may be cached (after the lock is
    /// dropped, as munmap does, so that a CPU waiting for the lock can still answer); on a
    /// read-only mapping, SEGV_ACCERR.
    func writeProtectFault(_ cpu: CPUContext, _ space: AddressSpace, _ va: UInt64, offset: Int,
                           report: Bool) throws(AccessError) -> (pfn: Int, offset: Int) {
        tlbs[cpu.id].counters.faults &+= 1
        let pageVA = va & ~UInt64(PAGE_SIZE - 1)
        let result: Result<(PTE, Bool), AccessError> = space.lock.withLock(mayBlock: true, cpu: cpu) {
            guard let vma = space.vma(containing: va), vma.prot == .readWrite else { return .failure(.readOnly(va)) }
            guard let e = space.pageTable.walk(va).pte else { return .failure(.notMapped(va)) }
            if e.isWritable { return .success((e, false)) }   // another CPU broke the COW first
            guard e.isSpecial else { return .failure(.readOnly(va)) }
            let (node, gfp) = placement(vma, pageVA: pageVA, cpu: cpu)
            guard let page = kernel.allocPages(cpu, gfp, order: 0, node: node) else { return .failure(.outOfMemory(va)) }
            if case .interleave = vma.policy, kernel.zones[Int(page.zone)].node == node {
                cpu.events[Int(page.zone)].interleaveHit &+= 1
            }
            var tables = 0
            _ = space.pageTable.map(pageVA, pfn: kernel.pfn(page).raw,
                                    flags: PTE.user | PTE.accessed | PTE.writable | PTE.dirty | PTE.noExecute,
                                    huge: false, cpu: cpu, tablePages: &tables)
            _ = arch_fetch_add_u64(space.flushesInFlight, 1)
            return .success((space.pageTable.walk(va).pte!, true))
        }
        switch result {
        case .failure(let err): throw fault(cpu, err, report: report)
        case .success(let (e, replaced)):
            if replaced {
                arch_smp_mb()
                shootdown(cpu, space, vas: [pageVA])
                _ = arch_fetch_add_u64(space.flushesInFlight, UInt64.max)
            }
            tlbs[cpu.id].insert(asid: space.asid, va: va, pfn: e.pfn, writable: true, huge: false)
            return (e.pfn, offset)
        }
    }

    /// mempolicy → (node, mask) for the faulting page (`alloc_pages_mpol`).
    func placement(_ vma: AddressSpace.VMA, pageVA: UInt64, cpu: CPUContext) -> (Int, GFP) {
        let gfp: GFP = [.highuserMovable, .zero]   // GFP_HIGHUSER_MOVABLE | __GFP_ZERO (4 KiB faults)
        switch vma.policy {
        case .firstTouch: return (cpu.node, gfp)
        case .bind(let n): return (n, gfp.union(.thisnode))
        case .preferred(let n): return (n, gfp)
        case .interleave(let nodes):
            let index = Int((pageVA - vma.start) >> (vma.huge ? 21 : 12))
            return (nodes.isEmpty ? cpu.node : nodes[index % nodes.count], gfp)
        }
    }

    /// A TLB hit checked against the page table. A mismatch while an unmap of this space is
    /// still shooting down is the race the kernel allows; otherwise it is a stale translation.
    func verify(_ cpu: CPUContext, _ space: AddressSpace, _ va: UInt64, pfn: Int) throws(AccessError) {
        let e = space.pageTable.walk(va).pte
        let actual = e.map { $0.isHuge ? $0.pfn + Int(va >> 12 & 511) : $0.pfn }
        if actual == pfn || arch_load_acquire_u64(space.flushesInFlight) != 0 { return }
        tlbs[cpu.id].counters.staleUses &+= 1
        kernel.log.report(.mmFault, "BUG: use-after-unmap: cpu\(cpu.id) used a stale translation of 0x\(String(va, radix: 16)) (pfn \(pfn)) in \(space.name)")
        throw .notMapped(va)
    }

    /// Counts a bad access and, unless the caller expects it (`report: false`, an access
    /// racing an unmap on purpose), logs it as the kernel would.
    func fault(_ cpu: CPUContext, _ e: AccessError, report: Bool = true) -> AccessError {
        guard report else { return e }
        switch e {
        case .notMapped(let va):
            kernel.log.report(.mmFault, "cpu\(cpu.id): segfault at \(String(va, radix: 16)) error 4 (no mapping)")
        case .readOnly(let va):
            kernel.log.report(.mmFault, "cpu\(cpu.id): segfault at \(String(va, radix: 16)) error 7 (write to a read-only mapping)")
        case .outOfMemory(let va):
            kernel.log.report(.mmFault, "cpu\(cpu.id): page fault at \(String(va, radix: 16)): out of memory")
        }
        return e
    }
}
