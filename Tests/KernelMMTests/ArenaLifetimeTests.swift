import Testing
import Foundation
@testable import KernelMM
import Topology

/// Kernels come and go on several threads at once (tests, runs, benchmarks in one process).
/// Returning one kernel's arenas must never take another kernel's memory with it: the node
/// arenas sit in one reservation and go back with it in a single munmap, so no range of it is
/// free for another thread's mmap while the rest is still to be unmapped.
@Suite struct ArenaLifetimeTests {
    @Test("Kernels built and torn down on four threads at once each keep their own memory")
    func concurrentArenas() throws {
        let threads = 4
        let deadline = Clock.monotonicNS() + 1_500_000_000
        let done = DispatchGroup()
        let rounds = UnsafeMutablePointer<UInt64>.allocate(capacity: threads)
        rounds.initialize(repeating: 0, count: threads)
        defer { rounds.deallocate() }
        let bits = UInt(bitPattern: rounds)
        for t in 0..<threads {
            done.enter()
            Thread {
                let count = UnsafeMutablePointer<UInt64>(bitPattern: bits)! + t
                while Clock.monotonicNS() < deadline || count.pointee < 20 {
                    guard let k = try? TestKernel.make("pack:4 [numa] core:1 pu:1", perNode: 4 << 20, dma: 0, dma32: 0) else { break }
                    // Write the first and last page of every node, after other threads have had
                    // the chance to unmap their kernels in between.
                    for n in 0..<k.nodes.count {
                        let base = k.nodes[n].memory.base
                        base.storeBytes(of: UInt64(t), as: UInt64.self)
                        (base + k.nodes[n].memory.bytes - 8).storeBytes(of: UInt64(t), as: UInt64.self)
                    }
                    for n in 0..<k.nodes.count { #expect(k.nodes[n].memory.base.load(as: UInt64.self) == UInt64(t)) }
                    k.unmapArenas()
                    count.pointee += 1
                }
                done.leave()
            }.start()
        }
        done.wait()
        #expect((0..<threads).allSatisfy { rounds[$0] >= 20 })
    }
}
