import CArch

/// A 4-level x86-64 page table (PGD → PUD → PMD → PTE, 9 bits each over 4 KiB pages; a PMD
/// entry with PSE maps 2 MiB). Tables are real buddy pages in the arena, allocated on the node
/// of the CPU that needs them (`pte_alloc` → `alloc_pages_node(numa_node_id())`). Entries are
/// read and written with atomic word accesses: other CPUs' walkers read them without a lock,
/// as the hardware walker does; changes happen under the address space's lock.
public struct PageTable: @unchecked Sendable {
    public let rootPFN: Int
    unowned(unsafe) let kernel: Kernel

    static let levels = 4
    static func index(_ va: UInt64, level: Int) -> Int { Int(va >> UInt64(12 + 9 * (levels - 1 - level)) & 511) }

    init(kernel: Kernel, cpu: CPUContext) throws {
        guard let root = PageTable.allocTable(kernel: kernel, cpu: cpu) else { throw SlabError("no memory for a page table") }
        self.kernel = kernel
        rootPFN = root
    }

    static func allocTable(kernel: Kernel, cpu: CPUContext) -> Int? {
        kernel.allocPages(cpu, [.kernel, .zero], order: 0).map { kernel.pfn($0).raw }
    }

    @inline(__always) func slot(_ tablePFN: Int, _ i: Int) -> UnsafeMutablePointer<UInt64> {
        (kernel.pfnToVirt(tablePFN) + i * 8).assumingMemoryBound(to: UInt64.self)
    }

    /// Hardware walk: the leaf entry for `va` and how many levels were read; nil leaf when not
    /// mapped (the walk stopped at a non-present entry).
    public func walk(_ va: UInt64) -> (pte: PTE?, levels: Int) {
        var table = rootPFN
        for level in 0..<Self.levels {
            let e = PTE(raw: arch_load_acquire_u64(slot(table, Self.index(va, level: level))))
            if !e.isPresent { return (nil, level + 1) }
            if level == Self.levels - 1 || (level == 2 && e.isHuge) { return (e, level + 1) }
            table = e.pfn
        }
        return (nil, Self.levels)
    }

    /// Installs a leaf (4 KiB at the PTE level, or 2 MiB at the PMD level when `huge`),
    /// allocating missing tables. Caller holds the address space lock.
    func map(_ va: UInt64, pfn: Int, flags: UInt64, huge: Bool, cpu: CPUContext, tablePages: inout Int) -> Bool {
        var table = rootPFN
        let leafLevel = huge ? 2 : 3
        for level in 0..<leafLevel {
            let s = slot(table, Self.index(va, level: level))
            var e = PTE(raw: arch_load_acquire_u64(s))
            if !e.isPresent {
                guard let t = Self.allocTable(kernel: kernel, cpu: cpu) else { return false }
                tablePages += 1
                e = PTE(pfn: t, flags: PTE.present | PTE.writable | PTE.user)
                arch_store_release_u64(s, e.raw)
            }
            table = e.pfn
        }
        arch_store_release_u64(slot(table, Self.index(va, level: leafLevel)),
                               PTE(pfn: pfn, flags: flags | PTE.present | (huge ? PTE.huge : 0)).raw)
        return true
    }

    /// Clears the leaf for `va`; returns it when something was mapped. Caller holds the lock.
    func unmap(_ va: UInt64) -> PTE? {
        var next: UInt64 = 0
        return unmap(va, next: &next)
    }

    /// `unmap(va)` that also says where a walk over a range may look next when nothing was
    /// there: past the whole region of the missing table, as zap_pmd_range() skips an empty
    /// pmd. Unmapping a long sparse mapping then costs its tables, not its length (a 1 GiB
    /// mapping with one touched page was 262 144 walks).
    func unmap(_ va: UInt64, next: inout UInt64) -> PTE? {
        var table = rootPFN
        for level in 0..<Self.levels {
            let s = slot(table, Self.index(va, level: level))
            let e = PTE(raw: arch_load_acquire_u64(s))
            if !e.isPresent {
                let shift = UInt64(12 + 9 * (Self.levels - 1 - level))
                next = ((va >> shift) + 1) << shift
                return nil
            }
            if level == Self.levels - 1 || (level == 2 && e.isHuge) {
                arch_store_release_u64(s, 0)
                return e
            }
            table = e.pfn
        }
        return nil
    }

    /// The 4 KiB leaf slot of `va` when its tables exist (nil under a 2 MiB mapping or a
    /// missing table), for changes made under the address space lock (migration entries).
    func leafSlot(_ va: UInt64) -> UnsafeMutablePointer<UInt64>? {
        var table = rootPFN
        for level in 0..<(Self.levels - 1) {
            let e = PTE(raw: arch_load_acquire_u64(slot(table, Self.index(va, level: level))))
            if !e.isPresent || (level == 2 && e.isHuge) { return nil }
            table = e.pfn
        }
        return slot(table, Self.index(va, level: Self.levels - 1))
    }

    /// True when the PMD of `va` points to a table of 4 KiB entries (a huge mapping's range
    /// that fell back to small pages is faulted page by page from then on).
    func pmdIsTable(_ va: UInt64) -> Bool {
        var table = rootPFN
        for level in 0..<3 {
            let e = PTE(raw: arch_load_acquire_u64(slot(table, Self.index(va, level: level))))
            if !e.isPresent { return false }
            if level == 2 { return !e.isHuge }
            table = e.pfn
        }
        return false
    }

    /// Frees every table page (`free_pgtables` + `pgd_free`), leaves not included.
    func destroy(cpu: CPUContext) -> Int {
        var freed = 0
        func free(_ table: Int, level: Int) {
            if level < Self.levels - 1 {
                for i in 0..<512 {
                    let e = PTE(raw: arch_load_acquire_u64(slot(table, i)))
                    if e.isPresent && !(level == 2 && e.isHuge) { free(e.pfn, level: level + 1) }
                }
            }
            kernel.freePages(cpu, kernel.pageRef(pfn: table), order: 0)
            freed += 1
        }
        free(rootPFN, level: 0)
        return freed
    }
}
