/// How the modelled physical memory is laid out and behaves: per-node size, zone sizes, lock
/// policy, buddy depth, PCP sizing, watermark override and how long blocking allocations wait.
public struct MemoryConfig: Sendable, Equatable {
    /// Bytes of memory per modelled node (all zones together).
    public var perNodeBytes: Int = 64 << 20
    /// ZONE_DMA and ZONE_DMA32 sizes per node; ZONE_NORMAL takes the rest. 0 leaves a zone empty.
    public var dmaBytes: Int = 4 << 20
    public var dma32Bytes: Int = 12 << 20
    /// MAX_ORDER: largest block is 2^maxOrder pages (10 = 4 MiB, as on x86-64).
    public var maxOrder: Int = 10
    public var zoneLock: LockPolicy = .spin
    /// Touch every arena page at boot, so first-touch faults stay out of measurements.
    public var prefault: Bool = true
    /// Replaces the computed watermarks of every zone (pages).
    public var watermarks: Watermarks? = nil
    /// Replaces `zone_batchsize()` / high for every zone.
    public var pcpBatch: Int? = nil
    public var pcpHigh: Int? = nil
    /// How long a blocking allocation waits for frees before it counts as an OOM failure.
    public var oomWaitNS: UInt64 = 1_000_000_000
    /// Start a kswapd thread per node.
    public var kswapd: Bool = true
    /// Compaction (CONFIG_COMPACTION, on in every distribution kernel): direct compaction in
    /// the allocation slow path and kcompactd. Off, high-order allocations get only what
    /// reclaim and frees leave contiguous.
    public var compaction: Bool = true

    public init() {}

    /// ZONE_NORMAL's share; meaningful once `validate` has passed (no overflow then).
    public var normalBytes: Int { perNodeBytes - dmaBytes - dma32Bytes }

    /// Checks sizes before any arena is mapped. Every product and sum is checked for overflow:
    /// a config can ask for sizes near `Int.max`, and a trap is no answer to a typo.
    public func validate(nodes: Int) throws(MemoryConfigError) {
        func pagesOK(_ b: Int) -> Bool { b >= 0 && b % PAGE_SIZE == 0 }
        guard perNodeBytes > 0, pagesOK(perNodeBytes) else {
            throw MemoryConfigError("memory per node must be a positive multiple of 4 KiB, got \(perNodeBytes) bytes", field: .perNode)
        }
        guard pagesOK(dmaBytes) else { throw MemoryConfigError("zone sizes must be multiples of 4 KiB", field: .dma) }
        guard pagesOK(dma32Bytes) else { throw MemoryConfigError("zone sizes must be multiples of 4 KiB", field: .dma32) }
        let (zones, over) = dmaBytes.addingReportingOverflow(dma32Bytes)
        guard !over, zones <= perNodeBytes else {
            throw MemoryConfigError("zones DMA (\(dmaBytes >> 20) MiB) + DMA32 (\(dma32Bytes >> 20) MiB) exceed memory per node (\(perNodeBytes >> 20) MiB)", field: .zones)
        }
        guard (1...20).contains(maxOrder) else { throw MemoryConfigError("max_order must be 1…20, got \(maxOrder)", field: .maxOrder) }
        // No zone has more pages than its node: a watermark or PCP size above that can never
        // be met, and these figures are added and multiplied on the allocation path.
        let pages = perNodeBytes / PAGE_SIZE
        if let w = watermarks, !(0 <= w.min && w.min <= w.low && w.low <= w.high && w.high <= pages) {
            throw MemoryConfigError("watermarks must satisfy 0 <= min <= low <= high <= \(pages) (the node's pages), got \(w.min)/\(w.low)/\(w.high)", field: .watermarks)
        }
        if let b = pcpBatch, !(1...pages).contains(b) {
            throw MemoryConfigError("pcp batch must be 1…\(pages) (the node's pages), got \(b)", field: .pcpBatch)
        }
        if let h = pcpHigh, !(1...pages).contains(h) {
            throw MemoryConfigError("pcp high must be 1…\(pages) (the node's pages), got \(h)", field: .pcpHigh)
        }
        let available = HostMemory.availableBytes()
        let (total, tooMany) = perNodeBytes.multipliedReportingOverflow(by: max(nodes, 1))
        if tooMany || total > available {
            let asked = "\(nodes) node(s) x \(perNodeBytes >> 20) MiB" + (tooMany ? "" : " = \(total >> 20) MiB")
            throw MemoryConfigError("\(asked) is more than this host can give (\(available >> 20) MiB available)", field: .host)
        }
        // Last: the watermark arithmetic needs the sizes bounded by the checks above.
        try checkBootPages(1, nodes: nodes)
    }
}

extension MemoryConfig {
    /// Order-0 GFP_KERNEL pages the whole machine can give before every zone's min watermark and
    /// lowmem reserve stop it (`__zone_watermark_ok`: free must stay above min + reserve). At
    /// boot nothing is allocated and nothing can be reclaimed, so this is all there is.
    public func pagesAboveWatermarks(nodes: Int) -> Int {
        let sizes = [dmaBytes, dma32Bytes, normalBytes].map { $0 / PAGE_SIZE }
        let total = sizes.reduce(0, +) * nodes
        let perNode = ZoneType.allCases.reduce(0) { sum, type in
            let pages = sizes[type.rawValue]
            let mark = watermarks ?? Watermarks.computed(zonePages: pages, totalPages: total)
            let reserve = Kernel.lowmemReserve(of: type, sizes: sizes)[ZoneType.normal.rawValue]
            return sum + Swift.max(0, pages - mark.min - reserve)
        }
        return perNode * nodes
    }

    /// Refuses memory that cannot give `pages` page-table pages at boot (the kernel's own root,
    /// and one per address space): the run would fail to start.
    public func checkBootPages(_ pages: Int, nodes: Int) throws(MemoryConfigError) {
        let have = pagesAboveWatermarks(nodes: nodes)
        guard have < pages else { return }
        throw MemoryConfigError("\(nodes) node(s) x \(perNodeBytes >> 10) KiB leave \(have) page(s) above the zones' min watermarks; starting needs \(pages) for page tables",
                                field: .boot)
    }
}

public struct MemoryConfigError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The setting a refusal is about, so that a config loader can point at it.
    public enum Field: Sendable, Equatable { case perNode, dma, dma32, zones, maxOrder, watermarks, pcpBatch, pcpHigh, boot, host }
    public let message: String
    public let field: Field?
    public init(_ message: String, field: Field? = nil) { self.message = message; self.field = field }
    public var description: String { message }
}

import Foundation

/// What the host can give: MemAvailable from /proc/meminfo (falls back to sysconf).
public enum HostMemory {
    public static func availableBytes() -> Int {
        if let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) {
            for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
                let kb = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
                return kb * 1024
            }
        }
        return Int(sysconf(Int32(_SC_AVPHYS_PAGES))) * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
