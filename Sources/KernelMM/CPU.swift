import Topology
import CArch

/// One logical CPU of the modelled kernel: the owner of per-CPU state (`DEFINE_PER_CPU`), whose
/// every job runs on its own pinned pthread. Per-CPU data is touched only from here, so the
/// fast paths need no lock and no atomic.
public actor CPU {
    public nonisolated let id: Int
    /// Logical index of the modelled NUMA node (`cpu_to_node()`).
    public nonisolated let node: Int
    public nonisolated let executor: PinnedThread

    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    public init(id: Int, node: Int, hostPU: Int) {
        self.id = id
        self.node = node
        self.executor = PinnedThread(hostPU: hostPU, name: "cpu\(id)")
    }

    public nonisolated var hostPU: Int { executor.hostPU }

    /// The OS PU this actor's code is running on now.
    public func currentHostPU() -> Int { HostBinding.currentPU() }

    /// Runs a whole batch of work on this CPU's thread; callers never hop per operation.
    public func run<R: Sendable>(_ body: @Sendable () throws -> R) rethrows -> R { try body() }

    /// Stops the thread after what is queued. The actor must not be used afterwards.
    public nonisolated func shutdown() { executor.shutdown() }

    /// Stops many CPUs: every thread is told first, then each is joined, so that hundreds end
    /// in parallel rather than one after another.
    public static func shutdown(_ cpus: [CPU]) {
        cpus.forEach { $0.executor.requestStop() }
        cpus.forEach { $0.shutdown() }
    }
}
