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
    /// `/proc/pagetypeinfo`, the fragmentation lines of `/proc/vmstat`, and debugfs
    /// `extfrag/{extfrag_index,unusable_index}` (empty in results written before they existed).
    public var pagetypeinfo: String = ""
    public var vmstat: String = ""
    public var extfragIndex: String = ""
    public var unusableIndex: String = ""

    public init(buddyinfo: String, zoneinfo: String, slabinfo: String, numastat: [String] = [], nodeOSIndexes: [Int] = []) {
        self.buddyinfo = buddyinfo
        self.zoneinfo = zoneinfo
        self.slabinfo = slabinfo
        self.numastat = numastat
        self.nodeOSIndexes = nodeOSIndexes
    }

    /// Every view of `kernel` and `slab` now.
    public static func capture(_ kernel: Kernel, _ slab: SlabAllocator) -> ProcViews {
        var v = ProcViews(buddyinfo: kernel.buddyinfo(), zoneinfo: kernel.zoneinfo(), slabinfo: slab.slabinfo(),
                          numastat: kernel.nodes.indices.map { kernel.numastat(node: $0).text },
                          nodeOSIndexes: kernel.machine.nodeOSIndexes)
            .with(slabTraces: slab.allCaches.filter { $0.flags.contains(.storeUser) })
        v.pagetypeinfo = kernel.pagetypeinfo()
        v.vmstat = kernel.fragmentationVMStat()
        v.extfragIndex = kernel.extfragIndex()
        v.unusableIndex = kernel.unusableIndex()
        return v
    }

    func with(slabTraces caches: [KmemCache]) -> ProcViews {
        var v = self
        if !caches.isEmpty {
            v.slabTraces = Dictionary(uniqueKeysWithValues: caches.map { ($0.name, [$0.tracesText(alloc: true), $0.tracesText(alloc: false)]) })
        }
        return v
    }

    private enum CodingKeys: String, CodingKey {
        case buddyinfo, zoneinfo, slabinfo, numastat, nodeOSIndexes, slabTraces, pagetypeinfo, vmstat, extfragIndex, unusableIndex
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        buddyinfo = try c.decode(String.self, forKey: .buddyinfo)
        zoneinfo = try c.decode(String.self, forKey: .zoneinfo)
        slabinfo = try c.decode(String.self, forKey: .slabinfo)
        numastat = try c.decodeIfPresent([String].self, forKey: .numastat) ?? []
        nodeOSIndexes = try c.decodeIfPresent([Int].self, forKey: .nodeOSIndexes) ?? []
        slabTraces = try c.decodeIfPresent([String: [String]].self, forKey: .slabTraces)
        pagetypeinfo = try c.decodeIfPresent(String.self, forKey: .pagetypeinfo) ?? ""
        vmstat = try c.decodeIfPresent(String.self, forKey: .vmstat) ?? ""
        extfragIndex = try c.decodeIfPresent(String.self, forKey: .extfragIndex) ?? ""
        unusableIndex = try c.decodeIfPresent(String.self, forKey: .unusableIndex) ?? ""
    }

    /// Writes the views into a run's folder.
    func write(into dir: URL) throws {
        let proc = dir.appendingPathComponent("proc")
        try FileManager.default.createDirectory(at: proc, withIntermediateDirectories: true)
        try ResultWriter.atomic(proc, "buddyinfo", buddyinfo)
        try ResultWriter.atomic(proc, "zoneinfo", zoneinfo)
        try ResultWriter.atomic(proc, "slabinfo", slabinfo)
        if !pagetypeinfo.isEmpty { try ResultWriter.atomic(proc, "pagetypeinfo", pagetypeinfo) }
        if !vmstat.isEmpty { try ResultWriter.atomic(proc, "vmstat", vmstat) }
        if !extfragIndex.isEmpty {
            let debug = dir.appendingPathComponent("sys/kernel/debug/extfrag")
            try FileManager.default.createDirectory(at: debug, withIntermediateDirectories: true)
            try ResultWriter.atomic(debug, "extfrag_index", extfragIndex)
            try ResultWriter.atomic(debug, "unusable_index", unusableIndex)
        }
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
