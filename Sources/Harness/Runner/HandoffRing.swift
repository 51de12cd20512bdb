import CArch
import KernelMM

/// An object in flight: what was allocated, and how to free it.
struct ObjectRecord {
    var pointer: UnsafeMutableRawPointer
    /// The allocating operation (decides the free: kfree, kmem_cache_free, free_pages, vfree, free).
    var kind: OpKind
    /// Cache index for kmem_cache_alloc, order for alloc_pages.
    var arg: Int32
    var malloc: Bool
    /// mmap: index of the address space (`RunEnvironment.spaceList`).
    var space: Int32 = -1
}

/// A single-producer single-consumer ring that carries objects from a producer CPU to a
/// consumer CPU (the producer/consumer pattern of xmalloc-test and larson). Harness plumbing:
/// one acquire/release pair per object, no lock, so it adds no contention of its own.
final class HandoffRing: @unchecked Sendable {
    static let capacity = 4096
    private let slots: UnsafeMutablePointer<ObjectRecord>
    /// Consumer index and producer index, each on its own cache line.
    private let indexes: UnsafeMutableRawPointer

    init() {
        slots = .allocate(capacity: Self.capacity)
        indexes = .allocate(byteCount: 256, alignment: 128)
        indexes.initializeMemory(as: UInt8.self, repeating: 0, count: 256)
    }

    deinit { slots.deallocate(); indexes.deallocate() }

    private var head: UnsafeMutablePointer<UInt64> { indexes.assumingMemoryBound(to: UInt64.self) }
    private var tail: UnsafeMutablePointer<UInt64> { (indexes + 128).assumingMemoryBound(to: UInt64.self) }

    /// Producer side; false when full.
    func push(_ r: ObjectRecord) -> Bool {
        let t = arch_load_relaxed_u64(tail)
        if t &- arch_load_acquire_u64(head) >= UInt64(Self.capacity) { return false }
        slots[Int(t & UInt64(Self.capacity - 1))] = r
        arch_store_release_u64(tail, t &+ 1)
        return true
    }

    /// Consumer side.
    func pop() -> ObjectRecord? {
        let h = arch_load_relaxed_u64(head)
        if h == arch_load_acquire_u64(tail) { return nil }
        let r = slots[Int(h & UInt64(Self.capacity - 1))]
        arch_store_release_u64(head, h &+ 1)
        return r
    }
}
