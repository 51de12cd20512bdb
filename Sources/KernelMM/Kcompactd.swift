import Foundation

/// The per-node compaction daemon (mm/compaction.c `kcompactd()`, Linux 6.12): its own thread
/// on a PU of its node, asleep until kswapd goes back to sleep having been woken for a high
/// order (`wakeup_kcompactd()` from `kswapd_try_to_sleep()`), then it compacts each zone of
/// the node up to the wakers' highest zone towards the highest order asked for, at
/// SYNC_LIGHT priority, with the zone's deferral (`kcompactd_do_work()`). Its scans count as
/// `compact_daemon_*` besides the common compaction counters.
///
/// Not modelled: proactive compaction (the timed wake-ups that compact towards
/// `vm.compaction_proactiveness` without a waker) and freezing.
final class Kcompactd: @unchecked Sendable {
    let node: Int
    unowned let kernel: Kernel
    private let thread: KernelThread
    /// `pgdat->kcompactd_max_order` and `kcompactd_highest_zoneidx`.
    private var maxOrder = 0
    private var highestZone = ZoneType.normal
    /// The kernel thread's own per-CPU state: migrated-from pages are freed through its lists.
    let context: CPUContext

    init(node: Int, kernel: Kernel, hostPU: Int?) {
        self.node = node
        self.kernel = kernel
        self.thread = KernelThread(hostPU: hostPU)
        self.context = CPUContext(id: 0x7100 + node, node: node, zoneCount: kernel.zones.count)
    }

    deinit { stop() }

    func start() { thread.start { [unowned self] in self.doWork() } }
    func stop() { thread.stop() }

    /// Models `wakeup_kcompactd()`: nothing for order 0; the order and zone are recorded
    /// (highest order, lowest zone), and the thread wakes only if some zone of the node could
    /// be compacted for it (`kcompactd_node_suitable()`).
    func wake(order: Int, highest: ZoneType) {
        guard order > 0 else { return }
        let (o, h): (Int, ZoneType) = thread.locked {
            maxOrder = Swift.max(maxOrder, order)
            if highest.rawValue < highestZone.rawValue { highestZone = highest }
            return (maxOrder, highestZone)
        }
        guard kernel.kcompactdNodeSuitable(node, order: o, highest: h) else { return }
        thread.wake()
    }

    /// Models `kcompactd_do_work()`.
    private func doWork() {
        let (order, highest): (Int, ZoneType) = thread.locked { (maxOrder, highestZone) }
        guard order > 0 else { return }
        kernel.kcompactdCompactNode(node, order: order, highest: highest, cpu: context)
        thread.locked {
            // Requests that came in meanwhile for a higher order or zone stay for the next pass.
            if maxOrder <= order { maxOrder = 0 }
            if highestZone.rawValue >= highest.rawValue { highestZone = .normal }
        }
    }
}

extension Kernel {
    /// Models `kcompactd_node_suitable()`: a populated zone up to `highest` whose free memory
    /// is below the order's min watermark but enough for compaction to work with.
    func kcompactdNodeSuitable(_ node: Int, order: Int, highest: ZoneType) -> Bool {
        nodes[node].zones.contains { z in
            guard !z.isEmpty, z.type.rawValue <= highest.rawValue else { return false }
            return compactionSuitAllocationOrder(cores + z.index, order: order, highest: highest) == .continue
        }
    }

    /// Models `compaction_suit_allocation_order()` with ALLOC_WMARK_MIN: success when the
    /// order is already there, skipped when compaction is not suitable, else continue.
    func compactionSuitAllocationOrder(_ z: UnsafeMutablePointer<ZoneCore>, order: Int, highest: ZoneType) -> CompactResult {
        if z.pointee.watermarkOK(order: order, mark: z.pointee.watermarks.min, highest: highest, flags: []) { return .success }
        return compactionSuitable(z, order: order, highest: highest) ? .continue : .skipped
    }

    /// The zone loop of `kcompactd_do_work()`: every zone not deferred and suitable is
    /// compacted at SYNC_LIGHT; success resets its deferral, a run that ends without it
    /// drains the per-CPU lists and defers the zone.
    func kcompactdCompactNode(_ node: Int, order: Int, highest: ZoneType, cpu: CPUContext) {
        guard let first = nodes[node].zones.first(where: { !$0.isEmpty }) else { return }
        cores[first.index].count(.compactDaemonWake)
        for zone in nodes[node].zones where !zone.isEmpty && zone.type.rawValue <= highest.rawValue {
            if stopRequested { return }   // kthread_should_stop()
            let z = cores + zone.index
            if compactionDeferred(z, order: order) { continue }
            if compactionSuitAllocationOrder(z, order: order, highest: highest) != .continue { continue }
            var cc = CompactControl(zone: zone.index, order: order, migratetype: MigrateType.movable.rawValue,
                                    priority: .syncLight, direct: false, highest: highest, allocFlags: [], wholeZone: false)
            let status = compactZone(&cc, cpu: cpu)
            if status == .success {
                compactionDeferReset(z, order: order, allocSuccess: false)
            } else if status == .partialSkipped || status == .complete {
                // drain_all_pages(zone): the daemon's own lists now, every CPU's at its next
                // allocator call (the model's remote drain, see PCPDrainShrinker).
                _ = drainPCP(cpu)
                cpus.forEach { $0.requestDrain() }
                deferCompaction(z, order: order)
            }
        }
    }
}
