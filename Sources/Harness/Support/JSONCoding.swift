import Foundation

/// The one way every machine-readable output is written and read back: snake_case keys,
/// sorted and pretty-printed, non-finite numbers as strings. One naming scheme across
/// result.json, contrast.json, bench and topology JSON, and the CSV headers (which use the same
/// spelling by hand).
///
/// Foundation's `convertToSnakeCase` splits acronym plurals (`hostPUs` becomes `host_p_us`) and
/// `convertFromSnakeCase` cannot give `p99NS` back from `p99_ns`, so both directions are ours:
/// the acronyms the code spells in capitals are known words, so the mapping round-trips
/// (`JSONCodingTests` checks it over every field a result has).
public enum JSONCoding {
    /// Words the Swift names spell in capitals (`maxWaitNS`, `perCPU`, `hostPUs`, `nodeOS`).
    static let acronyms: Set<String> = [
        "ns", "cpu", "pu", "id", "gfp", "os", "pfn", "kb", "va", "asid", "ipi", "dma", "fd",
        "tlb", "pcp", "numa", "oom", "thp", "cas", "lru", "hmat", "slit",
    ]

    public static func encoder() -> JSONEncoder {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        enc.keyEncodingStrategy = .custom { path in Key(snake(path.last!.stringValue)) }
        return enc
    }

    public static func decoder() -> JSONDecoder {
        let dec = JSONDecoder()
        dec.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        dec.keyDecodingStrategy = .custom { path in Key(camel(path.last!.stringValue)) }
        return dec
    }

    /// The JSON text of `value`, ending in a newline.
    public static func string<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try encoder().encode(value), as: UTF8.self) + "\n"
    }

    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        try decoder().decode(type, from: data)
    }

    /// `maxWaitNS` → `max_wait_ns`, `hostPUs` → `host_pus`, `toCPUPartial` → `to_cpu_partial`.
    public static func snake(_ name: String) -> String {
        guard let intValue = Int(name) else { return words(name).map { $0.lowercased() }.joined(separator: "_") }
        return String(intValue)
    }

    /// The inverse of `snake` for names written by it.
    public static func camel(_ key: String) -> String {
        let parts = key.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count > 1, let first = parts.first else { return key }
        var out = String(first)
        for p in parts.dropFirst() {
            let w = String(p)
            if acronyms.contains(w) {
                out += w.uppercased()
            } else if w.hasSuffix("s"), acronyms.contains(String(w.dropLast())) {
                out += w.dropLast().uppercased() + "s"
            } else {
                out += w.prefix(1).uppercased() + w.dropFirst()
            }
        }
        return out
    }

    /// Splits a camelCase name into words; a capital run is one word (an acronym), with a
    /// plural `s` when one ends the name or precedes the next capital.
    static func words(_ name: String) -> [String] {
        let c = Array(name)
        var words: [String] = []
        var cur = ""
        var i = 0
        func isUpper(_ ch: Character) -> Bool { ch.isUppercase }
        while i < c.count {
            let ch = c[i]
            let runOfCapitals = cur.count >= 2 && cur.allSatisfy(isUpper)
            if isUpper(ch) {
                if !cur.isEmpty && !cur.allSatisfy(isUpper) { words.append(cur); cur = "" }
                cur.append(ch)
            } else if runOfCapitals && ch == "s" && (i + 1 == c.count || isUpper(c[i + 1])) {
                cur.append(ch)          // CPUs, PUs, IPIs
                words.append(cur); cur = ""
            } else if runOfCapitals && ch.isLowercase {
                let last = cur.removeLast()   // CPUPartial: "CPU" + "Partial"
                words.append(cur)
                cur = String(last) + String(ch)
            } else {
                cur.append(ch)
            }
            i += 1
        }
        if !cur.isEmpty { words.append(cur) }
        return words
    }

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { Int(stringValue) }
        init(_ s: String) { stringValue = s }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { stringValue = String(intValue) }
    }
}
