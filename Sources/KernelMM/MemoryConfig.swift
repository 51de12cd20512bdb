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

    public init() {}

    public var normalBytes: Int { perNodeBytes - dmaBytes - dma32Bytes }

    /// Checks sizes before any arena is mapped.
    public func validate(nodes: Int) throws {
        func pagesOK(_ b: Int) -> Bool { b >= 0 && b % PAGE_SIZE == 0 }
        guard perNodeBytes > 0, pagesOK(perNodeBytes) else {
            throw MemoryConfigError("memory per node must be a positive multiple of 4 KiB, got \(perNodeBytes) bytes")
        }
        guard pagesOK(dmaBytes), pagesOK(dma32Bytes) else {
            throw MemoryConfigError("zone sizes must be multiples of 4 KiB")
        }
        guard normalBytes >= 0 else {
            throw MemoryConfigError("zones DMA (\(dmaBytes >> 20) MiB) + DMA32 (\(dma32Bytes >> 20) MiB) exceed memory per node (\(perNodeBytes >> 20) MiB)")
        }
        guard (1...20).contains(maxOrder) else { throw MemoryConfigError("max_order must be 1…20, got \(maxOrder)") }
        if let w = watermarks, !(0 <= w.min && w.min <= w.low && w.low <= w.high) {
            throw MemoryConfigError("watermarks must satisfy 0 <= min <= low <= high, got \(w.min)/\(w.low)/\(w.high)")
        }
        let total = perNodeBytes * nodes
        let available = HostMemory.availableBytes()
        if total > available {
            throw MemoryConfigError("\(nodes) node(s) x \(perNodeBytes >> 20) MiB = \(total >> 20) MiB is more than this host can give (\(available >> 20) MiB available)")
        }
    }
}

public struct MemoryConfigError: Error, Sendable, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
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
