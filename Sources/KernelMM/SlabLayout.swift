/// Where things sit in one object slot, and how big a slab is: mm/slub.c `calculate_sizes()`,
/// `calculate_alignment()` and `calculate_order()` of Linux 6.12.
///
/// A slot is `[left red zone][object][right red zone][free pointer?][alloc track][free track]
/// [orig_size][padding]`, rounded to the alignment. The free pointer sits in the middle of the
/// free object (so that small overruns miss it) unless the object must stay intact while free:
/// with SLAB_POISON, a constructor, or SLAB_RED_ZONE on an object smaller than a word or on a
/// kmalloc cache that records `orig_size` — then it follows the right red zone (`s->offset ==
/// s->inuse`, `freeptr_outside_object()`). SLAB_TYPESAFE_BY_RCU is not modelled.
public struct SlabLayout: Sendable, Equatable {
    public let objectSize: Int
    public let align: Int
    /// Bytes per slot (`s->size`).
    public let size: Int
    /// Offset of the object in its slot (`red_left_pad`).
    public let leftPad: Int
    /// `s->inuse`: object plus right red zone (word-rounded object without SLAB_RED_ZONE).
    public let inuse: Int
    /// Free pointer offset relative to the object pointer (`s->offset`).
    public let freePointerOffset: Int
    /// `__OBJECT_POISON`: SLAB_POISON without a constructor poisons the object itself.
    public let objectPoison: Bool
    /// Offset of the two `struct track` records (alloc, free) relative to the object, with
    /// SLAB_STORE_USER (`get_info_end()`).
    public let trackOffset: Int?
    /// Offset of the requested kmalloc size (`orig_size`), with SLAB_STORE_USER on a kmalloc cache.
    public let origSizeOffset: Int?
    public let order: Int
    public let objectsPerSlab: Int

    public static let cacheLine = 64
    /// Largest slab: PAGE_ALLOC_COSTLY_ORDER (`slub_max_order`).
    public static let maxOrder = 3
    /// `sizeof(struct track)` on x86-64 with CONFIG_STACKDEPOT (which SLUB_DEBUG selects):
    /// addr, depot handle, cpu, pid, when.
    public static let trackSize = 32

    /// Right red zone: from `objectSize` to `inuse`, relative to the object.
    public var rightRedZone: Int { inuse - objectSize }
    /// `freeptr_outside_object()`.
    public var freePointerOutside: Bool { freePointerOffset >= inuse }
    /// `get_info_end()`: where the metadata after the free pointer starts.
    public var infoEnd: Int { freePointerOutside ? inuse + MemoryLayout<UInt64>.size : inuse }
    /// `size_from_object()`: bytes of the slot from the object pointer on.
    public var sizeFromObject: Int { size - leftPad }
    /// Where the padding filled with POISON_INUSE starts (`check_pad_bytes()`).
    public var paddingOffset: Int { infoEnd + (trackOffset != nil ? 2 * Self.trackSize : 0) + (origSizeOffset != nil ? 4 : 0) }

    public init(size objectSize: Int, align requested: Int, flags: SlabFlags, hasCtor: Bool, cpus: Int) throws {
        guard objectSize > 0 else { throw SlabError("object size must be positive, got \(objectSize)") }
        guard requested >= 0, requested & (requested &- 1) == 0 else {
            throw SlabError("alignment must be a power of two, got \(requested)")
        }
        let align = Self.alignment(flags: flags, align: requested, size: objectSize)
        let word = MemoryLayout<UInt64>.size
        let redZone = flags.contains(.redZone), storeUser = flags.contains(.storeUser)
        let origSize = storeUser && flags.contains(.kmalloc)   // slub_debug_orig_size()
        var size = (objectSize + word - 1) / word * word
        // No byte between the object and the next word: one more word to hold red zone.
        if redZone && size == objectSize { size += word }
        let inuse = size
        let fp: Int
        if flags.contains(.poison) || hasCtor || (redZone && (objectSize < word || origSize)) {
            fp = size
            size += word
        } else {
            fp = (objectSize / 2) / word * word
        }
        var track: Int? = nil, orig: Int? = nil
        if storeUser {
            track = size
            size += 2 * Self.trackSize
            if flags.contains(.kmalloc) { orig = size; size += 4 }
        }
        var left = 0
        if redZone {
            size += word   // catches writes before an object before they reach metadata
            left = (word + align - 1) / align * align
            size += left
        }
        size = (size + align - 1) / align * align
        guard size <= PAGE_SIZE << Self.maxOrder else {
            throw SlabError("object size \(objectSize) does not fit an order-\(Self.maxOrder) slab")
        }
        self.objectSize = objectSize
        self.align = align
        self.size = size
        self.leftPad = left
        self.inuse = inuse
        self.freePointerOffset = fp
        self.objectPoison = flags.contains(.poison) && !hasCtor
        self.trackOffset = track
        self.origSizeOffset = orig
        self.order = Self.order(size: size, cpus: cpus)
        self.objectsPerSlab = (PAGE_SIZE << order) / size
    }

    /// `slab_ksize()`: the bytes a user may use of an object of this cache — the object alone
    /// when red zones or poison sit right after it, the bytes before the metadata with
    /// SLAB_STORE_USER, else the whole slot.
    public func ksize(flags: SlabFlags) -> Int {
        if !flags.intersection([.redZone, .poison]).isEmpty { return objectSize }
        if flags.contains(.storeUser) { return inuse }
        return size
    }

    /// `calculate_alignment()`: cache-line alignment halved while two objects still fit a line;
    /// at least the word size.
    static func alignment(flags: SlabFlags, align: Int, size: Int) -> Int {
        var a = max(align, MemoryLayout<UInt64>.size)
        if flags.contains(.mustHwcacheAlign) { a = max(a, cacheLine) }
        else if flags.contains(.hwcacheAlign) {
            var ralign = cacheLine
            while size <= ralign / 2 { ralign /= 2 }
            a = max(a, ralign)
        }
        return a
    }

    /// `calculate_order()`: the smallest order that holds `slub_min_objects` (4 × (fls(cpus) + 1))
    /// with at most 1/16, then 1/8, then 1/4 of the slab wasted, within PAGE_ALLOC_COSTLY_ORDER.
    static func order(size: Int, cpus: Int) -> Int {
        let fls = Int.bitWidth - max(cpus, 1).leadingZeroBitCount
        var minObjects = 4 * (fls + 1)
        let maxObjects = (PAGE_SIZE << maxOrder) / size
        minObjects = min(minObjects, maxObjects)
        while minObjects > 1 {
            for fraction in [16, 8, 4] {
                if let o = slabOrder(size: size, minObjects: minObjects, fraction: fraction) { return o }
            }
            minObjects -= 1
        }
        return slabOrder(size: size, minObjects: 1, fraction: 1) ?? maxOrder
    }

    /// `calc_slab_order()`.
    static func slabOrder(size: Int, minObjects: Int, fraction: Int) -> Int? {
        var order = 0
        while (PAGE_SIZE << order) < minObjects * size { order += 1 }
        while order <= maxOrder {
            let slab = PAGE_SIZE << order
            if slab % size <= slab / fraction { return order }
            order += 1
        }
        return nil
    }
}

/// A cache that cannot be created or used as asked.
public struct SlabError: Error, Sendable, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A SLAB_PANIC cache failed: the kernel would stop here ("Kernel panic - not syncing").
public struct KernelPanic: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { "Kernel panic - not syncing: \(message)" }
}
