import CHwloc
import CNuma
import CArch
import Foundation

/// The running host, loaded once: the only topology that can bind threads and memory.
/// Models `set_cpus_allowed_ptr()` for threads and `mbind(MPOL_BIND)` for arenas.
public final class HostBinding: @unchecked Sendable {
    public static let shared: HostBinding = {
        do { return try HostBinding() } catch { fatalError("cannot load the host topology: \(error)") }
    }()

    private let topology: HwlocTopology
    public let machine: Machine

    private init() throws {
        topology = try HwlocTopology(.host)
        machine = topology.machine()
    }

    /// Binds the calling thread to the host PU with OS index `puOSIndex`. Returns false (and the
    /// thread stays unbound) when the host refuses, e.g. the PU is outside our cgroup.
    @discardableResult
    public func bindCurrentThread(toPU puOSIndex: Int) -> Bool {
        let set = hwloc_bitmap_alloc()
        defer { hwloc_bitmap_free(set) }
        hwloc_bitmap_only(set, UInt32(puOSIndex))
        return hwloc_set_cpubind(topology.handle, set, Int32(HWLOC_CPUBIND_THREAD.rawValue)) == 0
    }

    /// The OS index of the PU the calling thread runs on right now (`sched_getcpu()`).
    public static func currentPU() -> Int { Int(arch_sched_getcpu()) }

    /// True when the host has a NUMA node with this OS index that memory can be bound to.
    public func hasNode(osIndex: Int) -> Bool { machine.nodes.contains { $0.osIndex == osIndex } && numa_available() >= 0 }
}

/// A block of real memory for one modelled node: mmap'd, then bound with `mbind(MPOL_BIND)` to
/// the host node it maps onto when the host has it. Models the node's `memblock` range.
public struct NodeMemory: @unchecked Sendable {
    public let base: UnsafeMutableRawPointer
    public let bytes: Int
    /// Host node the pages are bound to, or nil when the memory is plain (not bound).
    public let boundHostNode: Int?

    /// Maps `bytes` (page-rounded) and binds them to `hostNode` if possible. `prefault` touches
    /// every page now, so that first-touch cost does not land in the measured phase.
    public static func map(bytes: Int, hostNode: Int?, prefault: Bool) throws -> NodeMemory {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let size = (bytes + page - 1) / page * page
        guard let p = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0),
              p != MAP_FAILED else {
            throw TopologyError("mmap of \(size) bytes failed: \(String(cString: strerror(errno)))")
        }
        var bound: Int? = nil
        if let node = hostNode, HostBinding.shared.hasNode(osIndex: node), node < 64 {
            var mask: UInt = 1 << UInt(node)
            if mbind(p, UInt(size), Int32(MPOL_BIND), &mask, UInt(UInt.bitWidth), 0) == 0 { bound = node }
        }
        if prefault {
            var off = 0
            while off < size { p.storeBytes(of: 0, toByteOffset: off, as: UInt8.self); off += page }
        }
        return NodeMemory(base: p, bytes: size, boundHostNode: bound)
    }

    public func unmap() { munmap(base, bytes) }

    /// Host NUMA node of the page at `offset`, asked of the kernel (`move_pages` query mode);
    /// nil when unknown (page not yet faulted, or no NUMA support).
    public func hostNode(ofPageAt offset: Int) -> Int? {
        var page: UnsafeMutableRawPointer? = base + offset
        var status: Int32 = -1
        let r = withUnsafeMutablePointer(to: &page) { pp in
            numa_move_pages(0, 1, pp, nil, &status, 0)
        }
        return r == 0 && status >= 0 ? Int(status) : nil
    }
}
