import CArch
import Foundation
import KernelMM
import Topology

/// What running inside a CPU actor costs against a bare pinned pthread, for the same slab pair
/// loop: a whole batch per actor call (how the runner works), a call per 64 operations, and a
/// call per operation (what the design forbids: every call is a thread hop).
public enum ExecutorBench {
    public struct Point: Codable, Sendable {
        public var mode: String
        public var nsPerOp: Double
        /// Throughput against the bare pinned thread (1 = no overhead).
        public var relative: Double
    }

    public static func run(iterations: Int) async throws -> [Point] {
        let kernel = try Benchmarks.benchKernel(cpus: 1, policy: .spin)
        let slab = try SlabAllocator(kernel: kernel)
        defer { withExtendedLifetime(slab) { kernel.unmapArenas() } }
        let cache = try slab.createCache(name: "skbuff_head_cache", size: 232, flags: .hwcacheAlign)
        let ctx = kernel.cpus[0]
        let loop: @Sendable (Int) -> Void = { n in
            for _ in 0..<n {
                let p = cache.alloc(ctx, .kernel)!
                arch_escape(p)
                cache.free(ctx, p)
            }
        }
        let pu = HostBinding.shared.machine.pus[0].osIndex
        let cpu = CPU(id: 0, node: 0, hostPU: pu)
        defer { cpu.shutdown() }

        var bare: [Double] = [], batch: [Double] = [], per64: [Double] = [], perOp: [Double] = []
        let hops = max(iterations / 64, 1000)
        for _ in 0..<4 {   // the first round warms up; the median of the other three counts
            bare.append(bareThread(pu: pu, iterations: iterations, loop))
            var t0 = Clock.monotonicNS()
            await cpu.run { loop(iterations) }
            batch.append(Double(Clock.monotonicNS() - t0) / Double(iterations))
            t0 = Clock.monotonicNS()
            for _ in 0..<(iterations / 64) { await cpu.run { loop(64) } }
            per64.append(Double(Clock.monotonicNS() - t0) / Double(iterations / 64 * 64))
            t0 = Clock.monotonicNS()
            for _ in 0..<hops { await cpu.run { loop(1) } }
            perOp.append(Double(Clock.monotonicNS() - t0) / Double(hops))
        }
        func median(_ xs: [Double]) -> Double { let s = xs.dropFirst().sorted(); return s[s.count / 2] }
        let base = median(bare)
        return [("bare pinned pthread", bare), ("CPU actor, whole batch per call", batch),
                ("CPU actor, one call per 64 ops", per64), ("CPU actor, one call per op", perOp)].map {
            let ns = median($0.1)
            return Point(mode: $0.0, nsPerOp: ns, relative: base / ns)
        }
    }

    /// The loop on a fresh pthread bound to `pu`, timed on that thread.
    static func bareThread(pu: Int, iterations: Int, _ loop: @escaping @Sendable (Int) -> Void) -> Double {
        let result = UnsafeMutablePointer<Double>.allocate(capacity: 1)
        defer { result.deallocate() }
        let out = UInt(bitPattern: result)
        let finished = DispatchSemaphore(value: 0)
        let t = Thread {
            _ = HostBinding.shared.bindCurrentThread(toPU: pu)
            let t0 = Clock.monotonicNS()
            loop(iterations)
            UnsafeMutablePointer<Double>(bitPattern: out)!.pointee = Double(Clock.monotonicNS() - t0) / Double(iterations)
            finished.signal()
        }
        t.start()
        finished.wait()
        return result.pointee
    }

    public static func table(_ points: [Point]) -> String {
        var out = "\nExecutor overhead: kmem_cache_alloc + free (232B) on one pinned CPU\n"
        out += "mode                                   ns/op   throughput vs bare thread\n"
        for p in points {
            out += p.mode.padding(toLength: 36, withPad: " ", startingAt: 0) + String(format: " %8.1f   %6.3f\n", p.nsPerOp, p.relative)
        }
        return out
    }
}
