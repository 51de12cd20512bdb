import Foundation
import KernelMM

/// Reads the `gfp_flags=` field of a kmem event: the `%pGg`-style names joined by `|` that
/// `__print_flags()` prints from include/trace/events/mmflags.h, "none" for 0, or a hex rest.
///
/// Unlike `GFP.parse` this never refuses a mask: a trace shows what a kernel really did, so a
/// name this model does not know (a newer kernel's `__GFP_NO_OBJ_EXT`) is dropped and noted,
/// and no validation runs. Whole masks are cached by their bytes: a trace repeats a few dozen
/// distinct masks, so almost every lookup is one hash and one compare.
struct TraceGFP {
    private var cache: [UInt64: (bytes: [UInt8], gfp: GFP)] = [:]
    private let byName: [String: GFP] = Dictionary(GFP.names.map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a })
    /// Flag names seen in the trace that the model does not have.
    private(set) var unknownNames: Set<String> = []

    mutating func parse(_ text: UnsafeBufferPointer<UInt8>) -> GFP {
        let h = ByteHash.fnv1a(text)
        if let hit = cache[h], hit.bytes.count == text.count,
           hit.bytes.withUnsafeBufferPointer({ memcmp($0.baseAddress!, text.baseAddress!, text.count) }) == 0 { return hit.gfp }
        let gfp = parseSlow(String(decoding: text, as: UTF8.self))
        cache[h] = (Array(text), gfp)
        return gfp
    }

    private mutating func parseSlow(_ s: String) -> GFP {
        if s == "none" || s.isEmpty { return GFP() }
        var gfp = GFP()
        for part in s.split(separator: "|") {
            let name = String(part)
            if let f = byName[name] { gfp.formUnion(f); continue }
            if name.hasPrefix("0x"), let v = UInt32(name.dropFirst(2), radix: 16) {
                // A rest the kernel could not name: keep only the bits the model knows.
                let known = GFP.names.reduce(GFP()) { $0.union($1.1) }
                gfp.formUnion(GFP(rawValue: v).intersection(known))
                continue
            }
            unknownNames.insert(name)
        }
        return gfp
    }
}

/// FNV-1a over bytes: the key of the small intern tables of the trace reader.
enum ByteHash {
    @inline(__always)
    static func fnv1a(_ b: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for x in b { h = (h ^ UInt64(x)) &* 0x100_0000_01b3 }
        return h
    }
}
