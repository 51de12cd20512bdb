import Foundation

/// SLUB's debug checks (mm/slub.c `check_object`, `free_consistency_checks`, `slab_bug`):
/// poison and red zones checked on every allocation and free, a state word per object to catch
/// double frees, and reports worded as SLUB words them. A corrupted object is reported,
/// restored and counted; the cache stays usable.
extension KmemCache {
    static let stateAllocated: UInt64 = 0xA110_CA7E_D0B1_EC75
    static let stateFree: UInt64 = 0xF4EE_0B1E_C7F4_EE00

    /// `init_object()` for a new slab: red zones inactive, poison, state free.
    func debugInitObject(_ obj: UnsafeMutableRawPointer) {
        setRedZones(obj, SlabPoison.redInactive)
        if flags.contains(.poison) && ctor == nil { poison(obj) }
        if let s = layout.stateOffset { obj.storeBytes(of: Self.stateFree, toByteOffset: s, as: UInt64.self) }
    }

    func poison(_ obj: UnsafeMutableRawPointer) {
        memset(obj, Int32(SlabPoison.free), objectSize - 1)
        obj.storeBytes(of: SlabPoison.end, toByteOffset: objectSize - 1, as: UInt8.self)
    }

    func setRedZones(_ obj: UnsafeMutableRawPointer, _ value: UInt8) {
        guard flags.contains(.redZone) else { return }
        memset(obj - layout.leftPad, Int32(value), layout.leftPad)
        memset(obj + objectSize, Int32(value), layout.rightRedZone)
    }

    /// First offset in `[from, to)` whose byte differs from `value`, or nil.
    func firstMismatch(_ obj: UnsafeMutableRawPointer, from: Int, to: Int, _ value: UInt8) -> Int? {
        var i = from
        while i < to { if obj.load(fromByteOffset: i, as: UInt8.self) != value { return i }; i += 1 }
        return nil
    }

    func checkRedZones(_ obj: UnsafeMutableRawPointer, expect value: UInt8, pfn: Int?) {
        guard flags.contains(.redZone) else { return }
        if let bad = firstMismatch(obj, from: -layout.leftPad, to: 0, value) {
            report(.redZone, "Left Redzone overwritten", obj: obj, pfn: pfn, detail: "at offset \(bad) of the object, expected 0x\(String(value, radix: 16))")
        }
        if let bad = firstMismatch(obj, from: objectSize, to: objectSize + layout.rightRedZone, value) {
            report(.redZone, "Right Redzone overwritten", obj: obj, pfn: pfn, detail: "at offset \(bad) of the object, expected 0x\(String(value, radix: 16))")
        }
        setRedZones(obj, value)  // "Restoring Redzone"
    }

    /// `alloc_debug_processing()`: the object must still hold its poison and inactive red zones.
    func debugOnAlloc(_ obj: UnsafeMutableRawPointer) {
        let pfn = kernel.virtToPFN(obj)
        checkPoison(obj, pfn: pfn)
        checkRedZones(obj, expect: SlabPoison.redInactive, pfn: pfn)
        setRedZones(obj, SlabPoison.redActive)
        if let s = layout.stateOffset { obj.storeBytes(of: Self.stateAllocated, toByteOffset: s, as: UInt64.self) }
    }

    /// `check_object()`'s poison check of a free object: a write after free shows here.
    func checkPoison(_ obj: UnsafeMutableRawPointer, pfn: Int?) {
        guard flags.contains(.poison) && ctor == nil else { return }
        let bad = firstMismatch(obj, from: 0, to: objectSize - 1, SlabPoison.free)
            ?? (obj.load(fromByteOffset: objectSize - 1, as: UInt8.self) != SlabPoison.end ? objectSize - 1 : nil)
        if let bad {
            report(.poison, "Poison overwritten", obj: obj, pfn: pfn, detail: "first byte 0x\(String(obj.load(fromByteOffset: bad, as: UInt8.self), radix: 16)) at offset \(bad): use after free")
        }
    }

    /// `free_slab()` under SLAB_CONSISTENCY_CHECKS: before an empty slab's pages go back to
    /// the buddy allocator every object is checked as a free one (`check_object(…,
    /// SLUB_RED_INACTIVE)`), so a write after free into an object nobody allocated again is
    /// still caught, at the latest when the slab is discarded.
    func debugOnDiscard(_ pfn: Int) {
        guard flags.contains(.consistencyChecks) else { return }
        for i in 0..<layout.objectsPerSlab {
            let obj = object(pfn, i)!
            checkPoison(obj, pfn: pfn)
            checkRedZones(obj, expect: SlabPoison.redInactive, pfn: pfn)
        }
    }

    /// `free_debug_processing()`: refuse a double free, check the red zones, then poison.
    /// Returns false when the free must not go on.
    func debugOnFree(_ obj: UnsafeMutableRawPointer, pfn: Int) -> Bool {
        if let s = layout.stateOffset {
            let state = obj.load(fromByteOffset: s, as: UInt64.self)
            if state == Self.stateFree {
                report(.doubleFree, "Object already free", obj: obj, pfn: pfn)
                return false
            }
            if state != Self.stateAllocated {
                report(.invalidPointer, "Object state corrupted (0x\(String(state, radix: 16)))", obj: obj, pfn: pfn)
            }
        }
        checkRedZones(obj, expect: SlabPoison.redActive, pfn: pfn)
        setRedZones(obj, SlabPoison.redInactive)
        if flags.contains(.poison) && ctor == nil { poison(obj) }
        if let s = layout.stateOffset { obj.storeBytes(of: Self.stateFree, toByteOffset: s, as: UInt64.self) }
        return true
    }

    /// `slab_bug()` + `print_trailer()`, into the kernel log, counted per kind.
    func report(_ kind: SlabErrorKind, _ message: String, obj: UnsafeMutableRawPointer, pfn: Int?, detail: String? = nil) {
        _ = arch_fetch_add_u64(errorCounts + kind.rawValue, 1)
        var text = """
            =============================================================================
            BUG \(name) (Not tainted): \(message)
            -----------------------------------------------------------------------------

            """
        if let pfn {
            let w = load(pfn)
            text += "Slab 0x\(String(UInt(bitPattern: slabBase(pfn)), radix: 16)) objects=\(layout.objectsPerSlab) used=\(w.inuse) frozen=\(w.frozen ? 1 : 0) owner=cpu\(w.owner)\n"
            text += "Object 0x\(String(UInt(bitPattern: obj), radix: 16)) @offset=\(obj - slabBase(pfn))\n"
        } else {
            text += "Object 0x\(String(UInt(bitPattern: obj), radix: 16))\n"
        }
        if let detail { text += detail + "\n" }
        kernel.log.report(.slabError, text, debug: DebugReport(kind: .slab(kind), cpu: nil, address: UInt(bitPattern: obj)))
    }
}

import CArch
