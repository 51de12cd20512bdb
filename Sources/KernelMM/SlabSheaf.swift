import Foundation

/// A sheaf (`struct slab_sheaf`, mm/slub.c, Linux 6.18+): an array of up to `capacity` free
/// objects of one cache, taken off their slabs. A CPU allocates by popping its main sheaf and
/// frees by pushing onto it, so neither touches a slab's `struct page`.
///
/// Laid out as the kernel's: a header, then the object pointers. The kernel kzallocs a sheaf
/// from a kmalloc cache whose size it fills exactly; the model takes it from the host heap
/// (a stated departure: the sheaves then never show in the kmalloc caches' slabinfo, and their
/// allocation cannot fail), so that a kmalloc cache's sheaves cannot recurse into itself.
public struct SlabSheaf {
    /// `barn_list`: the next sheaf on a barn's full or empty list.
    var next: UnsafeMutablePointer<SlabSheaf>?
    /// Objects held, `objects[0 ..< size]`, the last one handed out first.
    var size: Int
    var capacity: Int
    var pad: Int = 0

    /// The most objects a sheaf may hold here: the kernel sets no limit, but a larger sheaf
    /// would not fit the largest kmalloc cache it is kzalloc'ed from (KMALLOC_MAX_CACHE_SIZE).
    public static var maxCapacity: Int { (SlabAllocator.kmallocMaxCacheSize - MemoryLayout<SlabSheaf>.stride) / MemoryLayout<UnsafeMutableRawPointer>.stride }

    /// `struct_size(sheaf, objects, capacity)`: the header and the pointers.
    static func bytes(capacity: Int) -> Int { MemoryLayout<SlabSheaf>.stride + capacity * MemoryLayout<UnsafeMutableRawPointer>.stride }

    @inline(__always) static func objects(_ s: UnsafeMutablePointer<SlabSheaf>) -> UnsafeMutablePointer<UnsafeMutableRawPointer> {
        UnsafeMutableRawPointer(s + 1).assumingMemoryBound(to: UnsafeMutableRawPointer.self)
    }

    /// `alloc_empty_sheaf()`.
    static func allocate(capacity: Int) -> UnsafeMutablePointer<SlabSheaf> {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes(capacity: capacity), alignment: 64)
        let s = raw.bindMemory(to: SlabSheaf.self, capacity: 1)
        s.initialize(to: SlabSheaf(next: nil, size: 0, capacity: capacity))
        return s
    }

    /// `free_empty_sheaf()`.
    static func deallocate(_ s: UnsafeMutablePointer<SlabSheaf>) { UnsafeMutableRawPointer(s).deallocate() }
}

/// One CPU's sheaves of one cache (`struct slub_percpu_sheaves`): `main`, which the fast paths
/// use, and an optional `spare`, empty or full, swapped in before the barn is asked. Touched only
/// by the owning CPU (the kernel's `local_trylock` guards against interrupts on the same CPU,
/// which the model does not have), padded to 128 bytes.
///
/// `main` is never nil: until the CPU first needs a sheaf it is the cache's bootstrap sheaf, of
/// capacity 0, so both fast paths fall through to the slow path without a nil check (Linux 7.0's
/// `bootstrap_sheaf`; 6.18 allocates every main sheaf up front, which costs a 384-CPU model
/// memory for caches a run never touches).
public struct PerCPUSheaves {
    var main: UnsafeMutablePointer<SlabSheaf>
    var spare: UnsafeMutablePointer<SlabSheaf>?
    /// CONFIG_SLUB_STATS items of 6.18, by their sysfs names: `alloc_cpu_sheaf`, `free_cpu_sheaf`.
    public internal(set) var allocCPUSheaf: UInt64 = 0
    public internal(set) var freeCPUSheaf: UInt64 = 0
    /// `sheaf_refill` (objects put into sheaves from slabs), `sheaf_flush` (objects flushed
    /// from sheaves back to slabs), `sheaf_alloc`, `sheaf_free`.
    public internal(set) var sheafRefill: UInt64 = 0
    public internal(set) var sheafFlush: UInt64 = 0
    public internal(set) var sheafAlloc: UInt64 = 0
    public internal(set) var sheafFree: UInt64 = 0
    /// `barn_get`, `barn_get_fail`, `barn_put`, `barn_put_fail`.
    public internal(set) var barnGet: UInt64 = 0
    public internal(set) var barnGetFail: UInt64 = 0
    public internal(set) var barnPut: UInt64 = 0
    public internal(set) var barnPutFail: UInt64 = 0
    /// Slab-path events of refills and flushes, which the kernel counts as its bulk paths reach
    /// them: `___slab_alloc` calls of refills (ALLOC_SLOWPATH), flushed objects that went onto
    /// the CPU slab (FREE_FASTPATH) or through `__slab_free` (FREE_SLOWPATH).
    public internal(set) var refillSlowpath: UInt64 = 0
    public internal(set) var flushFastpath: UInt64 = 0
    public internal(set) var flushSlowpath: UInt64 = 0
    /// To 128 bytes, so that `sheaves + cpu` starts every CPU on lines of its own.
    private var pad: UInt64 = 0

    init(bootstrap: UnsafeMutablePointer<SlabSheaf>) { main = bootstrap; spare = nil }
}

/// Which caches get sheaves.
public enum SheafMode: String, Sendable, Codable, CaseIterable {
    /// Linux 6.18: only a cache created with `kmem_cache_args.sheaf_capacity` has them.
    case optIn = "opt_in"
    /// Linux 7.0: every cache without debug flags has them, the kmalloc caches too, at the
    /// capacity `calculate_sheaf_capacity()` picks (or the cache's own, if larger).
    case all
}

extension SlabSheaf {
    /// `calculate_sheaf_capacity()` of Linux 7.0 for a slot of `slotSize` bytes: 4, 12, 26 or 60
    /// objects from PAGE_SIZE, 1 KiB, 256 bytes and below, then raised until the sheaf fills its
    /// kmalloc size class (`kmalloc_size_roundup()`): 60, 28, 12 and 4 on 64-bit.
    static func defaultCapacity(slotSize: Int) -> Int {
        let base = slotSize >= PAGE_SIZE ? 4 : slotSize >= 1024 ? 12 : slotSize >= 256 ? 26 : 60
        let bytes = Self.bytes(capacity: base)
        let rounded = SlabAllocator.kmallocSizes.first { $0 >= bytes } ?? bytes
        return (rounded - MemoryLayout<SlabSheaf>.stride) / MemoryLayout<UnsafeMutableRawPointer>.stride
    }

    /// The capacity a cache gets: none for debug caches (every object must pass the checks of
    /// the slab paths), else what it asked for, and under `.all` at least the default.
    static func capacity(mode: SheafMode, requested: Int, slotSize: Int, debug: Bool) -> Int {
        if debug { return 0 }
        return mode == .all ? max(requested, defaultCapacity(slotSize: slotSize)) : requested
    }
}
