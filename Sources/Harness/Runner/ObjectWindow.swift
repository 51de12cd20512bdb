/// The objects a workload part holds on one CPU (its keep-N window, and a replay's objects
/// that the trace never freed), oldest first: a ring in memory the worker owns, so that
/// keeping and evicting an object is a store and an index update, with no array growth,
/// uniqueness check or compaction on the per-operation path. Harness plumbing, no kernel
/// counterpart. Only its CPU touches it.
struct ObjectWindow {
    private var buffer: UnsafeMutablePointer<ObjectRecord>?
    /// A power of two (0 before the first object).
    private var capacity = 0
    /// Physical slot of the oldest object.
    private var head = 0
    private(set) var count = 0

    /// Room for `keep + 1` objects up front (a keep-N window holds N, plus the new one).
    init(reserving n: Int = 0) {
        if n > 0 { grow(to: n) }
    }

    var isEmpty: Bool { count == 0 }

    @inline(__always) private func slot(_ i: Int) -> Int { (head &+ i) & (capacity &- 1) }

    /// The `i`-th oldest object.
    @inline(__always) subscript(i: Int) -> ObjectRecord { buffer![slot(i)] }

    @inline(__always) mutating func append(_ r: ObjectRecord) {
        if count == capacity { grow(to: count + 1) }
        buffer![slot(count)] = r
        count &+= 1
    }

    /// FIFO eviction.
    @inline(__always) mutating func removeFirst() -> ObjectRecord {
        let r = buffer![head]
        head = (head &+ 1) & (capacity &- 1)
        count &-= 1
        return r
    }

    /// LIFO eviction.
    @inline(__always) mutating func removeLast() -> ObjectRecord {
        count &-= 1
        return buffer![slot(count)]
    }

    /// Random eviction: the `i`-th oldest leaves and the newest takes its place (the order the
    /// array-based window had, so seeded runs free the same objects).
    @inline(__always) mutating func remove(at i: Int) -> ObjectRecord {
        let p = buffer!
        let a = slot(i), last = slot(count &- 1)
        let r = p[a]
        p[a] = p[last]
        count &-= 1
        return r
    }

    /// Drops the `n` oldest (after the drain freed them).
    mutating func dropFirst(_ n: Int) {
        let k = min(n, count)
        if k > 0 { head = slot(k) }
        count -= k
        if count == 0 { head = 0 }
    }

    @inline(never) private mutating func grow(to needed: Int) {
        var cap = max(capacity, 16)
        while cap < needed { cap <<= 1 }
        if cap == capacity { return }
        let fresh = UnsafeMutablePointer<ObjectRecord>.allocate(capacity: cap)
        for i in 0..<count { (fresh + i).initialize(to: self[i]) }
        buffer?.deallocate()
        buffer = fresh
        capacity = cap
        head = 0
    }

    /// Frees the ring's memory (the worker's deinit).
    mutating func deallocate() {
        buffer?.deallocate()
        buffer = nil
        capacity = 0; head = 0; count = 0
    }
}
