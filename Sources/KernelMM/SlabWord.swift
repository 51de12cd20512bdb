/// A slab's freelist head and counters packed in the one word SLUB changes with cmpxchg
/// (`slab->freelist` + `slab->counters`: inuse, frozen), plus the CPU that last took it as its
/// CPU slab (a free by any other CPU is a remote free). A frozen slab belongs to one CPU: as its
/// CPU slab, or on its per-CPU partial list.
/// Bits 0–15: index of the first free object (0xFFFF: none); 16–31: objects in use (held by
/// users or by the owner's per-CPU freelist); 32: frozen (held by a CPU); 33–47: owner CPU.
@usableFromInline struct SlabWord: Equatable {
    @usableFromInline var raw: UInt64
    static let none = 0xFFFF

    @inline(__always) init(raw: UInt64) { self.raw = raw }

    @inline(__always) init(freelist: Int, inuse: Int, frozen: Bool, owner: Int) {
        raw = UInt64(freelist & 0xFFFF) | UInt64(inuse & 0xFFFF) << 16 | (frozen ? 1 << 32 : 0)
            | UInt64(owner & 0x7FFF) << 33
    }

    var freelist: Int { Int(raw & 0xFFFF) }
    var hasFree: Bool { freelist != Self.none }
    var inuse: Int { Int(raw >> 16 & 0xFFFF) }
    var frozen: Bool { raw >> 32 & 1 == 1 }
    var owner: Int { Int(raw >> 33 & 0x7FFF) }
}
