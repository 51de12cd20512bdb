/// Division by a constant fixed at set-up, as a multiply and two shifts
/// (`struct reciprocal_value`, lib/math/reciprocal_div.c): SLUB finds an object's index in its
/// slab this way (`obj_to_index()` with `s->reciprocal_size`), because a hardware divide on
/// every free costs more than the rest of the fast path. Exact for every 32-bit dividend.
public struct ReciprocalDivisor: Sendable, Equatable {
    @usableFromInline let multiplier: UInt64
    @usableFromInline let shift1: UInt64
    @usableFromInline let shift2: UInt64
    public let divisor: Int

    /// `reciprocal_value(d)`, for 1 ≤ d < 2³².
    public init(_ d: Int) {
        precondition(d >= 1 && d < 1 << 32, "reciprocal divisor out of range: \(d)")
        divisor = d
        // l = fls(d - 1): the bits needed for d - 1.
        let l = UInt64(64 - UInt64(d - 1).leadingZeroBitCount)
        // m = 2^32 × (2^l − d) / d + 1, which fits in 32 bits for every d ≥ 1.
        let m = ((UInt64(1) << 32) &* ((UInt64(1) << l) &- UInt64(d))) / UInt64(d) &+ 1
        multiplier = m & 0xFFFF_FFFF
        shift1 = min(l, 1)
        shift2 = l == 0 ? 0 : l - 1
    }

    /// `reciprocal_divide(a, R)`: a / d for 0 ≤ a < 2³².
    @inlinable @inline(__always) public func divide(_ a: Int) -> Int {
        let x = UInt64(truncatingIfNeeded: UInt32(truncatingIfNeeded: a))
        let t = (x &* multiplier) >> 32
        return Int((t &+ ((x &- t) >> shift1)) >> shift2)
    }
}
