import CArch

/// An ownership bitmap over the modelled physical memory, one bit per 8 bytes, set when an
/// object is handed out and cleared when it comes back: an object handed out twice, or freed
/// while not handed out, is caught at once (the "no object handed out twice" invariant, the
/// way KFENCE/KASAN track object state). Thread-safe: bits change by cmpxchg.
public final class ObjectOwnership: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    let words: Int
    let bits: UnsafeMutablePointer<UInt64>

    public init(kernel: Kernel) {
        base = kernel.physicalBase
        words = kernel.physicalPages * PAGE_SIZE / 8 / 64
        bits = .allocate(capacity: max(words, 1))
        bits.initialize(repeating: 0, count: max(words, 1))
    }

    deinit { bits.deallocate() }

    @inline(__always) private func slot(_ p: UnsafeRawPointer) -> (UnsafeMutablePointer<UInt64>, UInt64)? {
        let off = p - UnsafeRawPointer(base)
        guard off >= 0, off / 8 / 64 < words else { return nil }
        return (bits + off / 8 / 64, 1 << UInt64(off / 8 % 64))
    }

    /// Marks `p` handed out; false when it already was (handed out twice).
    @discardableResult
    public func claim(_ p: UnsafeRawPointer) -> Bool { flip(p, to: true) }

    /// Marks `p` returned; false when it was not handed out.
    @discardableResult
    public func release(_ p: UnsafeRawPointer) -> Bool { flip(p, to: false) }

    private func flip(_ p: UnsafeRawPointer, to set: Bool) -> Bool {
        guard let (w, bit) = slot(p) else { return true }
        while true {
            var old = arch_load_relaxed_u64(w)
            if (old & bit != 0) == set { return false }
            if arch_cmpxchg_u64(w, &old, set ? old | bit : old & ~bit) { return true }
        }
    }

    /// Objects still marked handed out.
    public var outstanding: Int { (0..<words).reduce(0) { $0 + arch_load_relaxed_u64(bits + $1).nonzeroBitCount } }
}
