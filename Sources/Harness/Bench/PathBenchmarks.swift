import CArch
import Foundation
import KernelMM
import Topology

/// Cases for the paths the pair benchmarks keep out of sight: the per-CPU page lists being
/// refilled and drained in batches (`rmqueue_bulk`, `free_pcppages_bulk`), and address
/// translation through the TLB when it hits and when every access walks the page table.
extension Benchmarks {
    /// Allocates more order-0 pages than the per-CPU list may hold, then frees them all: every
    /// `batch` allocations refill from the buddy lists under the zone lock, and frees beyond
    /// `high` drain back. The figure is per page (one alloc + one free).
    static func pcpBulkCase(cpus: Int) -> BenchCase {
        BenchCase(group: "page allocator", name: "alloc_pages order-0 burst + free (PCP refill/drain)", cpus: cpus,
                  reference: glibc, note: "bursts of 2 × pcp high pages") {
            let kernel = try benchKernel(cpus: cpus, policy: .spin)
            let burst = 2 * (kernel.zones.map(\.pcpHigh).max() ?? 64)
            let loops: [@Sendable (Int) -> Void] = kernel.cpus.map { ctx in
                { n in
                    let held = UnsafeMutablePointer<PageRef>.allocate(capacity: burst)
                    defer { held.deallocate() }
                    var done = 0
                    while done < n {
                        let k = min(burst, n - done)
                        for i in 0..<k { held[i] = kernel.allocPages(ctx, .kernel, order: 0)! }
                        for i in 0..<k { kernel.freePages(ctx, held[i], order: 0) }
                        done += k
                    }
                }
            }
            return (loops, { kernel.unmapArenas() })
        }
    }

    /// Translation of user addresses: `pages` distinct pages visited in turn. 32 pages stay in
    /// the first-level TLB (hits); 8192 pages overflow both levels, so each access is a miss and
    /// a four-level walk. Pages are faulted in before timing.
    static func tlbCase(pages: Int, name: String) -> BenchCase {
        BenchCase(group: "mmu", name: name, cpus: 1, reference: nil, note: nil) {
            let kernel = try benchKernel(cpus: 1, policy: .spin, perNodeBytes: 128 << 20)
            let mmu = try MMU(kernel: kernel)
            let cpu = kernel.cpus[0]
            let space = try mmu.createAddressSpace(name: "bench", cpu: cpu)
            guard let base = mmu.mmap(cpu, space, length: pages * KernelMM.PAGE_SIZE) else {
                throw BenchError("tlb bench: mmap of \(pages) pages failed")
            }
            // Fault every page in now; translation alone is timed.
            for i in 0..<pages { _ = try? mmu.access(cpu, space, base + UInt64(i * KernelMM.PAGE_SIZE), bytes: 8, write: true) }
            let loop: @Sendable (Int) -> Void = { n in
                var sum = 0, page = 0
                for _ in 0..<n {
                    // A stride of 17 pages spreads the sets; `page` wraps within the region.
                    page = page + 17 < pages ? page + 17 : (page + 17) % pages
                    sum &+= (try? mmu.translate(cpu, space, base + UInt64(page << 12), write: false))?.pfn ?? 0
                }
                withUnsafePointer(to: sum) { arch_escape($0) }
            }
            return ([loop], { mmu.destroy(space, cpu: cpu); kernel.unmapArenas() })
        }
    }
}
