import Histogram

/// One CPU's sampled latencies for every (operation, GFP class) cell, in HdrHistogram's own
/// bucket layout (1 ns, three significant digits: 1024 counts per power of two above 2 µs) but
/// with each block of 1024 counts allocated at its first sample. A full-range histogram is
/// 27 such blocks (216 KB); an operation's latencies fill three to six of them, so a CPU pays
/// tens of kilobytes per cell it uses rather than megabytes for all of them — what makes
/// hundreds of logical CPUs cheap. `histogram(_:)` hands a cell over as a `Histogram` with
/// exactly the counts direct recording would have given. Harness plumbing; touched by its CPU
/// only while it runs.
struct LatencyRecorder {
    /// HdrHistogram with lowest value 1 and three digits: sub-bucket count 2048, half 1024.
    static let halfMagnitude = 10
    static let blockSize = 1 << halfMagnitude
    /// Blocks of a histogram whose highest trackable value is 60 s (its counts array: 27).
    static let blocksPerCell = (index(CPUStats.highestTrackable) >> halfMagnitude) + 1

    let cells: Int
    /// `[cell × blocksPerCell + block]`: nil until that block's first sample.
    private let blocks: UnsafeMutablePointer<UnsafeMutablePointer<UInt64>?>
    /// `[cell × 2]` the smallest and `[cell × 2 + 1]` the largest value recorded, exactly (a
    /// histogram keeps both raw: its top percentiles are clamped to the raw maximum).
    private let extremes: UnsafeMutablePointer<UInt64>

    init(cells: Int) {
        self.cells = cells
        blocks = .allocate(capacity: cells * Self.blocksPerCell)
        blocks.initialize(repeating: nil, count: cells * Self.blocksPerCell)
        extremes = .allocate(capacity: cells * 2)
        for c in 0..<cells { extremes[2 * c] = .max; extremes[2 * c + 1] = 0 }
    }

    /// Frees every block (the owner's deinit).
    func deallocate() {
        reset()
        blocks.deallocate()
        extremes.deallocate()
    }

    /// Drops every sample (between warm-up and the measured phase).
    func reset() {
        for i in 0..<cells * Self.blocksPerCell {
            blocks[i]?.deallocate()
            blocks[i] = nil
        }
        for c in 0..<cells { extremes[2 * c] = .max; extremes[2 * c + 1] = 0 }
    }

    /// HdrHistogram's counts index of a value (`countsArrayIndex`).
    @inline(__always) static func index(_ value: UInt64) -> Int {
        let bucket = 53 - Int((value | 2047).leadingZeroBitCount)   // 64 - 0 - 10 - 1
        let sub = Int(truncatingIfNeeded: value >> UInt64(bucket))
        return ((bucket + 1) << halfMagnitude) + sub - blockSize
    }

    /// The lowest value of a counts index (`valueFromIndex`).
    static func value(ofIndex index: Int) -> UInt64 {
        var bucket = (index >> halfMagnitude) - 1
        var sub = (index & (blockSize - 1)) + blockSize
        if bucket < 0 { sub -= blockSize; bucket = 0 }
        return UInt64(sub) << UInt64(bucket)
    }

    /// Counts one sample; false when it is beyond the range (not recorded, as `Histogram.record`).
    @discardableResult
    func record(_ cell: Int, _ value: UInt64) -> Bool {
        let i = Self.index(value)
        let block = i >> Self.halfMagnitude
        guard block < Self.blocksPerCell else { return false }
        let slot = blocks + cell * Self.blocksPerCell + block
        if slot.pointee == nil {
            let b = UnsafeMutablePointer<UInt64>.allocate(capacity: Self.blockSize)
            b.initialize(repeating: 0, count: Self.blockSize)
            slot.pointee = b
        }
        slot.pointee![i & (Self.blockSize - 1)] &+= 1
        if value < extremes[2 * cell] { extremes[2 * cell] = value }
        if value > extremes[2 * cell + 1] { extremes[2 * cell + 1] = value }
        return true
    }

    /// Whether the cell has any sample.
    func hasSamples(_ cell: Int) -> Bool {
        (0..<Self.blocksPerCell).contains { blocks[cell * Self.blocksPerCell + $0] != nil }
    }

    /// Adds the cell's samples to `h` (a histogram of the same layout: 1 ns, three digits),
    /// each count at its bucket's value and the smallest and largest at their own, so `h` gets
    /// the counts, minimum and maximum direct recording would give.
    func add(_ cell: Int, into h: inout Histogram<UInt64>) {
        let lo = extremes[2 * cell], hi = extremes[2 * cell + 1]
        let loIndex = Self.index(lo), hiIndex = Self.index(hi)
        for block in 0..<Self.blocksPerCell {
            guard let b = blocks[cell * Self.blocksPerCell + block] else { continue }
            for k in 0..<Self.blockSize where b[k] > 0 {
                let i = block << Self.halfMagnitude + k
                var n = b[k]
                if i == hiIndex { h.record(hi); n -= 1 }
                if n > 0 && i == loIndex { h.record(lo); n -= 1 }
                if n > 0 { h.record(Self.value(ofIndex: i), count: n) }
            }
        }
    }

    /// Bytes of sample blocks held now.
    var blockBytes: Int {
        (0..<cells * Self.blocksPerCell).reduce(0) { $0 + (blocks[$1] == nil ? 0 : Self.blockSize * 8) }
    }
}
