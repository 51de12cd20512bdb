/// Compaction from the allocation slow path (mm/page_alloc.c `__alloc_pages_direct_compact()`,
/// `should_compact_retry()`; mm/compaction.c `try_to_compact_pages()`), Linux 6.12.
extension Kernel {
    /// Models `try_to_compact_pages()`: each zone of the zonelist that is not deferred
    /// (deferral is ignored at the highest priority) is compacted until one reports success;
    /// sync runs that end without success defer the zone. Returns the largest result.
    func tryToCompactPages(_ cpu: CPUContext, _ gfp: GFP, order: Int, flags: AllocFlags, zoneIDs: [Int],
                           highest: ZoneType, priority: CompactPriority) -> CompactResult {
        // gfp_compaction_allowed(): compaction may do I/O-like work only with __GFP_IO.
        guard gfp.contains(.io) else { return .skipped }
        var rc = CompactResult.skipped
        for zi in zoneIDs where cores[zi].pages > 0 {
            let z = cores + zi
            if priority > .syncFull && compactionDeferred(z, order: order) {
                rc = Swift.max(rc, .deferred)
                continue
            }
            var cc = CompactControl(zone: zi, order: order, migratetype: MigrateType.index(gfp: gfp), priority: priority,
                                    direct: true, highest: highest, allocFlags: flags, wholeZone: priority == .syncFull)
            let status = compactZone(&cc, cpu: cpu)
            rc = Swift.max(rc, status)
            if status == .success {
                compactionDeferReset(z, order: order, allocSuccess: false)
                break
            }
            if priority != .async && (status == .complete || status == .partialSkipped) { deferCompaction(z, order: order) }
        }
        return rc
    }

    /// Models `__alloc_pages_direct_compact()`: compact, then try the free lists. A run that
    /// was not skipped everywhere counts a stall, and then a success or a failure.
    func directCompact(_ cpu: CPUContext, _ gfp: GFP, order: Int, flags: AllocFlags, zoneIDs: [Int], highest: ZoneType,
                       priority: CompactPriority, attempt: () -> PageRef?) -> (PageRef?, CompactResult) {
        guard order > 0 else { return (nil, .skipped) }
        let result = tryToCompactPages(cpu, gfp, order: order, flags: flags, zoneIDs: zoneIDs, highest: highest, priority: priority)
        if result == .skipped { return (nil, result) }
        let first = cores + zoneIDs[0]
        first.pointee.count(.compactStall)
        if let p = attempt() {
            let z = cores + Int(p.zone)
            compactionDeferReset(z, order: order, allocSuccess: true)
            z.pointee.count(.compactSuccess)
            return (p, result)
        }
        first.pointee.count(.compactFail)
        return (nil, result)
    }

    /// MAX_COMPACT_RETRIES.
    static let maxCompactRetries = 16

    /// Models `should_compact_retry()`: after a skip, retry only when some zone would pass the
    /// compaction watermark (reclaim can help); after a success that lost the page to a race,
    /// retry up to 16 times (4 for costly orders); after a failure, retry at the next higher
    /// priority down to SYNC_FULL (SYNC_LIGHT for costly orders).
    func shouldCompactRetry(order: Int, result: CompactResult, priority: inout CompactPriority, retries: inout Int,
                            zoneIDs: [Int], highest: ZoneType) -> Bool {
        guard order > 0 else { return false }
        if result == .skipped {
            // compaction_zonelist_suitable(): the model has no reclaimable LRU pages to add.
            return zoneIDs.contains { cores[$0].pages > 0 && compactionSuitableWatermark(cores + $0, order: order, highest: highest) }
        }
        if result == .success {
            let max = order > 3 ? Self.maxCompactRetries / 4 : Self.maxCompactRetries
            retries += 1
            if retries <= max { return true }
        }
        let floor: CompactPriority = order > 3 ? .syncLight : .syncFull
        if priority > floor {
            priority = CompactPriority(rawValue: priority.rawValue - 1)!
            retries = 0
            return true
        }
        return false
    }
}
