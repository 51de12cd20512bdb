import Foundation
import KernelMM

/// Parses one line of ftrace's text output (`trace_pipe`, the format of
/// kernel/trace/trace_output.c) into a `TraceEvent`, working on the line's bytes with no string
/// made on the way, because a replay reads millions of them:
///
///     <comm>-<pid> [<cpu>] <irq flags> <secs>.<usecs>: <event>: key=value key=value …
///
/// The irq-flags column is optional (the `irq-info` option) and a `(tgid)` column may follow
/// the pid (`record-tgid`). Fields are found by name, so the field sets of other kernel
/// versions (`accounted=` is new, `call_site=` printed differently) do not matter; a field a
/// kind needs and does not have makes the line malformed.
struct TraceLineParser {
    enum Outcome {
        case event(TraceEvent)
        /// An event this replay has no use for (not one of the kmem events).
        case foreign
        case malformed(String)
    }

    var gfp = TraceGFP()
    /// Cache names of `name=` fields, by `TraceEvent.nameID`.
    private(set) var names: [String] = []
    private var nameIndex: [UInt64: Int32] = [:]

    mutating func parse(_ line: UnsafeBufferPointer<UInt8>, number: Int32) -> Outcome {
        let n = line.count
        // "<comm>-<pid> [": the first " [" followed by a digit. A comm may hold spaces and
        // dashes, so the pid is the digits after the last '-' before it.
        var i = 0
        var open = -1
        while i + 2 < n {
            // memchr to each '[': comms are padded with spaces, a byte loop would walk them all.
            i = Self.find(line, 0x5B, from: i + 1)
            if i + 1 >= n { break }
            if line[i - 1] == 0x20 && Self.isDigit(line[i + 1]) { open = i; break }
        }
        guard open > 0 else { return .malformed("no [cpu] column") }
        var end = open - 1
        while end > 0 && line[end - 1] == 0x20 { end -= 1 }
        if end > 0 && line[end - 1] == 0x29 {   // "(tgid)" column: skip it
            while end > 0 && line[end - 1] != 0x28 { end -= 1 }
            end -= 1
            while end > 0 && line[end - 1] == 0x20 { end -= 1 }
        }
        var dash = end - 1
        while dash >= 0 && line[dash] != 0x2D { dash -= 1 }
        var pid: Int64 = 0
        if dash >= 0 {
            guard let p = Self.decimal(line, dash + 1, end) else { return .malformed("bad pid") }
            pid = p
        }
        var j = open + 1
        let cpuStart = j
        while j < n && Self.isDigit(line[j]) { j += 1 }
        guard j < n, line[j] == 0x5D, let cpu = Self.decimal(line, cpuStart, j) else { return .malformed("bad [cpu] column") }
        j += 1
        // Next tokens: optional flags, then "<secs>.<frac>:".
        var time: UInt64? = nil
        for _ in 0..<2 {
            while j < n && line[j] == 0x20 { j += 1 }
            let start = j
            while j < n && line[j] != 0x20 { j += 1 }
            if let t = Self.timestamp(line, start, j) { time = t; break }
        }
        guard let timeNS = time else { return .malformed("no timestamp") }
        while j < n && line[j] == 0x20 { j += 1 }
        let nameStart = j
        while j < n && line[j] != 0x3A { j += 1 }
        guard j < n else { return .malformed("no event name") }
        let kind = Self.kind(line, nameStart, j)
        guard let kind else { return .foreign }
        j += 1
        var e = TraceEvent(kind: kind, cpu: Int32(cpu), pid: Int32(truncatingIfNeeded: pid), timeNS: timeNS, line: number)
        var have: UInt32 = 0
        while j < n {
            while j < n && line[j] == 0x20 { j += 1 }
            let keyStart = j
            while j < n && line[j] != 0x3D && line[j] != 0x20 { j += 1 }
            // A word without '=' belongs to the value before it: a symbol's module
            // ("call_site=p9_client_clunk+0x49/0x70 [9pnet]"). Skip it.
            guard j < n, line[j] == 0x3D else { continue }
            let keyEnd = j
            j += 1
            let valueStart = j
            j = Self.find(line, 0x20, from: j)   // values run to the next space (call_site is long)
            guard let field = Self.field(line, keyStart, keyEnd) else { continue }
            let value = UnsafeBufferPointer(rebasing: line[valueStart..<j])
            switch field {
            case .ptr, .pfn:
                guard let v = Self.hex(value) else { return .malformed("bad \(field) value") }
                e.address = v
            case .bytesReq, .bytesAlloc, .order, .node:
                guard let v = Self.signed(value) else { return .malformed("bad \(field) value") }
                switch field {
                case .bytesReq: e.bytesReq = Int32(clamping: v)
                case .bytesAlloc: e.bytesAlloc = Int32(clamping: v)
                case .order: e.order = Int32(clamping: v)
                default: e.node = Int32(clamping: v)
                }
            case .gfp: e.gfp = gfp.parse(value)
            case .name: e.nameID = intern(value)
            }
            have |= 1 << field.rawValue
        }
        let needed = Self.needs(kind)
        if have & needed != needed { return .malformed("\(kind.eventName) without \(Self.missing(needed & ~have))") }
        return .event(e)
    }

    /// The interned name of a `name=` value.
    mutating func intern(_ b: UnsafeBufferPointer<UInt8>) -> Int32 {
        let h = ByteHash.fnv1a(b)
        if let id = nameIndex[h], names[Int(id)].utf8.elementsEqual(b) { return id }
        let id = Int32(names.count)
        names.append(String(decoding: b, as: UTF8.self))
        nameIndex[h] = id
        return id
    }

    // MARK: fields

    enum Field: UInt32, CustomStringConvertible {
        case ptr, pfn, bytesReq, bytesAlloc, order, node, gfp, name
        var description: String {
            switch self {
            case .ptr: return "ptr"
            case .pfn: return "pfn"
            case .bytesReq: return "bytes_req"
            case .bytesAlloc: return "bytes_alloc"
            case .order: return "order"
            case .node: return "node"
            case .gfp: return "gfp_flags"
            case .name: return "name"
            }
        }
    }

    /// The fields each kind must have, as bits of `Field` (plain constants: this runs per line).
    @inline(__always)
    static func needs(_ kind: TraceEvent.Kind) -> UInt32 {
        let ptr: UInt32 = 1 << Field.ptr.rawValue, pfn: UInt32 = 1 << Field.pfn.rawValue
        let bytesAlloc: UInt32 = 1 << Field.bytesAlloc.rawValue
        switch kind {
        case .kmalloc: return ptr | bytesAlloc
        case .kfree: return ptr
        case .cacheAlloc: return ptr | bytesAlloc   // name= only since 6.2
        case .cacheFree: return ptr
        case .pageAlloc, .pageFree, .zoneLocked, .pcpDrain: return pfn
        case .other: return 0
        }
    }

    static func missing(_ mask: UInt32) -> String {
        (0..<8).compactMap { mask & 1 << $0 != 0 ? Field(rawValue: UInt32($0))?.description : nil }.joined(separator: ", ")
    }

    /// The bytes `l[s..<e]` spell `text`.
    @inline(__always)
    static func equals(_ l: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int, _ text: StaticString) -> Bool {
        guard e - s == text.utf8CodeUnitCount else { return false }
        let p = text.utf8Start
        for k in 0..<(e - s) where l[s + k] != p[k] { return false }
        return true
    }

    @inline(__always)
    static func field(_ l: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) -> Field? {
        func eq(_ text: StaticString) -> Bool { equals(l, s, e, text) }
        switch e - s {
        case 3: return eq("ptr") ? .ptr : eq("pfn") ? .pfn : nil
        case 4: return eq("node") ? .node : eq("name") ? .name : nil
        case 5: return eq("order") ? .order : nil
        case 9: return eq("bytes_req") ? .bytesReq : eq("gfp_flags") ? .gfp : nil
        case 11: return eq("bytes_alloc") ? .bytesAlloc : nil
        default: return nil
        }
    }

    @inline(__always)
    static func kind(_ l: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) -> TraceEvent.Kind? {
        func eq(_ text: StaticString) -> Bool { equals(l, s, e, text) }
        switch e - s {
        case 5: return eq("kfree") ? .kfree : nil
        case 7: return eq("kmalloc") ? .kmalloc : nil
        case 12: return eq("mm_page_free") ? .pageFree : nil
        case 13: return eq("mm_page_alloc") ? .pageAlloc : nil
        case 15: return eq("kmem_cache_free") ? .cacheFree : nil
        case 16: return eq("kmem_cache_alloc") ? .cacheAlloc : nil
        case 18: return eq("mm_page_pcpu_drain") ? .pcpDrain : nil
        case 20: return eq("mm_page_free_batched") ? .pageFree : nil
        case 25: return eq("mm_page_alloc_zone_locked") ? .zoneLocked : nil
        default: return nil
        }
    }

    // MARK: numbers

    @inline(__always) static func isDigit(_ c: UInt8) -> Bool { c &- 0x30 < 10 }

    /// Index of the first `byte` at or after `from` (the line's length when there is none).
    @inline(__always)
    static func find(_ l: UnsafeBufferPointer<UInt8>, _ byte: UInt8, from: Int) -> Int {
        guard from < l.count, let base = l.baseAddress,
              let p = memchr(base + from, Int32(byte), l.count - from) else { return l.count }
        return base.distance(to: p.assumingMemoryBound(to: UInt8.self))
    }

    static func decimal(_ l: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) -> Int64? {
        guard e > s, e - s <= 18 else { return nil }
        var v: Int64 = 0
        for k in s..<e {
            let d = l[k] &- 0x30
            guard d < 10 else { return nil }
            v = v * 10 + Int64(d)
        }
        return v
    }

    static func signed(_ b: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard let first = b.first else { return nil }
        if first == 0x2D { return decimal(b, 1, b.count).map { -$0 } }
        return decimal(b, 0, b.count)
    }

    /// `000000005c7eca90` (a %p hash) or `0x290559` (a pfn); `(null)` reads as 0.
    static func hex(_ b: UnsafeBufferPointer<UInt8>) -> UInt64? {
        var k = 0
        if b.count >= 2 && b[0] == 0x30 && (b[1] | 0x20) == 0x78 { k = 2 }
        if b.count == 6 && b[0] == 0x28 { return 0 }   // "(null)"
        guard b.count > k, b.count - k <= 16 else { return nil }
        var v: UInt64 = 0
        while k < b.count {
            let c = b[k]
            let d: UInt8
            if c &- 0x30 < 10 { d = c &- 0x30 } else if (c | 0x20) &- 0x61 < 6 { d = (c | 0x20) &- 0x61 &+ 10 } else { return nil }
            v = v << 4 | UInt64(d)
            k += 1
        }
        return v
    }

    /// `1185.412431:` → nanoseconds; nil when the token is not a timestamp.
    static func timestamp(_ l: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) -> UInt64? {
        guard e - s >= 4, l[e - 1] == 0x3A else { return nil }
        var dot = s
        while dot < e - 1 && l[dot] != 0x2E { dot += 1 }
        guard dot < e - 1, let secs = decimal(l, s, dot) else { return nil }
        let fracDigits = e - 1 - (dot + 1)
        guard fracDigits > 0, fracDigits <= 9, let frac = decimal(l, dot + 1, e - 1) else { return nil }
        var scale: Int64 = 1
        for _ in 0..<(9 - fracDigits) { scale *= 10 }
        return UInt64(secs) * 1_000_000_000 + UInt64(frac * scale)
    }
}
