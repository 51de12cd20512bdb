/// Fragmentation, migration, compaction and THP events of one zone, named as /proc/vmstat
/// names them (mm/vmstat.c `vmstat_text`) where the kernel has a counter, and after the
/// tracepoint where it has only that (`mm_page_alloc_extfrag`). The kernel keeps most of these
/// as global per-CPU events; the model keeps them per zone (atomically added, since compaction
/// counts outside the zone lock) and sums zones for the global view.
public enum ZoneVMEvent: Int, CaseIterable, Sendable, CustomStringConvertible {
    /// `trace_mm_page_alloc_extfrag`: an allocation was served from another type's pageblock.
    case extfrag
    /// … of those, the ones with `fragmenting=1` (the block taken was smaller than a pageblock).
    case extfragFragmenting
    /// … of those, the ones that claimed the whole pageblock (`change_ownership=1`).
    case pageblockSteals
    /// `reserve_highatomic_pageblock()` reserved a block / `unreserve_highatomic_pageblock()`
    /// gave one back.
    case highatomicReserve
    case highatomicUnreserve
    case compactMigrateScanned
    case compactFreeScanned
    case compactIsolated
    case compactStall
    case compactFail
    case compactSuccess
    case compactDaemonWake
    case compactDaemonMigrateScanned
    case compactDaemonFreeScanned
    case pgmigrateSuccess
    case pgmigrateFail
    case thpFaultAlloc
    case thpFaultFallback

    /// Slots in a zone's counter array: the events, then `nr_reserved_highatomic`, then a
    /// flag that stays set once a block was ever reserved (counters are reset between phases).
    /// Literals, not `allCases.count`: the watermark check reads the reserve on every
    /// allocation, and a computed static would cost a lazy-initialisation check there
    /// (ZoneVMEventTests holds them to `allCases`).
    public static let slots = 20
    public static let reservedSlot = 18
    public static let everReservedSlot = 19

    /// The /proc/vmstat-style name.
    public var description: String {
        switch self {
        case .extfrag: "extfrag_events"
        case .extfragFragmenting: "extfrag_fragmenting"
        case .pageblockSteals: "pageblock_steals"
        case .highatomicReserve: "highatomic_reserve"
        case .highatomicUnreserve: "highatomic_unreserve"
        case .compactMigrateScanned: "compact_migrate_scanned"
        case .compactFreeScanned: "compact_free_scanned"
        case .compactIsolated: "compact_isolated"
        case .compactStall: "compact_stall"
        case .compactFail: "compact_fail"
        case .compactSuccess: "compact_success"
        case .compactDaemonWake: "compact_daemon_wake"
        case .compactDaemonMigrateScanned: "compact_daemon_migrate_scanned"
        case .compactDaemonFreeScanned: "compact_daemon_free_scanned"
        case .pgmigrateSuccess: "pgmigrate_success"
        case .pgmigrateFail: "pgmigrate_fail"
        case .thpFaultAlloc: "thp_fault_alloc"
        case .thpFaultFallback: "thp_fault_fallback"
        }
    }
}
