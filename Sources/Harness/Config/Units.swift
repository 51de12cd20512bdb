/// Sizes and durations as people write them in configs: `256MiB`, `64 KiB`, `4096`, `1.5s`,
/// `100ms`. Arithmetic is exact (decimal digits times an integer unit), so `1.5KiB` is 1536
/// bytes and `0.1KiB`, which is no whole number of bytes, is an error rather than a rounding.
public enum Units {
    /// Binary multiples only: memory is sized in pages, and `K`/`M`/`G` mean KiB/MiB/GiB as they
    /// do on the kernel command line (`mem=512M`).
    public static let sizeUnits: [(name: String, bytes: Int)] = [
        ("B", 1), ("KiB", 1 << 10), ("K", 1 << 10), ("MiB", 1 << 20), ("M", 1 << 20),
        ("GiB", 1 << 30), ("G", 1 << 30), ("TiB", 1 << 40), ("T", 1 << 40),
    ]
    public static let durationUnits: [(name: String, ns: UInt64)] = [
        ("ns", 1), ("us", 1_000), ("µs", 1_000), ("ms", 1_000_000), ("s", 1_000_000_000),
        ("m", 60_000_000_000), ("h", 3_600_000_000_000),
    ]
    static let sizeHint = "sizes are a number with B, KiB, MiB, GiB, TiB (K, M, G, T mean the same), or plain bytes"
    static let durationHint = "durations are a number with ns, us, ms, s, m or h, e.g. 5s or 100ms"

    /// Bytes in `text`; a plain integer is bytes.
    public static func size(_ text: String) throws(ConfigValueError) -> Int {
        let q = quoted(text)
        if text.trimmingWhitespace().hasPrefix("-") { throw ConfigValueError("size must not be negative, got \(q)") }
        guard let (digits, scale, unit) = split(text) else {
            throw ConfigValueError("expected a size like 256MiB, 64 KiB or 4096, got \(q)", hint: sizeHint)
        }
        guard let mult = unit.isEmpty ? 1 : sizeUnits.first(where: { $0.name == unit })?.bytes else {
            let decimal = ["KB", "kB", "MB", "GB", "TB", "kb", "mb", "gb"].contains(unit)
            throw ConfigValueError("unknown size unit \"\(unit)\" in \(q)",
                                   hint: decimal ? "sizes are binary: write KiB, MiB, GiB or K, M, G" : sizeHint)
        }
        switch exact(digits: digits, scale: scale, times: UInt64(mult)) {
        case .value(let bytes) where bytes <= UInt64(Int.max): return Int(bytes)
        case .value, .overflow: throw ConfigValueError("size \(q) is too large")
        case .fraction: throw ConfigValueError("size \(q) is not a whole number of bytes")
        }
    }

    /// Nanoseconds in `text`. A unit is required: a bare `5` could mean seconds or
    /// nanoseconds, a factor of 10^9 apart.
    public static func duration(_ text: String) throws(ConfigValueError) -> UInt64 {
        let q = quoted(text)
        if text.trimmingWhitespace().hasPrefix("-") { throw ConfigValueError("duration must not be negative, got \(q)") }
        guard let (digits, scale, unit) = split(text) else {
            throw ConfigValueError("expected a duration like 5s or 100ms, got \(q)", hint: durationHint)
        }
        guard !unit.isEmpty else { throw ConfigValueError("duration \(q) needs a unit", hint: durationHint) }
        guard let mult = durationUnits.first(where: { $0.name == unit })?.ns else {
            throw ConfigValueError("unknown duration unit \"\(unit)\" in \(q)", hint: durationHint)
        }
        switch exact(digits: digits, scale: scale, times: mult) {
        case .value(let ns): return ns
        case .overflow: throw ConfigValueError("duration \(q) is too long")
        case .fraction: throw ConfigValueError("duration \(q) is not a whole number of nanoseconds")
        }
    }

    /// `"1.50 KiB"` → (15, 1, "KiB"); nil when there is no unsigned decimal number up front.
    static func split(_ text: String) -> (digits: String, scale: Int, unit: String)? {
        let s = Substring(text.trimmingWhitespace())
        let number = s.prefix { $0.isASCII && ($0.isNumber || $0 == "." || $0 == "_") }
        let parts = number.split(separator: ".", omittingEmptySubsequences: false)
        guard !number.isEmpty, parts.count <= 2, parts.allSatisfy({ !$0.isEmpty }) else { return nil }
        // `1_000_000` reads better than `1000000`; YAML allows the same in integers.
        var frac = parts.count == 2 ? String(parts[1]).replacingAll("_") : ""
        while frac.hasSuffix("0") { frac.removeLast() }
        let digits = String(parts[0]).replacingAll("_") + frac
        guard !digits.isEmpty, digits.allSatisfy(\.isNumber) else { return nil }
        let unit = String(s.dropFirst(number.count)).trimmingWhitespace()
        return (digits, frac.count, unit)
    }

    enum Exact { case value(UInt64), fraction, overflow }

    /// digits × 10^-scale × mult, exactly.
    static func exact(digits: String, scale: Int, times mult: UInt64) -> Exact {
        guard scale <= 18 else { return .fraction }
        var n: UInt64 = 0
        for d in digits.utf8 {
            let (a, o1) = n.multipliedReportingOverflow(by: 10)
            let (b, o2) = a.addingReportingOverflow(UInt64(d - 48))
            if o1 || o2 { return .overflow }
            n = b
        }
        let (p, o) = n.multipliedReportingOverflow(by: mult)
        if o { return .overflow }
        var div: UInt64 = 1
        for _ in 0..<scale { div *= 10 }
        return p % div == 0 ? .value(p / div) : .fraction
    }

    static func quoted(_ s: String) -> String { "\"\(s)\"" }
}

extension String {
    /// Without leading and trailing spaces and tabs; most values have none, and come back as
    /// they are without a copy (this runs for every value of a config).
    func trimmingWhitespace() -> String {
        func blank(_ c: Character) -> Bool { c == " " || c == "\t" }
        guard let f = first, let l = last, blank(f) || blank(l) else { return self }
        var s = Substring(self)
        while let c = s.first, blank(c) { s.removeFirst() }
        while let c = s.last, blank(c) { s.removeLast() }
        return String(s)
    }
    fileprivate func replacingAll(_ c: Character) -> String { String(filter { $0 != c }) }
}

extension Units {
    /// `64 MiB`, `232 B`, `1.5 KiB`: the largest binary unit, one decimal at most.
    static func format(_ bytes: Int) -> String {
        for (name, unit) in [("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] where bytes >= unit {
            let whole = bytes % unit == 0
            return whole ? "\(bytes / unit) \(name)" : String(format: "%.1f %@", Double(bytes) / Double(unit), name)
        }
        return "\(bytes) B"
    }
}
