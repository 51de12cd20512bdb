import CNuma
import Foundation

/// Where the pages of a range of memory really are, asked of the kernel page by page with
/// `move_pages(2)` in query mode (a NULL node list moves nothing and returns each page's node),
/// the per-page form of what `/proc/PID/numa_maps` sums up as `N0=… N1=…`. `mbind` states an
/// intent; this is what the kernel did with it.
public struct PagePlacement: Sendable, Codable, Equatable {
    /// Pages asked about (all of the range, or an even sample of it when it is very large).
    public var pagesChecked: Int
    /// Page size in bytes, to turn counts into sizes.
    public var pageBytes: Int
    /// Host node (OS number) → pages found there.
    public var pagesOnNode: [Int: Int]
    /// Pages with no node: not present (never touched, or swapped out) or refused.
    public var pagesUnplaced: Int

    /// At most this many pages are asked about; a larger range is sampled at an even stride, so
    /// a check of many GiB stays a few milliseconds.
    public static let maxPages = 1 << 18

    /// Queries the pages of `[base, base + bytes)`; nil when the kernel has no NUMA support.
    public static func query(base: UnsafeMutableRawPointer, bytes: Int) -> PagePlacement? {
        guard numa_available() >= 0 else { return nil }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let total = max(bytes / page, 0)
        let stride = max(1, (total + maxPages - 1) / maxPages)
        let indexes = Array(Swift.stride(from: 0, to: total, by: stride))
        var result = PagePlacement(pagesChecked: indexes.count, pageBytes: page, pagesOnNode: [:], pagesUnplaced: 0)
        let batch = 1024
        var pages = [UnsafeMutableRawPointer?](repeating: nil, count: batch)
        var status = [Int32](repeating: -1, count: batch)
        var start = 0
        while start < indexes.count {
            let n = min(batch, indexes.count - start)
            for k in 0..<n { pages[k] = base + indexes[start + k] * page; status[k] = -1 }
            let r = pages.withUnsafeMutableBufferPointer { p in
                status.withUnsafeMutableBufferPointer { s in numa_move_pages(0, UInt(n), p.baseAddress, nil, s.baseAddress, 0) }
            }
            if r != 0 { return nil }
            for k in 0..<n {
                // A negative status is -errno: -ENOENT for a page not present, -EFAULT and so on.
                if status[k] >= 0 { result.pagesOnNode[Int(status[k]), default: 0] += 1 } else { result.pagesUnplaced += 1 }
            }
            start += n
        }
        return result
    }

    /// Bytes the sample stands for on `node` (scaled up when the range was sampled).
    public func bytes(onNode node: Int, rangeBytes: Int) -> Int {
        guard pagesChecked > 0 else { return 0 }
        return Int((Double(pagesOnNode[node] ?? 0) / Double(pagesChecked) * Double(rangeBytes)).rounded())
    }
}

/// The check of one modelled node's arena: bound to host node `hostNode`, are its pages there?
/// Carried in results as written, so that a reader sees "64 MiB verified on host node 1" or the
/// mismatch, and never has to trust the binding on faith.
public struct NodeBindingCheck: Sendable, Codable, Equatable {
    /// The model node, by OS number (as configs and numactl name it).
    public var node: Int
    /// Host node the arena was bound to (`mbind(MPOL_BIND)`).
    public var hostNode: Int
    public var arenaBytes: Int
    /// Bytes found on `hostNode`.
    public var verifiedBytes: Int
    /// Bytes found on other host nodes, by host node (OS number, as text for JSON keys).
    public var elsewhereBytes: [String: Int]
    /// Bytes with no page behind them yet.
    public var unplacedBytes: Int
    /// True when every page checked is on `hostNode`.
    public var verified: Bool
    /// True when the pages checked were a sample of the arena, not all of it.
    public var sampled: Bool

    public init(node: Int, hostNode: Int, arenaBytes: Int, placement: PagePlacement) {
        self.node = node
        self.hostNode = hostNode
        self.arenaBytes = arenaBytes
        verifiedBytes = placement.bytes(onNode: hostNode, rangeBytes: arenaBytes)
        var elsewhere: [String: Int] = [:]
        for (n, _) in placement.pagesOnNode where n != hostNode { elsewhere[String(n)] = placement.bytes(onNode: n, rangeBytes: arenaBytes) }
        elsewhereBytes = elsewhere
        unplacedBytes = placement.pagesChecked == 0 ? arenaBytes
            : Int((Double(placement.pagesUnplaced) / Double(placement.pagesChecked) * Double(arenaBytes)).rounded())
        verified = placement.pagesChecked > 0 && (placement.pagesOnNode[hostNode] ?? 0) == placement.pagesChecked
        sampled = placement.pagesChecked < arenaBytes / max(placement.pageBytes, 1)
    }

    /// "node 1: 64 MiB verified on host node 1", or a WARNING line naming where pages went.
    public var line: String {
        func mib(_ b: Int) -> String { b % (1 << 20) == 0 ? "\(b >> 20) MiB" : String(format: "%.1f MiB", Double(b) / Double(1 << 20)) }
        let how = sampled ? " (sampled)" : ""
        if verified { return "node \(node): \(mib(verifiedBytes)) verified on host node \(hostNode)\(how)" }
        var parts = ["\(mib(verifiedBytes)) on host node \(hostNode)"]
        parts += elsewhereBytes.sorted { Int($0.key)! < Int($1.key)! }.map { "\(mib($0.value)) on host node \($0.key)" }
        if unplacedBytes > 0 { parts.append("\(mib(unplacedBytes)) not present") }
        return "WARNING: node \(node) is bound to host node \(hostNode) but its pages are: " + parts.joined(separator: ", ")
            + how + "; measured figures for it are not trustworthy"
    }
}
