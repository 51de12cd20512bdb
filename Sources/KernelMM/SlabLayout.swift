/// Where things sit in one object slot, and how big a slab is: mm/slub.c `calculate_sizes()`,
/// `calculate_alignment()` and `calculate_order()`.
///
/// A slot is `[left red zone][object][right red zone][free pointer][debug state]`, rounded to
/// the alignment. Without debug flags the free pointer lives inside the free object, in its
/// middle (as SLUB does, so that small overruns do not hit it) and the slot is the object.
public struct SlabLayout: Sendable, Equatable {
    public let objectSize: Int
    public let align: Int
    /// Bytes per slot (`s->size`).
    public let size: Int
    /// Offset of the object in its slot (`red_left_pad`).
    public let leftPad: Int
    /// Right red zone: from `objectSize` to `objectSize + rightRedZone`, relative to the object.
    public let rightRedZone: Int
    /// Free pointer offset relative to the object pointer (`s->offset`).
    public let freePointerOffset: Int
    /// Debug state word offset relative to the object pointer, or nil without debug flags.
    public let stateOffset: Int?
    public let order: Int
    public let objectsPerSlab: Int

    public static let cacheLine = 64
    /// Largest slab: PAGE_ALLOC_COSTLY_ORDER (`slub_max_order`).
    public static let maxOrder = 3

    public init(size objectSize: Int, align requested: Int, flags: SlabFlags, hasCtor: Bool, cpus: Int) throws {
        guard objectSize > 0 else { throw SlabError("object size must be positive, got \(objectSize)") }
        guard requested >= 0, requested & (requested &- 1) == 0 else {
            throw SlabError("alignment must be a power of two, got \(requested)")
        }
        let align = Self.alignment(flags: flags, align: requested, size: objectSize)
        let debug = !flags.intersection(.debug).isEmpty
        let word = MemoryLayout<UInt64>.size
        var left = 0, right = 0
        if flags.contains(.redZone) {
            left = max(word, align)
            right = (objectSize + word - 1) / word * word - objectSize + word
        }
        var offset = left + objectSize + right
        let fpOutside = flags.contains(.poison) || flags.contains(.redZone) || hasCtor || objectSize < word
        var fp: Int
        if fpOutside {
            offset = (offset + word - 1) / word * word
            fp = offset - left
            offset += word
        } else {
            fp = (objectSize / 2) / word * word
        }
        var state: Int? = nil
        if debug {
            offset = (offset + word - 1) / word * word
            state = offset - left
            offset += word
        }
        let size = (offset + align - 1) / align * align
        guard size <= PAGE_SIZE << Self.maxOrder else {
            throw SlabError("object size \(objectSize) does not fit an order-\(Self.maxOrder) slab")
        }
        self.objectSize = objectSize
        self.align = align
        self.size = size
        self.leftPad = left
        self.rightRedZone = right
        self.freePointerOffset = fp
        self.stateOffset = state
        self.order = Self.order(size: size, cpus: cpus)
        self.objectsPerSlab = (PAGE_SIZE << order) / size
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
