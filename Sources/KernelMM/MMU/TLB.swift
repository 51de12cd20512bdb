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

    struct Level {
        let sets: Int
        let ways: Int
        var entries: [Entry]
        init(entries: Int, ways: Int) {
            self.ways = max(1, min(ways, entries))
            sets = max(1, entries / self.ways)
            self.entries = Array(repeating: Entry(), count: sets * self.ways)
        }
    }

    public let geometry: Geometry
    var l1: Level
    var l2: Level
    var clock: UInt64 = 0
    public internal(set) var counters = Counters()

    public init(geometry: Geometry = Geometry()) {
        self.geometry = geometry
        l1 = Level(entries: geometry.l1Entries, ways: geometry.l1Ways)
        l2 = Level(entries: geometry.l2Entries, ways: geometry.l2Ways)
    }

    static func tag(asid: Int, va: UInt64, huge: Bool) -> UInt64 {
        UInt64(asid) << 40 | (huge ? 1 << 39 : 0) | (va >> (huge ? 21 : 12))
    }

    /// A translation, or nil on a miss in both levels. Counts hits; a miss is counted by the caller's walk.
    func lookup(asid: Int, va: UInt64) -> (pfn: Int, writable: Bool, huge: Bool)? {
        clock &+= 1
        for huge in [false, true] {
            let t = Self.tag(asid: asid, va: va, huge: huge)
            if let e = probe(&l1, t) { counters.l1Hits &+= 1; return (e.pfn, e.writable, huge) }
        }
        for huge in [false, true] {
            let t = Self.tag(asid: asid, va: va, huge: huge)
            if let e = probe(&l2, t) {
                counters.l2Hits &+= 1
                fill(&l1, Entry(tag: t, pfn: e.pfn, writable: e.writable, valid: true, lastUse: clock))
                return (e.pfn, e.writable, huge)
            }
        }
        counters.misses &+= 1
        return nil
    }

    private func probe(_ level: inout Level, _ tag: UInt64) -> Entry? {
        let base = Int(tag % UInt64(level.sets)) * level.ways
        for i in base..<(base + level.ways) where level.entries[i].valid && level.entries[i].tag == tag {
            level.entries[i].lastUse = clock
            return level.entries[i]
        }
        return nil
    }

    private func fill(_ level: inout Level, _ e: Entry) {
        let base = Int(e.tag % UInt64(level.sets)) * level.ways
        var victim = base
        for i in base..<(base + level.ways) {
            if !level.entries[i].valid || level.entries[i].tag == e.tag { victim = i; break }
            if level.entries[i].lastUse < level.entries[victim].lastUse { victim = i }
        }
        level.entries[victim] = e
    }

    /// Installs a translation found by a page walk, in both levels.
    func insert(asid: Int, va: UInt64, pfn: Int, writable: Bool, huge: Bool) {
        clock &+= 1
        let e = Entry(tag: Self.tag(asid: asid, va: va, huge: huge), pfn: pfn, writable: writable, valid: true, lastUse: clock)
        fill(&l2, e)
        fill(&l1, e)
    }

    /// `invlpg`: drops one page's translation (4 KiB or the 2 MiB one covering it).
    func invalidate(asid: Int, va: UInt64) {
        counters.singleInvalidations &+= 1
        for huge in [false, true] {
            let t = Self.tag(asid: asid, va: va, huge: huge)
            Self.drop(&l1, t)
            Self.drop(&l2, t)
        }
    }

    /// Only the set the tag maps to can hold it.
    private static func drop(_ level: inout Level, _ tag: UInt64) {
        let base = Int(tag % UInt64(level.sets)) * level.ways
        for i in base..<(base + level.ways) where level.entries[i].valid && level.entries[i].tag == tag { level.entries[i].valid = false }
    }

    private static func has(_ level: Level, _ tag: UInt64) -> Bool {
        let base = Int(tag % UInt64(level.sets)) * level.ways
        return (base..<(base + level.ways)).contains { level.entries[$0].valid && level.entries[$0].tag == tag }
    }

    /// Flushes every translation of `asid` (nil: everything), as a CR3 write or INVPCID does.
    func flush(asid: Int?) {
        counters.fullFlushes &+= 1
        for i in l1.entries.indices where asid == nil || l1.entries[i].tag >> 40 == UInt64(asid!) { l1.entries[i].valid = false }
        for i in l2.entries.indices where asid == nil || l2.entries[i].tag >> 40 == UInt64(asid!) { l2.entries[i].valid = false }
    }

    /// True when any translation of `asid` for `va` is still cached (coherence checks).
    func holds(asid: Int, va: UInt64) -> Bool {
        for huge in [false, true] {
            let t = Self.tag(asid: asid, va: va, huge: huge)
            if Self.has(l1, t) || Self.has(l2, t) { return true }
        }
        return false
    }

    public func resetCounters() { counters = Counters() }
}
