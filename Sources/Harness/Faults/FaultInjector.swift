import Foundation
import KernelMM

/// One CPU's fault injector: after each allocation of the workload it draws, with the
/// config's rates, whether to misuse what was just allocated, and how. Each fault is recorded
/// in the ledger before it is made, with where it was made.
///
/// A fault is made only where the kernel's debug code would repair it (a refused free, a
/// restored red zone, a poisoned object checked before reuse): where the target cache has no
/// check for the kind (`slub_debug: false`), a real kernel would corrupt its freelists
/// unnoticed, which the model cannot survive, so the fault is recorded as missed, with the
/// flag that would have caught it, and not made. Double frees and writes after free are
/// made while the object's slab is held (`KmemCache.withSlabHeld`: a debug cache's node list
/// lock, or the CPU's own slab of a fast cache), so no other CPU can allocate the object
/// between the two frees or discard its slab before the write. Nor is a free-path or write
/// fault made in a slab an earlier failed allocation check took out of service
/// (`KmemCache.slabDisabled`): the kernel refuses every free into it unchecked, so the fault
/// would go unseen there — on a busy machine another CPU can disable the slab between this
/// object's allocation and its misuse.
struct FaultInjector {
    let ledger: FaultLedger
    let kinds: [FaultKind]
    let rates: [Double]
    var rng: SplitMix
    /// Memory that is no kernel memory, for `foreign_free`.
    let foreign: UnsafeMutableRawPointer

    init(settings: FaultSettings, ledger: FaultLedger, seed: UInt64, cpu: Int) {
        self.ledger = ledger
        kinds = settings.kinds
        rates = kinds.map { settings.rates[$0] ?? 0 }
        rng = SplitMix(seed: seed ^ 0xFA17_5EED ^ (UInt64(cpu) &* 0x9E37_79B9_7F4A_7C15))
        foreign = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
    }

    func release() { foreign.deallocate() }

    /// The kind to inject at this allocation, if any: one draw against the rates of the kinds
    /// that apply to it.
    mutating func draw(slabObject: Bool, pages: Bool) -> FaultKind? {
        let u = rng.unit()
        var acc = 0.0
        for (i, kind) in kinds.enumerated() {
            let applies = kind == .sleepInAtomic || (kind == .wrongOrder ? pages : slabObject && kind.targetsSlabObject)
            guard applies else { continue }
            acc += rates[i]
            if u < acc { return kind }
        }
        return nil
    }
}

extension CPUWorker {
    /// Injects a fault at a new object, maybe. Returns true when the object was freed here
    /// (the fault was a free of it), so the caller must not keep or free it.
    func injectFault(_ rec: ObjectRecord, part i: Int) -> Bool {
        guard !rec.malloc, rec.kind != .mmap, faults != nil else { return false }
        let slab = slabRef.takeUnretainedValue()
        let cache = rec.kind == .kmemCacheAlloc || rec.kind == .kmalloc ? slab.cacheOf(rec.pointer) : nil
        guard let kind = faults!.draw(slabObject: cache != nil, pages: rec.kind == .allocPages) else { return false }
        let ledger = faults!.ledger
        let obj = rec.pointer, address = UInt(bitPattern: obj)
        let site = "\(parts[i].spec.name): \(rec.kind.rawValue)" + (cache.map { " from \($0.name)" } ?? "")
        if let cache, let need = kind.needs, !cache.debugChecks.contains(need.check) {
            ledger.unchecked(kind, cpu: cpu.id, address: address, site: site,
                             reason: "\(cache.name) has no \(need.flag): a real kernel would not notice, so it was not made")
            return false
        }
        switch kind {
        case .redZone:
            // Under the slab's lock, so no write after free can be made into the slab at once
            // (see `FaultLedger.pendingWrite`).
            cache!.withSlabHeld(cpu, obj) {
                guard let range = cache!.slabRange(obj), !cache!.slabDisabled(obj), !ledger.pendingWrite(in: range) else { return }
                ledger.injected(kind, cpu: cpu.id, address: address, site: site)
                (obj + cache!.objectSize).storeBytes(of: 0x5A, as: UInt8.self)
            }
            return false
        case .invalidFree:
            ledger.injected(kind, cpu: cpu.id, address: address + 1, site: site)
            freeAs(rec, obj + 1)
            return false
        case .foreignFree:
            let p = faults!.foreign
            ledger.injected(kind, cpu: cpu.id, address: UInt(bitPattern: p), site: site)
            freeAs(rec, p)
            return false
        case .doubleFree, .useAfterFree:
            // While the object's slab is held, no other CPU can allocate the object between
            // the two frees or discard its slab before the write.
            var made = false
            cache!.withSlabHeld(cpu, obj) {
                guard !cache!.slabDisabled(obj) else { return }
                if kind == .useAfterFree {
                    guard let range = cache!.slabRange(obj), !ledger.pendingWrite(in: range) else { return }
                }
                made = true
                env.ownership?.release(obj)
                if kind == .doubleFree {
                    free(rec)
                    ledger.injected(kind, cpu: cpu.id, address: address, site: site)
                    free(rec)
                } else {
                    ledger.injected(kind, cpu: cpu.id, address: address, site: site)
                    free(rec)
                    // A byte in the middle of the object, never the free pointer's word.
                    let fp = cache!.layout.freePointerOffset
                    var at = cache!.objectSize / 2
                    if at >= fp && at < fp + MemoryLayout<UInt>.size { at = fp >= 1 ? 0 : cache!.objectSize - 1 }
                    (obj + at).storeBytes(of: 0x00, as: UInt8.self)
                }
            }
            return made   // not made (slab not held or out of service, or a write pending in it): a later object will do
        case .wrongCache:
            // kmem_cache_free() with a kmalloc cache of another size class than the object's.
            let other = slab.kmallocNormal.first { $0 !== cache }!
            env.ownership?.release(obj)
            ledger.injected(kind, cpu: cpu.id, address: address, site: site + ", freed to \(other.name)")
            other.free(cpu, obj)
            return true
        case .wrongOrder:
            ledger.injected(kind, cpu: cpu.id, address: address, site: site)
            kernelRef.takeUnretainedValue().freePages(cpu, address: obj, order: Int(rec.arg) + 1)
            return false
        case .sleepInAtomic:
            ledger.injected(kind, cpu: cpu.id, address: 0, site: "\(parts[i].spec.name): kmalloc(64, GFP_KERNEL) in an atomic section")
            let p = cpu.atomicSection { slab.kmalloc(cpu, 64, .kernel) }
            slab.kfree(cpu, p)
            return false
        }
    }

    /// Frees `p` through the entry that frees objects like `rec` (kfree or kmem_cache_free).
    private func freeAs(_ rec: ObjectRecord, _ p: UnsafeMutableRawPointer) {
        if rec.kind == .kmemCacheAlloc { cacheRefs[Int(rec.arg)].takeUnretainedValue().free(cpu, p) }
        else { slabRef.takeUnretainedValue().kfree(cpu, p) }
    }
}
