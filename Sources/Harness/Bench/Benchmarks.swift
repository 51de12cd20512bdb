import CArch
import Foundation
import KernelMM
import Topology

/// `numastress bench`: the allocator fast paths next to glibc malloc/free measured in the same
/// run, so ratios hold on any machine.
public enum Benchmarks {
    public static let glibc = "glibc malloc+free 64B"

    static func allCases(hostCPUs: Int) -> [BenchCase] {
        var cases: [BenchCase] = [glibcCase(cpus: 1)]
        let cpuCounts = Array(Set([1, min(2, hostCPUs)])).sorted()
        for n in cpuCounts {
            cases.append(slabCase(cpus: n, name: "kmem_cache_alloc + free, own CPU (232B)") { slab, cache, ctx in
                { count in
                    for _ in 0..<count {
                        let p = cache.alloc(ctx, .kernel)!
                        arch_escape(p)
                        cache.free(ctx, p)
                    }
                }
            })
            cases.append(slabCase(cpus: n, name: "kmalloc(64) + kfree") { slab, _, ctx in
                { count in
                    for _ in 0..<count {
                        let p = slab.kmalloc(ctx, 64, .kernel)
                        arch_escape(p)
                        slab.kfree(ctx, p)
                    }
                }
            })
        }
        for policy in LockPolicy.allCases {
            for n in cpuCounts {
                // The atomic policy has no zone lock: its cases say "lock-free zone".
                cases.append(pageCase(order: 0, policy: policy, cpus: n,
                                      name: policy == .atomic ? "alloc_pages order-0 + free (PCP), lock-free zone (atomic)"
                                                              : "alloc_pages order-0 + free (PCP), \(policy) zone lock"))
                cases.append(pageCase(order: 4, policy: policy, cpus: n,
                                      name: policy == .atomic ? "alloc_pages order-4 + free (buddy, lock-free), atomic"
                                                              : "alloc_pages order-4 + free (buddy, zone lock), \(policy)"))
            }
        }
        for n in cpuCounts { cases.append(pcpBulkCase(cpus: n)) }
        cases.append(tlbCase(pages: 32, name: "translate, TLB hit (32 pages)"))
        cases.append(tlbCase(pages: 8192, name: "translate, TLB miss + 4-level walk (8192 pages)"))
        cases += RandomOrderBench.cases()
        cases.append(TraceParseBench.parseCase())
        cases += RunnerBench.cases()
        return cases
    }

    /// The reference: the process's malloc/free, pair for pair.
    static func glibcCase(cpus: Int) -> BenchCase {
        BenchCase(group: "reference", name: glibc, cpus: cpus, reference: nil, note: nil) {
            let loop: @Sendable (Int) -> Void = { n in
                for _ in 0..<n {
                    let p = malloc(64)
                    arch_escape(p)
                    free(p)
                }
            }
            return (Array(repeating: loop, count: cpus), {})
        }
    }

    static func pageCase(order: Int, policy: LockPolicy, cpus: Int, name: String) -> BenchCase {
        BenchCase(group: "page allocator", name: name, cpus: cpus, reference: glibc, note: nil) {
            let kernel = try benchKernel(cpus: cpus, policy: policy)
            let loops: [@Sendable (Int) -> Void] = kernel.cpus.map { ctx in
                { n in
                    for _ in 0..<n {
                        let p = kernel.allocPages(ctx, .kernel, order: order)!
                        kernel.freePages(ctx, p, order: order)
                    }
                }
            }
            return (loops, { kernel.unmapArenas() })
        }
    }

    static func slabCase(cpus: Int, name: String,
                         loop: @escaping @Sendable (SlabAllocator, KmemCache, CPUContext) -> @Sendable (Int) -> Void) -> BenchCase {
        BenchCase(group: "slab", name: name, cpus: cpus, reference: glibc, note: nil) {
            let kernel = try benchKernel(cpus: cpus, policy: .spin)
            let slab = try SlabAllocator(kernel: kernel)
            let cache = try slab.createCache(name: "skbuff_head_cache", size: 232, flags: .hwcacheAlign)
            return (kernel.cpus.map { loop(slab, cache, $0) }, { withExtendedLifetime(slab) { kernel.unmapArenas() } })
        }
    }

    static func benchKernel(cpus: Int, policy: LockPolicy, perNodeBytes: Int = 64 << 20) throws -> Kernel {
        let machine = try TopologyLoader.load(.synthetic("pack:1 [numa] core:\(max(cpus, 1)) pu:1"))
        let mapping = CPUMapping(model: machine, host: HostBinding.shared.machine, modelIsHost: false)
        var config = MemoryConfig()
        config.perNodeBytes = perNodeBytes
        config.zoneLock = policy
        config.kswapd = false
        return try Kernel(machine: machine, mapping: mapping, config: config)
    }

    /// Runs every case whose name contains `filter` (all when nil) and fills in ratios.
    public static func run(filter: String?, iterations: Int, runs: Int,
                           progress: (BenchResult) -> Void = { _ in }) async throws -> [BenchResult] {
        let host = HostBinding.shared.machine.pus.count
        var results: [BenchResult] = []
        for c in allCases(hostCPUs: host) where filter == nil || c.name.localizedCaseInsensitiveContains(filter!) || c.name == glibc {
            // A case with a reference times it beside each of its runs (`BenchRunner`).
            let reference = c.reference == glibc ? glibcCase(cpus: 1) : nil
            let r = try await BenchRunner.measure(c, iterations: iterations, runs: runs, reference: reference)
            progress(r)
            results.append(r)
        }
        return results
    }

    /// The table `numastress bench` prints.
    public static func table(_ results: [BenchResult]) -> String {
        var out = "benchmark".padding(toLength: 58, withPad: " ", startingAt: 0) + " cpus    ns/pair   spread x glibc\n"
        for r in results {
            out += row(r) + "\n"
        }
        return out
    }

    public static func row(_ r: BenchResult) -> String {
        let name = r.name.padding(toLength: 58, withPad: " ", startingAt: 0)
        let ratio = r.ratio.map { String(format: "%7.2f", $0) } ?? "      -"
        return "\(name) \(String(format: "%4d %10.1f %7.0f%% %@", r.cpus, r.nsPerOp, r.spread * 100, ratio))"
    }
}
