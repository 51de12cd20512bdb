import CArch
import Foundation

/// An address space (`struct mm_struct`): a page table, the mappings (`vm_area_struct`s) under
/// `mmap_lock`, and the mask of CPUs that may hold its translations (`mm_cpumask`). Pages are
/// not allocated at mmap: the first touch faults them in, placed by the mapping's policy.
public final class AddressSpace: @unchecked Sendable {
    public let asid: Int
    public let name: String
    public let isKernel: Bool
    public let pageTable: PageTable
    /// `mmap_lock` (a sleeping lock in Linux: the mutex policy).
    let lock: KernelLock
    var vmas: [VMA] = []
    var nextVA: UInt64
    /// CPUs that touched this space since they came online (bit per CPU).
    let cpumask: UnsafeMutablePointer<UInt64>
    let maskWords: Int
    /// Unmaps whose shootdown is still in flight: a TLB hit that disagrees with the page table
    /// meanwhile is a race the kernel allows, not a stale use.
    let flushesInFlight: UnsafeMutablePointer<UInt64>
    /// Shootdowns this space sent, and the senders' wait (ns).
    let shootdownStats: UnsafeMutablePointer<UInt64>   // [sent, waitNS, maxWaitNS, targets]
    public internal(set) var tablePages = 0
    public internal(set) var mappedPages = 0

    public struct VMA: Sendable, Equatable {
        public var start: UInt64
        public var end: UInt64
        public var prot: Protection
        public var policy: MemPolicy
        public var huge: Bool
    }

    init(asid: Int, name: String, kernel: Kernel, cpu: CPUContext, isKernel: Bool, cpus: Int) throws {
        self.asid = asid
        self.name = name
        self.isKernel = isKernel
        pageTable = try PageTable(kernel: kernel, cpu: cpu)
        tablePages = 1
        lock = KernelLock(name: "\(name) mmap_lock", policy: .mutex, log: kernel.log)
        nextVA = 0x0000_1000_0000_0000
        maskWords = (cpus + 63) / 64
        cpumask = .allocate(capacity: maskWords)
        cpumask.initialize(repeating: 0, count: maskWords)
        flushesInFlight = .allocate(capacity: 1)
        flushesInFlight.initialize(to: 0)
        shootdownStats = .allocate(capacity: 4)
        shootdownStats.initialize(repeating: 0, count: 4)
    }

    deinit { cpumask.deallocate(); flushesInFlight.deallocate(); shootdownStats.deallocate() }

    @inline(__always) func noteCPU(_ id: Int) {
        let w = cpumask + id / 64, bit: UInt64 = 1 << UInt64(id % 64)
        while true {
            var old = arch_load_relaxed_u64(w)
            if old & bit != 0 { return }
            if arch_cmpxchg_u64(w, &old, old | bit) { return }
        }
    }

    func cpusInMask() -> [Int] {
        (0..<maskWords).flatMap { w -> [Int] in
            let bits = arch_load_acquire_u64(cpumask + w)
            return (0..<64).filter { bits & (1 << UInt64($0)) != 0 }.map { w * 64 + $0 }
        }
    }

    func vma(containing va: UInt64) -> VMA? { vmas.first { va >= $0.start && va < $0.end } }

    /// Figures of the shootdowns this space sent.
    public var shootdowns: (sent: UInt64, waitNS: UInt64, maxWaitNS: UInt64, targets: UInt64) {
        (arch_load_relaxed_u64(shootdownStats), arch_load_relaxed_u64(shootdownStats + 1),
         arch_load_relaxed_u64(shootdownStats + 2), arch_load_relaxed_u64(shootdownStats + 3))
    }

    func recordShootdown(waitNS: UInt64, targets: Int) {
        _ = arch_fetch_add_u64(shootdownStats, 1)
        _ = arch_fetch_add_u64(shootdownStats + 1, waitNS)
        _ = arch_fetch_add_u64(shootdownStats + 3, UInt64(targets))
        while true {
            var old = arch_load_relaxed_u64(shootdownStats + 2)
            if waitNS <= old || arch_cmpxchg_u64(shootdownStats + 2, &old, waitNS) { break }
        }
    }

    public func resetStats() { shootdownStats.update(repeating: 0, count: 4) }
}
