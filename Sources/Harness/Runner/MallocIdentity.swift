import Foundation

/// Which malloc this process runs on: a preloaded allocator shows up as a mapped library in
/// /proc/self/maps; without one it is glibc's ptmalloc. Recorded in every result so that an
/// `allocator: malloc` figure says whose malloc it measured.
public enum MallocIdentity {
    /// Library name stems of the peers `compare-allocators` preloads, with their short names.
    public static let known: [(stem: String, name: String)] = [
        ("libjemalloc", "jemalloc"), ("libtcmalloc", "tcmalloc"), ("libmimalloc", "mimalloc"),
    ]

    public static func current() -> String {
        // /proc files report size 0, so read to the end rather than by the file's size.
        guard let h = FileHandle(forReadingAtPath: "/proc/self/maps") else { return "unknown" }
        defer { try? h.close() }
        return identify(maps: String(decoding: h.readDataToEndOfFile(), as: UTF8.self))
    }

    /// The first known allocator library mapped (`jemalloc (libjemalloc.so.2)`), else `glibc`.
    public static func identify(maps: String) -> String {
        for line in maps.split(separator: "\n") {
            guard let path = line.split(separator: " ", omittingEmptySubsequences: true).last, path.hasPrefix("/") else { continue }
            let file = path.split(separator: "/").last.map(String.init) ?? ""
            if let k = known.first(where: { file.hasPrefix($0.stem) }) { return "\(k.name) (\(file))" }
        }
        return "glibc"
    }
}
