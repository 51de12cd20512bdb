import Foundation
import KernelMM

/// The kernel's text views captured at the end of the measured phase, written beside
/// result.json under the paths a Linux user knows: `proc/{buddyinfo,zoneinfo,slabinfo}` and
/// `sys/devices/system/node/nodeN/numastat`, and for SLAB_STORE_USER caches
/// `sys/kernel/debug/slab/<cache>/{alloc,free}_traces`, so `cat` and existing parsers apply.
public struct ProcViews: Codable, Sendable {
    public var buddyinfo: String
    public var zoneinfo: String
    public var slabinfo: String
    /// `nodeN/numastat` of each modelled node, in the model's node order.
    public var numastat: [String] = []
    /// The OS number of each node (the N of `nodeN`, as sysfs and numactl name nodes).
    public var nodeOSIndexes: [Int] = []
    /// `alloc_traces` and `free_traces` of each SLAB_STORE_USER cache, by cache name.
    public var slabTraces: [String: [String]]? = nil

    public init(buddyinfo: String, zoneinfo: String, slabinfo: String, numastat: [String] = [], nodeOSIndexes: [Int] = []) {
        self.buddyinfo = buddyinfo
        self.zoneinfo = zoneinfo
        self.slabinfo = slabinfo
        self.numastat = numastat
        self.nodeOSIndexes = nodeOSIndexes
    }

    /// Every view of `kernel` and `slab` now.
    public static func capture(_ kernel: Kernel, _ slab: SlabAllocator) -> ProcViews {
        ProcViews(buddyinfo: kernel.buddyinfo(), zoneinfo: kernel.zoneinfo(), slabinfo: slab.slabinfo(),
                  numastat: kernel.nodes.indices.map { kernel.numastat(node: $0).text },
                  nodeOSIndexes: kernel.machine.nodeOSIndexes)
            .with(slabTraces: slab.allCaches.filter { $0.flags.contains(.storeUser) })
    }

    func with(slabTraces caches: [KmemCache]) -> ProcViews {
        var v = self
        if !caches.isEmpty {
            v.slabTraces = Dictionary(uniqueKeysWithValues: caches.map { ($0.name, [$0.tracesText(alloc: true), $0.tracesText(alloc: false)]) })
        }
        return v
    }

    /// Writes the views into a run's folder.
    func write(into dir: URL) throws {
        let proc = dir.appendingPathComponent("proc")
        try FileManager.default.createDirectory(at: proc, withIntermediateDirectories: true)
        try ResultWriter.atomic(proc, "buddyinfo", buddyinfo)
        try ResultWriter.atomic(proc, "zoneinfo", zoneinfo)
        try ResultWriter.atomic(proc, "slabinfo", slabinfo)
        for (n, text) in numastat.enumerated() {
            let os = nodeOSIndexes.indices.contains(n) ? nodeOSIndexes[n] : n
            let node = dir.appendingPathComponent("sys/devices/system/node/node\(os)")
            try FileManager.default.createDirectory(at: node, withIntermediateDirectories: true)
            try ResultWriter.atomic(node, "numastat", text)
        }
        for (name, files) in slabTraces ?? [:] where files.count == 2 {
            let d = dir.appendingPathComponent("sys/kernel/debug/slab/\(name)")
            try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
            try ResultWriter.atomic(d, "alloc_traces", files[0])
            try ResultWriter.atomic(d, "free_traces", files[1])
        }
    }
}
