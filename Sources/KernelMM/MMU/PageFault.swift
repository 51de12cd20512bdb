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

    /// `do_anonymous_page()` under mmap_lock: nil when no mapping covers `va`.
    func handleFault(_ cpu: CPUContext, _ space: AddressSpace, _ va: UInt64, write: Bool, report: Bool) throws(AccessError) -> PTE? {
        tlbs[cpu.id].counters.faults &+= 1
        let result: Result<PTE?, AccessError> = space.lock.withLock(mayBlock: true, cpu: cpu) {
            guard let vma = space.vma(containing: va) else { return .success(nil) }
            if write && vma.prot == .readOnly { return .failure(.readOnly(va)) }
            if let e = space.pageTable.walk(va).pte { return .success(e) }   // another CPU faulted it in
            let huge = vma.huge
            if !write && !huge {
                // The zero page, read-only and special: nothing is allocated until a write.
                guard let zero = zeroPage(cpu) else { return .failure(.outOfMemory(va)) }
                var tables = 0
                let pageVA = va & ~UInt64(PAGE_SIZE - 1)
                guard space.pageTable.map(pageVA, pfn: zero, flags: PTE.user | PTE.accessed | PTE.special | PTE.noExecute,
                                          huge: false, cpu: cpu, tablePages: &tables) else { return .failure(.outOfMemory(va)) }
                space.tablePages += tables
                space.mappedPages += 1
                return .success(space.pageTable.walk(va).pte)
            }
            let pageVA = huge ? va & ~UInt64((2 << 20) - 1) : va & ~UInt64(PAGE_SIZE - 1)
            let (node, gfp) = placement(vma, pageVA: pageVA, cpu: cpu)
            guard let page = kernel.allocPages(cpu, gfp, order: huge ? 9 : 0, node: node) else { return .failure(.outOfMemory(va)) }
            // NUMA_INTERLEAVE_HIT, as alloc_pages_mpol() counts it: the page is on the chosen node.
            if case .interleave = vma.policy, kernel.zones[Int(page.zone)].node == node {
                cpu.events[Int(page.zone)].interleaveHit &+= 1
            }
            let pfn = kernel.pfn(page).raw
            let flags = PTE.user | PTE.accessed | (vma.prot == .readWrite ? PTE.writable | PTE.dirty : 0) | PTE.noExecute
            var tables = 0
            guard space.pageTable.map(pageVA, pfn: pfn, flags: flags, huge: huge, cpu: cpu, tablePages: &tables) else {
                kernel.freePages(cpu, page, order: huge ? 9 : 0)
                return .failure(.outOfMemory(va))
            }
            space.tablePages += tables
            space.mappedPages += huge ? 512 : 1
            return .success(space.pageTable.walk(va).pte)
        }
        switch result {
        case .success(let e): return e
        case .failure(let err): throw fault(cpu, err, report: report)
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
        let gfp: GFP = [.highuserMovable, .zero]
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
