import CArch
import Foundation

/// The MMU side of the modelled kernel: per-CPU TLBs, address spaces with their page tables,
/// page faults (first touch and mempolicy placement), and TLB shootdowns as real messages —
/// `flush_tlb_mm_range()` → `smp_call_function_many()` with wait: the sender posts a flush to
/// the inbox of every online CPU in the space's cpumask, each CPU acknowledges when it polls
/// between operations, and the sender waits for every acknowledgement.
public final class MMU: @unchecked Sendable {
    public let kernel: Kernel
    /// `tlbs[cpu]`: touched only by that CPU.
    public let tlbs: [TLB]
    let inboxes: [IPIInbox]
    /// Each inbox's pending flag and the owner's online mirror, by CPU id: what the per-operation
    /// poll reads, without touching the inbox objects (no reference counting on that path).
    @usableFromInline let pendingFlags: UnsafeMutablePointer<UnsafeMutablePointer<UInt32>>
    @usableFromInline let onlineFlags: UnsafeMutablePointer<UnsafeMutablePointer<UInt32>>
    public let kernelSpace: AddressSpace
    /// Check every TLB hit against the page table (debug runs, tests): a stale use is reported.
    public var debugChecks = false
    /// Deterministic runs step every CPU on one thread: the sender runs each target's IPI
    /// handler itself (as that CPU, between its operations) instead of waiting for it.
    public var synchronousIPIs = false
    /// `tlb_single_page_flush_ceiling`: above this many pages a full flush replaces invlpg.
    public static let singlePageFlushCeiling = 33
    private let registryLock = NSLock()
    /// `ZERO_PAGE(0)`: the shared page of zeroes every read fault of anonymous memory maps.
    /// The kernel reserves it at boot; the model takes it at the first read fault and gives
    /// it back in `teardown` (-1: not taken yet).
    private var zeroPFN = -1
    private var nextASID = 1
    public private(set) var spaces: [AddressSpace] = []
    /// IPIs sent by kernel threads (kcompactd migrating pages), which have no TLB of their own
    /// to count them in; the targets' acknowledgements are counted in theirs.
    private let kernelThreadIPIs = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)

    public init(kernel: Kernel, geometry: TLB.Geometry = TLB.Geometry()) throws {
        self.kernel = kernel
        tlbs = kernel.cpus.map { _ in TLB(geometry: geometry) }
        inboxes = kernel.cpus.map { IPIInbox(cpu: $0.id, log: kernel.log) }
        pendingFlags = .allocate(capacity: max(inboxes.count, 1))
        pendingFlags.initialize(from: inboxes.map(\.pending), count: inboxes.count)
        onlineFlags = .allocate(capacity: max(inboxes.count, 1))
        onlineFlags.initialize(from: inboxes.map(\.onlineMirror), count: inboxes.count)
        kernelSpace = try AddressSpace(asid: 0, name: "init_mm", kernel: kernel, cpu: kernel.cpus[0], isKernel: true,
                                       cpus: kernel.cpus.count)
        kernelThreadIPIs.initialize(to: 0)
        kernel.migrator = self
    }

    deinit { pendingFlags.deallocate(); onlineFlags.deallocate(); kernelThreadIPIs.deallocate() }

    /// The user address spaces now (under the registry lock).
    func registryLockedSpaces() -> [AddressSpace] {
        registryLock.lock(); defer { registryLock.unlock() }
        return spaces
    }

    /// `mm_alloc()`: a new user address space; its page-table root comes from `cpu`'s node.
    public func createAddressSpace(name: String, cpu: CPUContext) throws -> AddressSpace {
        registryLock.lock(); defer { registryLock.unlock() }
        let space = try AddressSpace(asid: nextASID, name: name, kernel: kernel, cpu: cpu, isKernel: false, cpus: kernel.cpus.count)
        nextASID += 1
        spaces.append(space)
        return space
    }

    /// `mmput()` → `exit_mmap()`: unmaps everything, then frees the page tables.
    public func destroy(_ space: AddressSpace, cpu: CPUContext) {
        let ranges = space.lock.withLock(mayBlock: true, cpu: cpu) { space.vmas.map { ($0.start, $0.end - $0.start) } }
        for (va, len) in ranges { munmap(cpu, space, va, length: Int(len)) }
        _ = space.pageTable.destroy(cpu: cpu)
        registryLock.lock(); spaces.removeAll { $0 === space }; registryLock.unlock()
    }

    /// The end of a run: every user space torn down, then the kernel page tables freed, so
    /// that every page is back. CPUs must be quiet.
    public func teardown(cpu: CPUContext) {
        for space in spaces { destroy(space, cpu: cpu) }
        for other in kernel.cpus { tlbs[other.id].flush(asid: nil) }
        registryLock.lock()
        if zeroPFN >= 0 { kernel.freePages(cpu, kernel.pageRef(pfn: zeroPFN), order: 0); zeroPFN = -1 }
        registryLock.unlock()
        _ = kernelSpace.pageTable.destroy(cpu: cpu)
        kernelSpace.tablePages = 0
    }

    /// TLB and shootdown figures summed over CPUs, with the IPIs kernel threads sent.
    public var totals: TLB.Counters {
        var t = tlbs.reduce(TLB.Counters()) { $0 + $1.counters }
        t.ipisSent &+= arch_load_relaxed_u64(kernelThreadIPIs)
        return t
    }

    public func resetCounters() {
        arch_store_relaxed_u64(kernelThreadIPIs, 0)
        tlbs.forEach { $0.resetCounters() }
        spaces.forEach { $0.resetStats() }
        kernelSpace.resetStats()
    }

    // MARK: CPUs coming and going

    /// The CPU starts running code that may use translations.
    public func enter(_ cpu: CPUContext) { inboxes[cpu.id].setOnline(true, cpu: cpu) }

    /// The CPU stops: it answers what is pending, drops its whole TLB, and is skipped by
    /// shootdowns until it enters again (as an idle CPU in lazy TLB mode is).
    public func leave(_ cpu: CPUContext) {
        for r in inboxes[cpu.id].setOnline(false, cpu: cpu) { handle(r, cpu: cpu) }
        tlbs[cpu.id].flush(asid: nil, counted: false)
    }

    /// The word a shootdown's sender sets for `cpu`: a caller that polls between operations
    /// keeps it and reads it with one load, calling `poll` only when it is set.
    public func pendingFlag(_ cpu: CPUContext) -> UnsafeMutablePointer<UInt32> { pendingFlags[cpu.id] }

    /// Handles flush requests waiting for this CPU: the IPI handler, run between operations.
    @inline(__always) public func poll(_ cpu: CPUContext) {
        if arch_load_relaxed_u32(pendingFlags[cpu.id]) != 0 { pollSlow(cpu) }
    }

    @inline(never) func pollSlow(_ cpu: CPUContext) {
        for r in inboxes[cpu.id].take(cpu: cpu) { handle(r, cpu: cpu) }
    }

    func handle(_ r: FlushRequest, cpu: CPUContext) {
        let tlb = tlbs[cpu.id]
        if r.full { tlb.flush(asid: r.asid) } else { r.vas.forEach { tlb.invalidate(asid: r.asid, va: $0) } }
        tlb.counters.ipisReceived &+= 1
        if debugChecks, let stale = r.vas.first(where: { tlb.holds(asid: r.asid, va: $0) }) {
            kernel.log.report(.mmFault, "BUG: cpu\(cpu.id) still caches 0x\(String(stale, radix: 16)) after a TLB flush")
        }
        _ = arch_fetch_add_u32(r.acks, 1)
    }

    /// The zero page's PFN, taken on first use; nil when no page can be had.
    func zeroPage(_ cpu: CPUContext) -> Int? {
        registryLock.lock(); defer { registryLock.unlock() }
        if zeroPFN < 0, let p = kernel.allocPages(cpu, [.kernel, .zero], order: 0) { zeroPFN = kernel.pfn(p).raw }
        return zeroPFN >= 0 ? zeroPFN : nil
    }

    // MARK: mappings

    /// `mmap(NULL, length, prot, MAP_PRIVATE|MAP_ANONYMOUS)` with a mempolicy: reserves the
    /// range only; pages arrive on first touch.
    public func mmap(_ cpu: CPUContext, _ space: AddressSpace, length: Int, prot: Protection = .readWrite,
                     policy: MemPolicy = .firstTouch, huge: Bool = false) -> UInt64? {
        guard length > 0 else { return nil }
        let align: UInt64 = huge ? 2 << 20 : UInt64(PAGE_SIZE)
        let size = (UInt64(length) + align - 1) / align * align
        return space.lock.withLock(mayBlock: true, cpu: cpu) {
            let start = (space.nextVA + align - 1) / align * align
            space.nextVA = start + size + UInt64(PAGE_SIZE)   // a guard gap between mappings
            space.vmas.append(.init(start: start, end: start + size, prot: prot, policy: policy, huge: huge))
            return start
        }
    }

    /// `munmap(va, length)`: clears the PTEs, shoots the translations down on every CPU that
    /// may hold them (waiting for all), then frees the pages.
    public func munmap(_ cpu: CPUContext, _ space: AddressSpace, _ va: UInt64, length: Int) {
        let end = va + UInt64(length)
        var cleared: [(UInt64, PTE)] = []
        space.lock.withLock(mayBlock: true, cpu: cpu) {
            var kept: [AddressSpace.VMA] = []
            var removed: [AddressSpace.VMA] = []
            for v in space.vmas {
                if v.end <= va || v.start >= end { kept.append(v); continue }
                if v.start < va { var left = v; left.end = va; kept.append(left) }
                if v.end > end { var right = v; right.start = end; kept.append(right) }
                var gone = v; gone.start = max(v.start, va); gone.end = min(v.end, end)
                removed.append(gone)
            }
            space.vmas = kept
            _ = arch_fetch_add_u64(space.flushesInFlight, 1)
            for r in removed {
                // A huge mapping may hold 4 KiB pages where a THP fault fell back: step by
                // what each entry maps (`next` skips the regions of missing tables).
                var p = r.start
                while p < r.end {
                    var next: UInt64 = 0
                    let e = space.pageTable.unmap(p, next: &next)
                    if let e { cleared.append((p, e)) }
                    p = max(p + (e?.isHuge == true ? 2 << 20 : UInt64(PAGE_SIZE)), next)
                }
            }
            space.mappedPages -= cleared.reduce(0) { $0 + ($1.1.isHuge ? 512 : 1) }
        }
        // The PTE clears must be visible before the cpumask is read (a walker sets its bit
        // before it walks): a full barrier, as in flush_tlb_mm_range.
        arch_smp_mb()
        if !cleared.isEmpty { shootdown(cpu, space, vas: cleared.map(\.0)) }
        for (_, e) in cleared where !e.isSpecial { kernel.freePages(cpu, kernel.pageRef(pfn: e.pfn), order: e.isHuge ? 9 : 0) }
        _ = arch_fetch_add_u64(space.flushesInFlight, UInt64.max)
    }

    /// `flush_tlb_mm_range()`: local flush, then IPIs to the other online CPUs of the space (all
    /// CPUs for the kernel space), waiting for each acknowledgement.
    func shootdown(_ cpu: CPUContext, _ space: AddressSpace, vas: [UInt64], forceFull: Bool = false) {
        let full = forceFull || vas.count > Self.singlePageFlushCeiling
        // A kernel thread (kcompactd) has no TLB of its own here and no inbox to answer.
        let own = cpu.id < tlbs.count
        let tlb = own ? tlbs[cpu.id] : nil
        if full { tlb?.flush(asid: space.asid) } else { vas.forEach { tlb?.invalidate(asid: space.asid, va: $0) } }
        let targets = (space.isKernel ? Array(kernel.cpus.indices) : space.cpusInMask()).filter { $0 != cpu.id }
        let request = FlushRequest(asid: space.asid, vas: full ? [] : vas, full: full)
        var sent = 0
        if synchronousIPIs {
            for t in targets where inboxes[t].isOnline { handle(request, cpu: kernel.cpus[t]); sent += 1 }
        } else {
            for t in targets where inboxes[t].post(request, cpu: cpu) { sent += 1 }
        }
        let t0 = Clock.monotonicNS()
        while Int(arch_load_acquire_u32(request.acks)) < sent {
            if own { poll(cpu) }   // two CPUs shooting at each other must not deadlock
            arch_cpu_relax()
        }
        let wait = Clock.monotonicNS() - t0
        if tlb == nil { _ = arch_fetch_add_u64(kernelThreadIPIs, UInt64(sent)) }
        if let tlb {
            tlb.counters.ipisSent &+= UInt64(sent)
            tlb.counters.shootdownWaitNS &+= wait
            tlb.counters.maxShootdownWaitNS = max(tlb.counters.maxShootdownWaitNS, wait)
        }
        space.recordShootdown(waitNS: wait, targets: sent)
    }
}

/// A flush one CPU asks of others; `acks` counts the answers.
final class FlushRequest: @unchecked Sendable {
    let asid: Int
    let vas: [UInt64]
    let full: Bool
    let acks = UnsafeMutablePointer<UInt32>.allocate(capacity: 1)
    init(asid: Int, vas: [UInt64], full: Bool) {
        self.asid = asid; self.vas = vas; self.full = full
        acks.initialize(to: 0)
    }
    deinit { acks.deallocate() }
}

/// A CPU's IPI inbox (the per-CPU `call_single_queue`): posts under a small spin lock, a
/// pending flag the owner checks with one load between operations, and the online state that
/// decides whether a shootdown waits for this CPU at all.
final class IPIInbox: @unchecked Sendable {
    let lock: KernelLock
    let pending = UnsafeMutablePointer<UInt32>.allocate(capacity: 1)
    /// Copy of `online` the owner reads without the lock (only the owner writes either).
    let onlineMirror = UnsafeMutablePointer<UInt32>.allocate(capacity: 1)
    private var requests: [FlushRequest] = []
    private var online = false

    init(cpu: Int, log: KernelLog) {
        lock = KernelLock(name: "cpu\(cpu) call_single_queue", policy: .spin, log: log)
        pending.initialize(to: 0)
        onlineMirror.initialize(to: 0)
    }
    deinit { pending.deallocate(); onlineMirror.deallocate() }


    /// Queues a request if the CPU is online; false when it is not (nothing to wait for).
    func post(_ r: FlushRequest, cpu: CPUContext) -> Bool {
        lock.withLock(mayBlock: false, cpu: cpu) {
            guard online else { return false }
            requests.append(r)
            arch_store_release_u32(pending, 1)
            return true
        }
    }

    func take(cpu: CPUContext) -> [FlushRequest] {
        lock.withLock(mayBlock: false, cpu: cpu) {
            let r = requests
            requests.removeAll()
            arch_store_release_u32(pending, 0)
            return r
        }
    }

    /// Changes the online state; going offline hands back what was still queued.
    @discardableResult
    func setOnline(_ on: Bool, cpu: CPUContext) -> [FlushRequest] {
        lock.withLock(mayBlock: false, cpu: cpu) {
            online = on
            onlineMirror.pointee = on ? 1 : 0
            if on { return [] }
            let r = requests
            requests.removeAll()
            arch_store_release_u32(pending, 0)
            return r
        }
    }

    var isOnline: Bool { lock.withLock(mayBlock: false, cpu: nil) { online } }
}
