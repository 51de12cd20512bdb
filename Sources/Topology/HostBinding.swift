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

