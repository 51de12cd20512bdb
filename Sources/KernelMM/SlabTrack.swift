import CArch
import Foundation

/// Call sites for SLAB_STORE_USER tracks. The kernel records `_RET_IP_` and prints it with
/// `%pS`; the model has no return addresses, so a caller names itself once (a workload, a test,
/// a kernel entry point such as `kmem_cache_alloc`) and the track stores that name's number.
public enum SlabCallSite {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var names: [String] = ["<not-available>"]
    nonisolated(unsafe) private static var ids: [String: Int32] = [:]

    /// The number of `name`, registering it on first use.
    public static func register(_ name: String) -> Int32 {
        lock.lock(); defer { lock.unlock() }
        if let id = ids[name] { return id }
        names.append(name)
        let id = Int32(names.count - 1)
        ids[name] = id
        return id
    }

    public static func name(_ id: UInt64) -> String {
        lock.lock(); defer { lock.unlock() }
        return Int(id) < names.count ? names[Int(id)] : String(format: "0x%llx", id)
    }
}

/// `struct track` (mm/slub.c): where an object was last allocated or freed — call site, CPU,
/// pid, and when (in jiffies). Two of them (alloc, free) follow the free pointer in each slot of
/// a SLAB_STORE_USER cache; the 4-byte depot handle is always 0 (no stack traces).
public struct SlabTrack: Equatable, Sendable {
    public var addr: UInt64
    public var cpu: Int32
    public var pid: Int32
    public var when: UInt64

    /// HZ of the modelled kernel (CONFIG_HZ_250, the distributions' default).
    public static let hz: UInt64 = 250
    /// `jiffies`, from the monotonic clock.
    public static var jiffies: UInt64 { Clock.monotonicNS() / (1_000_000_000 / hz) }
}

/// One line of `/sys/kernel/debug/slab/<cache>/alloc_traces` or `free_traces`
/// (`struct location` of mm/slub.c): objects in use whose track names the same call site.
public struct SlabTraceLocation: Sendable, Equatable {
    public var site: String
    public var count: Int
    public var minAge: UInt64, sumAge: UInt64, maxAge: UInt64
    public var minPid: Int32, maxPid: Int32
    public var cpus: Set<Int>
    public var nodes: Set<Int>

    /// The line as `slab_debugfs_show()` prints it (6.12): count, site, ages min/avg/max (one
    /// age when all equal), pid or pid range, CPUs and nodes as bitmap lists when more than one
    /// CPU (node) is online.
    public func line(onlineCPUs: Int, onlineNodes: Int) -> String {
        var s = String(repeating: " ", count: max(0, 7 - String(count).count)) + "\(count) \(site)"
        if sumAge != minAge {
            s += " age=\(minAge)/\(sumAge / UInt64(count))/\(maxAge)"
        } else {
            s += " age=\(minAge)"
        }
        s += minPid != maxPid ? " pid=\(minPid)-\(maxPid)" : " pid=\(minPid)"
        if onlineCPUs > 1 && !cpus.isEmpty { s += " cpus=" + Self.bitmapList(cpus) }
        if onlineNodes > 1 && !nodes.isEmpty { s += " nodes=" + Self.bitmapList(nodes) }
        return s
    }

    /// `%*pbl`: ranges such as `0-3,5`.
    static func bitmapList(_ set: Set<Int>) -> String {
        let sorted = set.sorted()
        var parts: [String] = []
        var i = 0
        while i < sorted.count {
            var j = i
            while j + 1 < sorted.count && sorted[j + 1] == sorted[j] + 1 { j += 1 }
            parts.append(i == j ? "\(sorted[i])" : "\(sorted[i])-\(sorted[j])")
            i = j + 1
        }
        return parts.joined(separator: ",")
    }
}

extension KmemCache {
    enum TrackItem: Int { case alloc = 0, free = 1 }

    func trackPointer(_ obj: UnsafeMutableRawPointer, _ item: TrackItem) -> UnsafeMutableRawPointer? {
        guard let t = layout.trackOffset else { return nil }
        return obj + t + item.rawValue * SlabLayout.trackSize
    }

    public func track(_ obj: UnsafeMutableRawPointer, alloc: Bool) -> SlabTrack? {
        guard let p = trackPointer(obj, alloc ? .alloc : .free) else { return nil }
        return SlabTrack(addr: p.load(as: UInt64.self), cpu: p.load(fromByteOffset: 12, as: Int32.self),
                         pid: p.load(fromByteOffset: 16, as: Int32.self), when: p.load(fromByteOffset: 24, as: UInt64.self))
    }

    /// `set_track()`: the caller's call site (or the entry point's name), CPU, pid and jiffies.
    func setTrack(_ obj: UnsafeMutableRawPointer, _ item: TrackItem, cpu: CPUContext, entry: Int32) {
        guard let p = trackPointer(obj, item) else { return }
        let site = cpu.callSite != 0 ? cpu.callSite : entry
        p.storeBytes(of: UInt64(site), as: UInt64.self)
        p.storeBytes(of: UInt32(0), toByteOffset: 8, as: UInt32.self)   // depot handle
        p.storeBytes(of: Int32(cpu.id), toByteOffset: 12, as: Int32.self)
        p.storeBytes(of: cpu.pid, toByteOffset: 16, as: Int32.self)
        p.storeBytes(of: UInt32(0), toByteOffset: 20, as: UInt32.self)
        p.storeBytes(of: SlabTrack.jiffies, toByteOffset: 24, as: UInt64.self)
    }

    /// `init_tracking()`: both tracks zeroed.
    func initTracking(_ obj: UnsafeMutableRawPointer) {
        guard let p = trackPointer(obj, .alloc) else { return }
        memset(p, 0, 2 * SlabLayout.trackSize)
    }

    /// `print_tracking()` / `print_track()`: "Allocated in …" and "Freed in …", each only when
    /// recorded; with no stack depot handle the kernel says the stack trace is missing.
    func trackingText(_ obj: UnsafeMutableRawPointer) -> String {
        guard flags.contains(.storeUser) else { return "" }
        let now = SlabTrack.jiffies
        var out = ""
        for (label, alloc) in [("Allocated", true), ("Freed", false)] {
            guard let t = track(obj, alloc: alloc), t.addr != 0 else { continue }
            out += "\(label) in \(SlabCallSite.name(t.addr)) age=\(now &- t.when) cpu=\(t.cpu) pid=\(t.pid)\n"
            out += "object allocation/free stack trace missing\n"
        }
        return out
    }

    /// `alloc_traces` / `free_traces` (debugfs, SLAB_STORE_USER caches): the allocated objects
    /// of every slab on the node lists, grouped by the call site of their alloc (free) track,
    /// most frequent first.
    public func traces(alloc: Bool) -> [SlabTraceLocation] {
        guard flags.contains(.storeUser) else { return [] }
        var byKey: [UInt64: SlabTraceLocation] = [:]
        let now = SlabTrack.jiffies
        forEachListedSlab { pfn in
            let free = self.freeMap(pfn)
            for i in 0..<self.layout.objectsPerSlab where !free.contains(i) {
                let obj = self.object(pfn, i)!
                guard let t = self.track(obj, alloc: alloc) else { continue }
                let age = now &- t.when
                let node = self.pfnToNode(pfn)
                if var l = byKey[t.addr] {
                    l.count += 1
                    l.minAge = min(l.minAge, age); l.maxAge = max(l.maxAge, age); l.sumAge += age
                    l.minPid = min(l.minPid, t.pid); l.maxPid = max(l.maxPid, t.pid)
                    l.cpus.insert(Int(t.cpu))
                    l.nodes.insert(node)
                    byKey[t.addr] = l
                } else {
                    byKey[t.addr] = SlabTraceLocation(site: SlabCallSite.name(t.addr), count: 1, minAge: age, sumAge: age, maxAge: age,
                                                      minPid: t.pid, maxPid: t.pid, cpus: [Int(t.cpu)], nodes: [node])
                }
            }
        }
        return byKey.values.sorted { $0.count != $1.count ? $0.count > $1.count : $0.site < $1.site }
    }

    /// The `alloc_traces` (`free_traces`) file's text.
    public func tracesText(alloc: Bool) -> String {
        let cpus = kernel.cpus.count, nodes = kernel.nodes.count
        let lines = traces(alloc: alloc).map { $0.line(onlineCPUs: cpus, onlineNodes: nodes) }
        return lines.isEmpty ? "No data\n" : lines.joined(separator: "\n") + "\n"
    }
}
