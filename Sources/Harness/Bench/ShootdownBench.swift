import CArch
import Foundation
import KernelMM
import Topology

/// Shootdown cost against the CPUs that cache a mapping: CPU 0 maps, touches and unmaps one
/// page over and over; the other CPUs have touched the address space and answer IPIs between
/// spins. The figure is the sender's mean wait per munmap; points with more CPUs than host PUs
/// are marked oversubscribed (the wait then includes being scheduled).
public enum ShootdownBench {
    public struct Point: Codable, Sendable {
        public var cpus: Int
        public var meanWaitNS: Double
        public var munmapNS: Double
        public var oversubscribed: Bool
    }

    public static func run(cpuCounts: [Int]? = nil, iterations: Int = 2000) async throws -> [Point] {
        let host = HostBinding.shared.machine.pus
        let counts = cpuCounts ?? [1, 2, 4, 8, 16].filter { $0 <= max(2 * host.count, 2) }
        var points: [Point] = []
        for n in counts {
            let machine = try TopologyLoader.load(.synthetic("pack:1 [numa] core:\(n) pu:1"))
            let mapping = CPUMapping(model: machine, host: HostBinding.shared.machine, modelIsHost: false)
            var config = MemoryConfig()
            config.perNodeBytes = 64 << 20
            config.kswapd = false
            let kernel = try Kernel(machine: machine, mapping: mapping, config: config)
            let mmu = try MMU(kernel: kernel)
            let space = try mmu.createAddressSpace(name: "bench", cpu: kernel.cpus[0])
            let cpus = (0..<n).map { CPU(id: $0, node: 0, hostPU: mapping.hostPU[$0]) }
            let stop = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)
            stop.initialize(to: 0)
            let stopBits = UInt(bitPattern: stop)
            let shared = mmu.mmap(kernel.cpus[0], space, length: KernelMM.PAGE_SIZE)!
            let elapsed: UInt64 = await withTaskGroup(of: UInt64.self) { group in
                for i in 1..<max(n, 1) {
                    group.addTask {
                        await cpus[i].run {
                            let me = kernel.cpus[i]
                            let flag = UnsafeMutablePointer<UInt64>(bitPattern: stopBits)!
                            _ = try? mmu.access(me, space, shared, bytes: 8, write: false)
                            while arch_load_acquire_u64(flag) == 0 { mmu.poll(me); arch_cpu_relax() }
                            mmu.leave(me)
                            return 0
                        }
                    }
                }
                group.addTask {
                    await cpus[0].run {
                        let me = kernel.cpus[0]
                        let flag = UnsafeMutablePointer<UInt64>(bitPattern: stopBits)!
                        usleep(20_000)   // let the others touch the space first
                        let t0 = Clock.monotonicNS()
                        var done = 0
                        // At most a second per point: oversubscribed points are slow.
                        while done < iterations && Clock.monotonicNS() - t0 < 1_000_000_000 {
                            done += 1
                            guard let va = mmu.mmap(me, space, length: KernelMM.PAGE_SIZE) else { break }
                            _ = try? mmu.access(me, space, va, bytes: 8, write: true)
                            mmu.munmap(me, space, va, length: KernelMM.PAGE_SIZE)
                        }
                        let t = (Clock.monotonicNS() - t0) / UInt64(max(done, 1))
                        arch_store_release_u64(flag, 1)
                        mmu.leave(me)
                        return t
                    }
                }
                var e: UInt64 = 0
                for await x in group { e = max(e, x) }
                return e
            }
            let d = space.shootdowns
            points.append(Point(cpus: n, meanWaitNS: d.sent == 0 ? 0 : Double(d.waitNS) / Double(d.sent),
                                munmapNS: Double(elapsed), oversubscribed: n > host.count))
            cpus.forEach { $0.shutdown() }
            stop.deallocate()
            mmu.teardown(cpu: kernel.cpus[0])
            kernel.unmapArenas()
        }
        return points
    }

    public static func table(_ points: [Point]) -> String {
        var out = "\nTLB shootdown: munmap of one page that every CPU's TLB may hold\n"
        out += " cpus  mean IPI wait   map+touch+munmap\n"
        for p in points {
            out += String(format: "%5d %12.0fns %16.0fns%@\n", p.cpus, p.meanWaitNS, p.munmapNS, p.oversubscribed ? "  (oversubscribed)" : "")
        }
        return out
    }
}
