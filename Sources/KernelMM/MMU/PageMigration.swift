import CArch
import Foundation

/// Migration of an anonymous page through the MMU (mm/migrate.c, mm/rmap.c): the owner's PTE
/// becomes a migration entry under the address space lock (`try_to_migrate()`), the stale
/// translations are shot down on every CPU that may hold them, the contents are copied
/// (`folio_migrate_copy`), and the PTE points to the new page (`remove_migration_ptes()`).
/// A fault on the entry meanwhile waits for it to go (`migration_entry_wait()`); an access
/// through a TLB entry not yet flushed finishes before its CPU acknowledges the flush, so the
/// copy sees every write.
///
/// The model's reverse map is one owner per page: a page of `AddressSpace` with ASID
/// `Page.cacheID` at address `Page.privateWord` (anonymous pages are never shared here).
extension MMU: PageMigrator {
    public func migrateAnonPage(_ cpu: CPUContext, from: Int, to: Int, sync: Bool) -> MigrationResult {
        let old = kernel.pfnToPage(from)
        // Read without owning the page, as isolate_migratepages_block() looks at a folio
        // before it holds it; everything is checked again under the owner's lock.
        guard old.flagsOnce.contains(.movable), let space = space(asid: Int(old.cacheIDOnce)) else { return .skipped }
        let va = old.privateWordOnce
        let entry = PTE(pfn: from, flags: PTE.migration).raw
        if sync { space.lock.lock(mayBlock: true, cpu: cpu) } else if !space.lock.tryLock(cpu: cpu) { return .skipped }
        var saved: UInt64 = 0
        if space.vma(containing: va) != nil, let slot = space.pageTable.leafSlot(va) {
            let e = PTE(raw: arch_load_acquire_u64(slot))
            if e.isPresent && !e.isHuge && e.pfn == from {
                saved = e.raw & ~PTE.pfnMask
                arch_store_release_u64(slot, entry)
            }
        }
        if saved != 0 { _ = arch_fetch_add_u64(space.flushesInFlight, 1) }
        space.lock.unlock(cpu: cpu)
        guard saved != 0 else { return .skipped }
        // The entry must be visible before the cpumask is read (as in munmap).
        arch_smp_mb()
        shootdown(cpu, space, vas: [va])
        memcpy(kernel.pfnToVirt(to), kernel.pfnToVirt(from), PAGE_SIZE)
        var result = MigrationResult.ownerGone
        space.lock.lock(mayBlock: true, cpu: cpu)
        let slot = space.pageTable.leafSlot(va)
        if space.vma(containing: va) != nil, let slot, arch_load_acquire_u64(slot) == entry {
            let new = kernel.pfnToPage(to)
            new.flagsOnce = [.head, .movable]
            new.orderOnce = 0
            new.cacheIDOnce = Int32(space.asid)
            new.privateWordOnce = va
            arch_store_release_u64(slot, PTE(pfn: to, flags: saved).raw)
            result = .migrated
        } else {
            // munmap ran meanwhile and left the entry (it clears present PTEs only).
            if let slot, arch_load_acquire_u64(slot) == entry { arch_store_release_u64(slot, 0) }
            space.mappedPages -= 1
        }
        space.lock.unlock(cpu: cpu)
        _ = arch_fetch_add_u64(space.flushesInFlight, UInt64.max)
        return result
    }

    /// The live address space with this ASID.
    func space(asid: Int) -> AddressSpace? {
        registryLockedSpaces().first { $0.asid == asid }
    }
}
