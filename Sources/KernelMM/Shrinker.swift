/// A reclaim callback (`struct shrinker`, include/linux/shrinker.h): `count` says how many
/// objects could be freed on a node, `scan` frees up to that many and returns how many pages
/// went back to the buddy allocator. Registered with the kernel's reclaim; called by kswapd
/// (with no CPU) and by direct reclaim (on the allocating CPU).
public protocol Shrinker: AnyObject, Sendable {
    var name: String { get }
    func count(node: Int) -> Int
    func scan(node: Int, count: Int, cpu: CPUContext?) -> Int
}

/// The PCP drain shrinker: `drain_all_pages()` as one reclaim step. It cannot reach into other
/// CPUs' lists, so it asks each CPU to drain at its next allocator call.
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
