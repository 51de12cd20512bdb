import CArch
import Foundation

/// SLUB's object checks and reports (mm/slub.c of Linux 6.12): `init_object`, `check_object`,
/// `check_bytes_and_report`, `check_pad_bytes`, `check_slab`, `slab_pad_check`,
/// `check_valid_pointer`, `on_freelist`, `alloc_debug_processing`, `free_debug_processing`, and
/// the report layout of `slab_bug`, `slab_err`, `object_err`, `slab_fix` and `print_trailer`.
///
/// Every report goes to the kernel log in the kernel's words and layout (addresses unhashed,
/// as with `no_hash_pointers`; no stack dumps: the model has no stacks), taints the kernel with
/// B, and is counted twice over: per kind (the run's figures) and as `slab_errors` the way the
/// kernel's self-tests count (`slab_add_kunit_errors()`: one for each BUG and each FIX line).
/// The slab word's freelist is an object index here; a free pointer that is not a valid object
/// of the slab is kept as an index past the slab's end, so `check_valid_pointer` still fails
/// on it as on the kernel's raw pointer.
extension KmemCache {
    static let invalidIndex = 0xFFFE

    // MARK: report layout

    /// `slab_add_kunit_errors()`.
    @inline(__always) func countSlabError() { _ = arch_fetch_add_u64(counters + 2, 1) }

    /// Problems reported in the kernel's self-test counting (BUG and FIX lines).
    public var slabErrors: Int { Int(arch_load_relaxed_u64(counters + 2)) }
    /// Frees `free_debug_processing()` refused ("Object at … not freed"): in the kernel such an
    /// object stays allocated for good, so it is never back at the end of a run.
    public var refusedFrees: Int { Int(arch_load_relaxed_u64(counters + 3)) }
    /// Slabs `alloc_debug_processing()` took out of service ("Marking all objects used"): the
    /// kernel never hands out their free objects again, nor, with F, takes frees into them.
    public var disabledSlabs: Int { Int(arch_load_relaxed_u64(counters + 4)) }

    static func hex(_ p: UnsafeRawPointer?) -> String {
        String(format: "0x%016lx", UInt(bitPattern: p))
    }

    /// `slab_bug()`: the banner, with `print_tainted()` as it stands before this report.
    func bugHeader(_ message: String) -> String {
        """
        =============================================================================
        BUG \(name) (\(kernel.log.taintString)): \(message)
        -----------------------------------------------------------------------------


        """
    }

    /// `print_slab_info()`: the slab's `struct slab` address, objects, inuse, first free
    /// object and page flags (the model's flags: PG_head for multi-page slabs, the node).
    func slabInfo(_ pfn: Int) -> String {
        let w = load(pfn)
        let head = layout.order > 0
        return "Slab \(Self.hex(kernel.pfnToPage(pfn))) objects=\(layout.objectsPerSlab) used=\(w.inuse) "
            + "fp=\(Self.hex(w.hasFree ? object(pfn, w.freelist) : nil)) flags=0x\(String(head ? 0x40 : 0, radix: 16))"
            + "(\(head ? "head|" : "")node=\(pfnToNode(pfn)))"
    }

    func count(_ kind: SlabErrorKind) { _ = arch_fetch_add_u64(errorCounts + kind.rawValue, 1) }

    /// Every BUG report goes out here: counted by kind and as a slab error, into the log as one
    /// report. `address` is the object (or pointer) the report is about.
    func reportBug(_ kind: SlabErrorKind, address: UnsafeRawPointer?, _ text: String, as debugKind: DebugReport.Kind? = nil) {
        count(kind); countSlabError()
        kernel.log.report(.slabError, text, debug: DebugReport(kind: debugKind ?? .slab(kind), cpu: nil, address: UInt(bitPattern: address)))
    }

    /// `slab_err()`: banner and slab line, then taint.
    func slabErr(_ pfn: Int, _ kind: SlabErrorKind, _ message: String, about: UnsafeRawPointer? = nil, as debugKind: DebugReport.Kind? = nil) {
        reportBug(kind, address: about ?? UnsafeRawPointer(slabBase(pfn)), bugHeader(message) + slabInfo(pfn), as: debugKind)
        kernel.log.addTaint(KernelLog.taintBadPage)
    }

    /// `object_err()`: banner and the object's trailer, then taint.
    func objectErr(_ pfn: Int, _ obj: UnsafeMutableRawPointer, _ kind: SlabErrorKind, _ reason: String) {
        reportBug(kind, address: obj, bugHeader(reason) + trailer(pfn, obj))
        kernel.log.addTaint(KernelLog.taintBadPage)
    }

    /// `slab_fix()`: "FIX <cache>: …".
    func slabFix(_ message: String) {
        countSlabError()
        kernel.log.append("FIX \(name): \(message)")
    }

    /// `print_hex_dump(…, DUMP_PREFIX_ADDRESS, 16, 1, …, true)`: rows of 16 bytes, the ASCII
    /// column at 49.
    static func hexDump(_ prefix: String, _ addr: UnsafeRawPointer, _ length: Int) -> String {
        var out = ""
        var i = 0
        while i < length {
            let n = min(16, length - i)
            var line = ""
            var ascii = ""
            for j in 0..<n {
                let b = addr.load(fromByteOffset: i + j, as: UInt8.self)
                line += String(format: j == n - 1 ? "%02x" : "%02x ", b)
                ascii.append(b >= 0x20 && b < 0x7f ? Character(UnicodeScalar(b)) : ".")
            }
            line += String(repeating: " ", count: max(0, 49 - line.count)) + ascii
            out += prefix + String(format: "%016lx", UInt(bitPattern: addr + i)) + ": " + line + "\n"
            i += 16
        }
        return out
    }

    /// Whether `p` lies in the slab's memory (so a trailer can be printed without leaving it).
    func inSlab(_ pfn: Int, _ p: UnsafeRawPointer, bytes: Int) -> Bool {
        let base = UnsafeRawPointer(slabBase(pfn))
        return p >= base && p + bytes <= base + (PAGE_SIZE << layout.order)
    }

    /// `print_trailer()`: tracks, slab line, object line, then hex dumps of the left red zone
    /// (or the 16 bytes before), the object, the right red zone and the padding after the
    /// metadata.
    func trailer(_ pfn: Int, _ obj: UnsafeMutableRawPointer) -> String {
        let base = slabBase(pfn)
        guard inSlab(pfn, obj - layout.leftPad, bytes: layout.size) else {
            return slabInfo(pfn) + "\nObject \(Self.hex(obj)) lies outside the slab\n"
        }
        var out = trackingText(obj)
        out += slabInfo(pfn) + "\n"
        out += "Object \(Self.hex(obj)) @offset=\(obj - base) fp=\(Self.hex(next(obj)))\n\n"
        if flags.contains(.redZone) {
            out += Self.hexDump("Redzone  ", obj - layout.leftPad, layout.leftPad)
        } else if obj > base + 16 {
            out += Self.hexDump("Bytes b4 ", obj - 16, 16)
        }
        out += Self.hexDump("Object   ", obj, min(objectSize, PAGE_SIZE))
        if flags.contains(.redZone) {
            out += Self.hexDump("Redzone  ", obj + objectSize, layout.inuse - objectSize)
        }
        let off = layout.paddingOffset
        if off != layout.sizeFromObject {
            out += Self.hexDump("Padding  ", obj + off, layout.sizeFromObject - off)
        }
        return out
    }

    // MARK: checks

    /// `check_bytes_and_report()`: the first and last bytes in `[start, start+bytes)` that
    /// differ from `value` are reported, then the range is restored. True when intact.
    func checkBytes(_ pfn: Int, _ obj: UnsafeMutableRawPointer, _ kind: SlabErrorKind, _ what: String, _ start: UnsafeMutableRawPointer,
                    _ value: UInt8, _ bytes: Int) -> Bool {
        var fault = -1
        for i in 0..<max(bytes, 0) where start.load(fromByteOffset: i, as: UInt8.self) != value { fault = i; break }
        guard fault >= 0 else { return true }
        var end = bytes
        while end > fault && start.load(fromByteOffset: end - 1, as: UInt8.self) == value { end -= 1 }
        let from = start + fault, to = start + end
        reportBug(kind, address: obj, bugHeader("\(what) overwritten")
            + "\(Self.hex(from))-\(Self.hex(to - 1)) @offset=\(from - slabBase(pfn)). First byte 0x\(String(from.load(as: UInt8.self), radix: 16)) instead of 0x\(String(value, radix: 16))")
        slabFix("Restoring \(what) \(Self.hex(from))-\(Self.hex(to - 1))=0x\(String(value, radix: 16))")
        memset(from, Int32(value), to - from)
        return false
    }

    /// `check_valid_pointer()`: nil, or the start of one of the slab's objects.
    func checkValidPointer(_ pfn: Int, _ p: UnsafeMutableRawPointer?) -> Bool {
        guard let p else { return true }
        let off = p - layout.leftPad - slabBase(pfn)
        return off >= 0 && off < layout.objectsPerSlab * layout.size && off % layout.size == 0
    }

    /// The requested size recorded for a kmalloc object (`get_orig_size()`), else the object size.
    public func origSize(_ obj: UnsafeMutableRawPointer) -> Int {
        guard let o = layout.origSizeOffset else { return objectSize }
        return Int(obj.load(fromByteOffset: o, as: UInt32.self))
    }

    func setOrigSize(_ obj: UnsafeMutableRawPointer, _ size: Int) {
        guard let o = layout.origSizeOffset else { return }
        obj.storeBytes(of: UInt32(min(max(size, 0), objectSize)), toByteOffset: o, as: UInt32.self)
    }

    /// `init_object()`: left red zone, poison (up to the requested size of an allocated kmalloc
    /// object), and red zone from there to `inuse`.
    func initObject(_ obj: UnsafeMutableRawPointer, _ val: UInt8) {
        var poisonSize = objectSize
        if flags.contains(.redZone) {
            memset(obj - layout.leftPad, Int32(val), layout.leftPad)
            if layout.origSizeOffset != nil && val == SlabPoison.redActive { poisonSize = origSize(obj) }
        }
        if layout.objectPoison && poisonSize > 0 {
            memset(obj, Int32(SlabPoison.free), poisonSize - 1)
            obj.storeBytes(of: SlabPoison.end, toByteOffset: poisonSize - 1, as: UInt8.self)
        }
        if flags.contains(.redZone) { memset(obj + poisonSize, Int32(val), layout.inuse - poisonSize) }
    }

    /// `check_object()` of 6.12: every check runs (each reports and restores on its own), the
    /// trailer is printed once at the end when any failed. `val` is SLUB_RED_ACTIVE for an
    /// allocated object, SLUB_RED_INACTIVE for a free one.
    func checkObject(_ pfn: Int, _ obj: UnsafeMutableRawPointer, _ val: UInt8) -> Bool {
        var ok = true
        if flags.contains(.redZone) {
            ok = checkBytes(pfn, obj, .redZone, "Left Redzone", obj - layout.leftPad, val, layout.leftPad) && ok
            ok = checkBytes(pfn, obj, .redZone, "Right Redzone", obj + objectSize, val, layout.inuse - objectSize) && ok
            if layout.origSizeOffset != nil && val == SlabPoison.redActive {
                let orig = origSize(obj)
                if objectSize > orig {
                    ok = checkBytes(pfn, obj, .redZone, "kmalloc Redzone", obj + orig, val, objectSize - orig) && ok
                }
            }
        } else if flags.contains(.poison) && objectSize < layout.inuse {
            ok = checkBytes(pfn, obj, .padding, "Alignment padding", obj + objectSize, SlabPoison.inUse, layout.inuse - objectSize) && ok
        }
        if flags.contains(.poison) {
            if val != SlabPoison.redActive && layout.objectPoison {
                if objectSize > 1 {
                    ok = checkBytes(pfn, obj, .poison, "Poison", obj, SlabPoison.free, objectSize - 1) && ok
                }
                ok = checkBytes(pfn, obj, .poison, "End Poison", obj + objectSize - 1, SlabPoison.end, 1) && ok
            }
            let off = layout.paddingOffset
            if off != layout.sizeFromObject {
                ok = checkBytes(pfn, obj, .padding, "Object padding", obj + off, SlabPoison.inUse, layout.sizeFromObject - off) && ok
            }
        }
        // An allocated object's free pointer is its user's data unless it lies outside.
        if (layout.freePointerOutside || val != SlabPoison.redActive) && !checkValidPointer(pfn, next(obj)) {
            objectErr(pfn, obj, .freePointer, "Freepointer corrupt")
            setNext(obj, nil)   // the rest of this slab's free objects are lost
            ok = false
        }
        if !ok {
            kernel.log.append(trailer(pfn, obj))
            kernel.log.addTaint(KernelLog.taintBadPage)
        }
        return ok
    }

    /// `slab_pad_check()`: with SLAB_POISON the bytes after the last slot hold POISON_INUSE.
    func slabPadCheck(_ pfn: Int) {
        guard flags.contains(.poison) else { return }
        let length = PAGE_SIZE << layout.order
        let remainder = length % layout.size
        guard remainder > 0 else { return }
        let start = slabBase(pfn), pad = start + length - remainder
        var fault = -1
        for i in 0..<remainder where pad.load(fromByteOffset: i, as: UInt8.self) != SlabPoison.inUse { fault = i; break }
        guard fault >= 0 else { return }
        var end = remainder
        while end > fault && pad.load(fromByteOffset: end - 1, as: UInt8.self) == SlabPoison.inUse { end -= 1 }
        slabErr(pfn, .padding, "Padding overwritten. \(Self.hex(pad + fault))-\(Self.hex(pad + end - 1)) @offset=\(pad + fault - start)")
        kernel.log.append(Self.hexDump("Padding  ", pad, remainder))
        slabFix("Restoring slab padding \(Self.hex(pad + fault))-\(Self.hex(pad + end - 1))=0x5a")
        memset(pad + fault, Int32(SlabPoison.inUse), end - fault)
    }

    /// `check_slab()`: counters within bounds, not disabled by an earlier failed check, padding
    /// intact. (The model's slab has no separate `objects` field: its count is the layout's.)
    func checkSlab(_ pfn: Int) -> Bool {
        let page = kernel.pfnToPage(pfn)
        guard page.pointee.flags.contains(.slab) else { slabErr(pfn, .slab, "Not a valid slab page"); return false }
        let w = load(pfn)
        if w.inuse > layout.objectsPerSlab {
            slabErr(pfn, .slab, "inuse \(w.inuse) > max \(layout.objectsPerSlab)")
            return false
        }
        if w.frozen {
            slabErr(pfn, .slab, "Slab disabled since SLUB metadata consistency check failed", as: .slabDisabled)
            return false
        }
        slabPadCheck(pfn)
        return true
    }

    /// Stores a debug slab's word (its node's list lock held: debug caches change slabs only
    /// under it).
    func storeWord(_ pfn: Int, freelist: UnsafeMutableRawPointer?, inuse: Int, frozen: Bool, owner: Int) {
        arch_store_release_u64(word(pfn), SlabWord(freelist: freeIndex(pfn, freelist), inuse: inuse, frozen: frozen, owner: owner).raw)
    }

    /// The slab word's encoding of a free pointer: its object index, "none", or an index past
    /// the slab for a pointer that is no object of it.
    func freeIndex(_ pfn: Int, _ p: UnsafeMutableRawPointer?) -> Int {
        guard let p else { return SlabWord.none }
        return checkValidPointer(pfn, p) ? index(pfn, p) : Self.invalidIndex
    }

    /// `on_freelist()` of 6.12: walks the freelist looking for `search`. A bad pointer inside
    /// the chain cuts it there ("Freechain corrupt"); a bad first pointer clears the freelist
    /// and marks every object used; afterwards the in-use counter is set to what the walk
    /// found ("Wrong object count"). True when `search` is on the list (or is nil).
    func onFreelist(_ pfn: Int, search: UnsafeMutableRawPointer?) -> Bool {
        var w = load(pfn)
        let objects = layout.objectsPerSlab
        var fp = w.hasFree ? object(pfn, w.freelist) : nil
        var obj: UnsafeMutableRawPointer? = nil
        var nr = 0
        while let f = fp, nr <= objects {
            if f == search { return true }
            if !checkValidPointer(pfn, f) {
                if let o = obj {
                    objectErr(pfn, o, .freePointer, "Freechain corrupt")
                    setNext(o, nil)
                } else {
                    slabErr(pfn, .freePointer, "Freepointer corrupt")
                    storeWord(pfn, freelist: nil, inuse: objects, frozen: w.frozen, owner: w.owner)
                    slabFix("Freelist cleared")
                    return false
                }
                break
            }
            obj = f
            fp = next(f)
            nr += 1
        }
        w = load(pfn)
        if w.inuse != objects - nr {
            slabErr(pfn, .objectCount, "Wrong object count. Counter is \(w.inuse) but counted were \(objects - nr)")
            storeWord(pfn, freelist: w.hasFree ? object(pfn, w.freelist) : nil, inuse: max(objects - nr, 0), frozen: w.frozen, owner: w.owner)
            slabFix("Object count adjusted")
        }
        return search == nil
    }

    /// Indexes of the objects on a slab's freelist (`__fill_map()`), the walk bounded by the
    /// slab's object count.
    func freeMap(_ pfn: Int) -> Set<Int> {
        var out = Set<Int>()
        let w = load(pfn)
        var fp = w.hasFree ? object(pfn, w.freelist) : nil
        while let f = fp, out.count < layout.objectsPerSlab, checkValidPointer(pfn, f) {
            out.insert(index(pfn, f))
            fp = next(f)
        }
        return out
    }

    /// `trace()` (SLAB_TRACE): one line per allocation and free, the object dumped on free.
    func traceOp(_ pfn: Int, _ obj: UnsafeMutableRawPointer, alloc: Bool) {
        guard flags.contains(.trace) else { return }
        let w = load(pfn)
        var text = "TRACE \(name) \(alloc ? "alloc" : "free") \(Self.hex(obj)) inuse=\(w.inuse) fp=\(Self.hex(w.hasFree ? object(pfn, w.freelist) : nil))"
        if !alloc { text += "\n" + Self.hexDump("Object ", obj, objectSize).dropLast() }
        kernel.log.append(text)
    }

    /// `alloc_debug_processing()`: with SLAB_CONSISTENCY_CHECKS the slab and the free object
    /// are checked first (poison, inactive red zones); a failure marks every object of the
    /// slab used and takes the slab out of service. Then the object is set up as allocated.
    /// (Without the checks the kernel would dereference a bad freelist pointer; the model
    /// reports it as with them rather than write outside the slab.)
    func allocDebugProcessing(_ pfn: Int, _ obj: UnsafeMutableRawPointer, origSize: Int) -> Bool {
        var good = true
        if flags.contains(.consistencyChecks) {
            if !checkSlab(pfn) { good = false }
            else if !checkValidPointer(pfn, obj) { objectErr(pfn, obj, .freePointer, "Freelist Pointer check fails"); good = false }
            else if !checkObject(pfn, obj, SlabPoison.redInactive) { good = false }
        } else if !checkValidPointer(pfn, obj) {
            objectErr(pfn, obj, .freePointer, "Freelist Pointer check fails")
            good = false
        }
        guard good else {
            slabFix("Marking all objects used")
            _ = arch_fetch_add_u64(counters + 4, 1)
            let w = load(pfn)
            storeWord(pfn, freelist: nil, inuse: layout.objectsPerSlab, frozen: true, owner: w.owner)
            return false
        }
        traceOp(pfn, obj, alloc: true)
        setOrigSize(obj, origSize)
        initObject(obj, SlabPoison.redActive)
        return true
    }

    /// `free_debug_processing()` for one object: slab sane, some object in use, and with
    /// SLAB_CONSISTENCY_CHECKS `free_consistency_checks()` (a real object, not already on the
    /// freelist, red zones still active); then the free track, and the object set up as free.
    /// A refused free leaves the object where it is ("Object at … not freed").
    func freeDebugProcessing(_ pfn: Int, _ obj: UnsafeMutableRawPointer, cpu: CPUContext) -> Bool {
        var ok = false
        var stillLive = false   // a refused free of a live object leaves it allocated for good
        check: do {
            if flags.contains(.consistencyChecks) && !checkSlab(pfn) { stillLive = true; break check }
            let w = load(pfn)
            if w.inuse < 1 {
                // Every object of an empty slab is free: to the fault harness this is a
                // double free of `obj`, though SLUB words it as a count.
                slabErr(pfn, .objectCount, "Slab has \(w.inuse) allocated objects but 1 are to be freed\n", about: obj,
                        as: .slab(.doubleFree))
                break check
            }
            if flags.contains(.consistencyChecks) {
                if !checkValidPointer(pfn, obj) {
                    slabErr(pfn, .invalidPointer, "Invalid object pointer \(Self.hex(obj))", about: obj)
                    break check
                }
                if onFreelist(pfn, search: obj) {
                    objectErr(pfn, obj, .doubleFree, "Object already free")
                    break check
                }
                if !checkObject(pfn, obj, SlabPoison.redActive) { stillLive = true; break check }
            }
            setTrack(obj, .free, cpu: cpu, entry: flags.contains(.kmalloc) ? Self.kfreeSite : Self.freeSite)
            traceOp(pfn, obj, alloc: false)
            initObject(obj, SlabPoison.redInactive)
            ok = true
        }
        if !ok {
            slabFix("Object at \(Self.hex(obj)) not freed")
            if stillLive { _ = arch_fetch_add_u64(counters + 3, 1) }
        }
        return ok
    }

    /// `free_slab()` under SLAB_CONSISTENCY_CHECKS: before an empty slab's pages go back to
    /// the page allocator its padding and every object are checked as free ones, so a write
    /// into an object nobody allocated again is caught at the latest here.
    func debugOnDiscard(_ pfn: Int) {
        guard flags.contains(.consistencyChecks) else { return }
        slabPadCheck(pfn)
        for i in 0..<layout.objectsPerSlab { _ = checkObject(pfn, object(pfn, i)!, SlabPoison.redInactive) }
    }

    /// `skip_orig_size_check()`: after `ksize()` the caller may use the whole object, so the
    /// recorded request becomes the object size.
    func skipOrigSizeCheck(_ obj: UnsafeMutableRawPointer) { setOrigSize(obj, objectSize) }

    /// A report from the model's own pointer checks (`kfree` of a non-object, a wrong cache,
    /// destroying a busy cache), in `slab_err`'s layout when the slab is known.
    func report(_ kind: SlabErrorKind, _ message: String, obj: UnsafeMutableRawPointer, pfn: Int?, detail: String? = nil) {
        if let pfn, kernel.pfnToPage(pfn).pointee.flags.contains(.slab) {
            slabErr(pfn, kind, message, about: obj)
        } else {
            reportBug(kind, address: obj, bugHeader(message) + "Object \(Self.hex(obj))")
            kernel.log.addTaint(KernelLog.taintBadPage)
        }
        if let detail { kernel.log.append(detail) }
    }

    /// `set_freepointer()` under CONFIG_SLAB_FREELIST_HARDENED: `BUG_ON(object == fp)`, the
    /// naive double-free check — an object freed while it heads its slab's (or CPU's)
    /// freelist. The kernel stops there; the model reports it and refuses the free.
    func freelistBug(_ obj: UnsafeMutableRawPointer) {
        reportBug(.doubleFree, address: obj, "kernel BUG at mm/slub.c: set_freepointer: BUG_ON(object == fp) for \(name) object \(Self.hex(obj))")
        kernel.log.addTaint(KernelLog.taintDie)
    }

    static let allocSite = SlabCallSite.register("kmem_cache_alloc")
    static let freeSite = SlabCallSite.register("kmem_cache_free")
    static let kfreeSite = SlabCallSite.register("kfree")
}
