/// The `slub_debug=` boot option (mm/slub.c of Linux 6.12: `setup_slub_debug`,
/// `parse_slub_debug_flags`, `kmem_cache_flags`; `slab_debug=` is its newer spelling).
///
/// Blocks separated by `;`, each `<letters>[,<cache>,<cache>…]`: F consistency checks, Z red
/// zones, P poison, U user tracking, T trace, O "not where debugging would raise the minimum
/// slab order", `-` none. A block without a cache list sets the flags of every cache; a block
/// with one sets them for those caches instead (a name may end in `*` to match a prefix). An
/// empty string, or a block that starts with `,`, means F, Z, P and U. Where the kernel skips
/// an unknown letter with a message, the model refuses the option; A (failslab fault
/// injection) is not modelled and is refused too.
public struct SlubDebugOptions: Sendable, Equatable {
    public struct Block: Sendable, Equatable {
        public var flags: SlabFlags
        /// Caches this block applies to; nil for the global block.
        public var caches: [String]?
    }

    /// Flags for caches no block names (`slub_debug`).
    public var global: SlabFlags
    /// Blocks with cache lists, in order (`slub_debug_string`).
    public var blocks: [Block]
    /// `O`: `disable_higher_order_debug`.
    public var disableHigherOrder: Bool

    public static let off = SlubDebugOptions(global: [], blocks: [], disableHigherOrder: false)
    /// A bare `slub_debug`: full debugging of every cache.
    public static let full = SlubDebugOptions(global: .debugDefault, blocks: [], disableHigherOrder: false)

    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public let message: String
        /// Offset of the offending character in the option string.
        public let offset: Int
        public var description: String { message }
    }

    /// Parses the text after `slub_debug=`.
    public static func parse(_ text: String) throws -> SlubDebugOptions {
        let chars = Array(text)
        if chars.isEmpty { return .full }
        var global: SlabFlags = []
        var globalChanged = false
        var blocks: [Block] = []
        var higher = false
        var i = 0
        while i < chars.count {
            while i < chars.count && chars[i] == ";" { i += 1 }
            guard i < chars.count else { break }
            var flags: SlabFlags = []
            if chars[i] == "," {
                flags = .debugDefault
            } else {
                while i < chars.count && chars[i] != "," && chars[i] != ";" {
                    switch chars[i].lowercased() {
                    case "-": flags = []
                    case "f": flags.insert(.consistencyChecks)
                    case "z": flags.insert(.redZone)
                    case "p": flags.insert(.poison)
                    case "u": flags.insert(.storeUser)
                    case "t": flags.insert(.trace)
                    case "o": higher = true
                    case "a":
                        throw ParseError(message: "slub_debug option 'A' (failslab fault injection) is not modelled", offset: i)
                    default:
                        throw ParseError(message: "slub_debug option '\(chars[i])' unknown", offset: i)
                    }
                    i += 1
                }
            }
            if i < chars.count && chars[i] == "," {
                i += 1
                var names: [String] = []
                var cur = ""
                while i < chars.count && chars[i] != ";" {
                    if chars[i] == "," { if !cur.isEmpty { names.append(cur) }; cur = "" } else { cur.append(chars[i]) }
                    i += 1
                }
                if !cur.isEmpty { names.append(cur) }
                blocks.append(Block(flags: flags, caches: names))
            } else {
                global = flags
                globalChanged = true
            }
        }
        // A list of caches alone leaves every other cache as it was (no debugging).
        if !globalChanged { global = [] }
        return SlubDebugOptions(global: global, blocks: blocks, disableHigherOrder: higher)
    }

    /// `kmem_cache_flags()` for the cache `name`: the flags of the first block whose list names
    /// it, else the global flags; with O, dropped again where the metadata would raise the
    /// order a single object needs (`do_kmem_cache_create`).
    public func flags(for name: String, size: Int, align: Int, base: SlabFlags, hasCtor: Bool, cpus: Int) -> SlabFlags {
        var flags = base.union(global)
        search: for b in blocks {
            for item in b.caches ?? [] {
                let matches: Bool
                if let star = item.firstIndex(of: "*") { matches = name.hasPrefix(item[..<star]) } else { matches = name == item }
                if matches { flags = base.union(b.flags); break search }
            }
        }
        if disableHigherOrder && !flags.intersection(.debugMetadata).isEmpty,
           let layout = try? SlabLayout(size: size, align: align, flags: flags, hasCtor: hasCtor, cpus: cpus),
           Self.pageOrder(layout.size) > Self.pageOrder(size) {
            flags.subtract(.debugMetadata)
        }
        return flags
    }

    /// `get_order()`: the smallest order whose block holds `bytes`.
    static func pageOrder(_ bytes: Int) -> Int {
        var order = 0
        while PAGE_SIZE << order < bytes { order += 1 }
        return order
    }
}
