/// A CPU's TLB (owned by that CPU only): a first-level data TLB and a second-level shared TLB
/// (STLB), set-associative with LRU replacement, holding 4 KiB and 2 MiB translations tagged
/// with the address space (PCID). Defaults follow a recent x86 core: 64-entry 4-way L1 dTLB,
/// 1536-entry 12-way STLB.
public final class TLB: @unchecked Sendable {
    public struct Geometry: Sendable, Equatable, Codable {
        public var l1Entries: Int = 64
        public var l1Ways: Int = 4
        public var l2Entries: Int = 1536
        public var l2Ways: Int = 12
        public init(l1Entries: Int = 64, l1Ways: Int = 4, l2Entries: Int = 1536, l2Ways: Int = 12) {
            self.l1Entries = l1Entries; self.l1Ways = l1Ways; self.l2Entries = l2Entries; self.l2Ways = l2Ways
        }
    }

    /// Hits, misses and walks, as `perf stat -e dTLB-*` and the walker would count them.
    public struct Counters: Sendable, Equatable, Codable {
        public var l1Hits: UInt64 = 0
        public var l2Hits: UInt64 = 0
        public var misses: UInt64 = 0
        public var walks: UInt64 = 0
        public var walkLevels: UInt64 = 0
        public var faults: UInt64 = 0
        public var singleInvalidations: UInt64 = 0
        public var fullFlushes: UInt64 = 0
        /// Shootdown IPIs this CPU sent and received, and the time it waited for acknowledgements.
        public var ipisSent: UInt64 = 0
        public var ipisReceived: UInt64 = 0
        public var shootdownWaitNS: UInt64 = 0
        public var maxShootdownWaitNS: UInt64 = 0
        /// Translations used after their page was unmapped and the shootdown acknowledged.
        public var staleUses: UInt64 = 0
        public init() {}

        public static func + (a: Counters, b: Counters) -> Counters {
            var r = a
            r.l1Hits += b.l1Hits; r.l2Hits += b.l2Hits; r.misses += b.misses; r.walks += b.walks
            r.walkLevels += b.walkLevels; r.faults += b.faults
            r.singleInvalidations += b.singleInvalidations; r.fullFlushes += b.fullFlushes
            r.ipisSent += b.ipisSent; r.ipisReceived += b.ipisReceived; r.shootdownWaitNS += b.shootdownWaitNS
            r.maxShootdownWaitNS = max(a.maxShootdownWaitNS, b.maxShootdownWaitNS); r.staleUses += b.staleUses
            return r
        }
    }

    struct Entry {
        var tag: UInt64 = 0      // asid << 40 | size bit << 39 | page number
        var pfn: Int = 0
        var writable = false
        var valid = false
        var lastUse: UInt64 = 0
    }

    /// One level's sets, in memory the TLB owns: the lookup path reads and updates entries in
    /// place, without array copy-on-write or exclusivity checks.
    struct Level {
        let sets: Int
        let ways: Int
        let entries: UnsafeMutablePointer<Entry>
        var count: Int { sets * ways }
        init(entries: Int, ways: Int) {
            self.ways = max(1, min(ways, entries))
            sets = max(1, entries / self.ways)
            self.entries = .allocate(capacity: sets * self.ways)
            self.entries.initialize(repeating: Entry(), count: sets * self.ways)
        }
        @inline(__always) func base(_ tag: UInt64) -> Int { Int(tag % UInt64(sets)) * ways }
    }

    /// Counters and the LRU clock, in owned memory for the same reason.
    struct State {
        var counters = Counters()
        var clock: UInt64 = 0
    }

    public let geometry: Geometry
    let l1: Level
    let l2: Level
    let state: UnsafeMutablePointer<State>

    /// This CPU's figures (read and updated in place).
    public var counters: Counters {
        unsafeAddress { UnsafePointer(state).pointer(to: \.counters)! }
        unsafeMutableAddress { state.pointer(to: \.counters)! }
    }

    public init(geometry: Geometry = Geometry()) {
        self.geometry = geometry
        l1 = Level(entries: geometry.l1Entries, ways: geometry.l1Ways)
        l2 = Level(entries: geometry.l2Entries, ways: geometry.l2Ways)
        state = .allocate(capacity: 1)
        state.initialize(to: State())
    }

    deinit {
        l1.entries.deallocate()
        l2.entries.deallocate()
        state.deallocate()
    }

    @inline(__always) static func tag(asid: Int, va: UInt64, huge: Bool) -> UInt64 {
        UInt64(asid) << 40 | (huge ? 1 << 39 : 0) | (va >> (huge ? 21 : 12))
    }

    /// A translation, or nil on a miss in both levels. Counts hits; a miss is counted by the caller's walk.
    func lookup(asid: Int, va: UInt64) -> (pfn: Int, writable: Bool, huge: Bool)? {
        state.pointee.clock &+= 1
        let small = Self.tag(asid: asid, va: va, huge: false), huge = Self.tag(asid: asid, va: va, huge: true)
        if let e = probe(l1, small) { state.pointee.counters.l1Hits &+= 1; return (e.pfn, e.writable, false) }
        if let e = probe(l1, huge) { state.pointee.counters.l1Hits &+= 1; return (e.pfn, e.writable, true) }
        return lookupL2(small, huge)
    }

    /// Second level: a hit is copied into the first level.
    @inline(never) private func lookupL2(_ small: UInt64, _ huge: UInt64) -> (pfn: Int, writable: Bool, huge: Bool)? {
        let hit: (Entry, UInt64, Bool)?
        if let e = probe(l2, small) { hit = (e, small, false) } else if let e = probe(l2, huge) { hit = (e, huge, true) } else { hit = nil }
        guard let (e, t, isHuge) = hit else { state.pointee.counters.misses &+= 1; return nil }
        state.pointee.counters.l2Hits &+= 1
        fill(l1, Entry(tag: t, pfn: e.pfn, writable: e.writable, valid: true, lastUse: state.pointee.clock))
        return (e.pfn, e.writable, isHuge)
    }

    @inline(__always) private func probe(_ level: Level, _ tag: UInt64) -> Entry? {
        let base = level.base(tag)
        for i in base..<(base + level.ways) where level.entries[i].valid && level.entries[i].tag == tag {
            level.entries[i].lastUse = state.pointee.clock
            return level.entries[i]
        }
        return nil
    }

    private func fill(_ level: Level, _ e: Entry) {
        let base = level.base(e.tag)
        var victim = base
        for i in base..<(base + level.ways) {
            if !level.entries[i].valid || level.entries[i].tag == e.tag { victim = i; break }
            if level.entries[i].lastUse < level.entries[victim].lastUse { victim = i }
        }
        level.entries[victim] = e
    }

    /// Installs a translation found by a page walk, in both levels.
    func insert(asid: Int, va: UInt64, pfn: Int, writable: Bool, huge: Bool) {
        state.pointee.clock &+= 1
        let e = Entry(tag: Self.tag(asid: asid, va: va, huge: huge), pfn: pfn, writable: writable, valid: true, lastUse: state.pointee.clock)
        fill(l2, e)
        fill(l1, e)
    }

    /// `invlpg`: drops one page's translation (4 KiB or the 2 MiB one covering it).
    func invalidate(asid: Int, va: UInt64) {
        counters.singleInvalidations &+= 1
        for t in [Self.tag(asid: asid, va: va, huge: false), Self.tag(asid: asid, va: va, huge: true)] {
            Self.drop(l1, t)
            Self.drop(l2, t)
        }
    }

    /// Only the set the tag maps to can hold it.
    private static func drop(_ level: Level, _ tag: UInt64) {
        let base = level.base(tag)
        for i in base..<(base + level.ways) where level.entries[i].valid && level.entries[i].tag == tag { level.entries[i].valid = false }
    }

    private static func has(_ level: Level, _ tag: UInt64) -> Bool {
        let base = level.base(tag)
        return (base..<(base + level.ways)).contains { level.entries[$0].valid && level.entries[$0].tag == tag }
    }

    /// Flushes every translation of `asid` (nil: everything), as a CR3 write or INVPCID does.
    /// `counted`: false for the model's own bookkeeping (a CPU leaving the run drops its
    /// translations), which is no flush a kernel would do and must not show in the figures.
    func flush(asid: Int?, counted: Bool = true) {
        if counted { counters.fullFlushes &+= 1 }
        for level in [l1, l2] {
            for i in 0..<level.count where asid == nil || level.entries[i].tag >> 40 == UInt64(asid!) { level.entries[i].valid = false }
        }
    }

    /// True when any translation of `asid` for `va` is still cached (coherence checks).
    func holds(asid: Int, va: UInt64) -> Bool {
        for huge in [false, true] {
            let t = Self.tag(asid: asid, va: va, huge: huge)
            if Self.has(l1, t) || Self.has(l2, t) { return true }
        }
        return false
    }

    public func resetCounters() { state.pointee.counters = Counters() }
}
