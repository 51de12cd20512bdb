/// A reclaim callback (`struct shrinker`, include/linux/shrinker.h): `count` says how many
/// objects could be freed on a node, `scan` frees up to that many and returns how many pages
/// went back to the buddy allocator. Registered with the kernel's reclaim; called by kswapd
/// (with no CPU) and by direct reclaim (on the allocating CPU).
public protocol Shrinker: AnyObject, Sendable {
    var name: String { get }
    func count(node: Int) -> Int
    func scan(node: Int, count: Int, cpu: CPUContext?) -> Int
}

/// The PCP drain shrinker: `drain_all_pages()` as one reclaim step. The calling CPU's lists
/// drain at once; other CPUs are asked to drain at their next allocator call.
///
/// Deliberate difference from Linux 6.12: there each `per_cpu_pages` has a spinlock
/// (`pcp->lock`), and `__drain_all_pages()` empties every other CPU's lists itself and
/// returns when they are empty. The model's lists have no lock — only the owning CPU touches
/// them, which keeps its PCP fast path free of atomics — so a remote drain is deferred to its
/// owner, and an idle CPU's lists are drained at the end of the run. Direct reclaim therefore
/// sees other CPUs' cached pages come back later than in the kernel, not at once.
final class PCPDrainShrinker: Shrinker, @unchecked Sendable {
    let name = "pcp-drain"
    unowned let kernel: Kernel
    init(kernel: Kernel) { self.kernel = kernel }

    func count(node: Int) -> Int { kernel.cpus.count }

    func scan(node: Int, count: Int, cpu: CPUContext?) -> Int {
        var freed = 0
        for other in kernel.cpus {
            if let cpu, other === cpu { freed += kernel.drainPCP(cpu) } else { other.requestDrain() }
        }
        return freed
    }
}
