/// What compaction needs from the MMU to move a page (mm/migrate.c `migrate_pages()` for an
/// anonymous folio): unmap it from its owner behind a migration entry, shoot the stale
/// translations down, copy, and map the copy in its place. The MMU registers itself with the
/// kernel as the migrator; without one (a kernel with no address spaces) nothing is movable.
public protocol PageMigrator: AnyObject, Sendable {
    /// Moves the movable page at PFN `from` to the isolated free page at PFN `to`. `sync`
    /// (MIGRATE_SYNC_LIGHT and up) may wait for the owner's lock; async only tries it.
    func migrateAnonPage(_ cpu: CPUContext, from: Int, to: Int, sync: Bool) -> MigrationResult
}

/// The outcome of one page's migration.
public enum MigrationResult: Sendable, Equatable {
    /// The owner now maps `to`; `from` is the caller's to free.
    case migrated
    /// Nothing changed (`-EAGAIN`/`-EBUSY`: the page is no longer mapped where its owner
    /// record says, or its address space was busy for an async attempt); `to` stays unused.
    case skipped
    /// The owner unmapped the page while it was being moved: both pages are the caller's.
    case ownerGone
}
