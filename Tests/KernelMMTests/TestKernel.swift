import Foundation
@testable import KernelMM
import Topology

/// Small kernels for tests: a synthetic or XML shape, little memory, kswapd off unless asked.
enum TestKernel {
    static func make(_ shape: String = "pack:1 [numa] core:2 pu:1", xml: String? = nil,
                     perNode: Int = 8 << 20, dma: Int = 1 << 20, dma32: Int = 2 << 20,
                     lock: LockPolicy = .spin, watermarks: Watermarks? = nil, kswapd: Bool = false,
                     oomWaitNS: UInt64 = 200_000_000, maxOrder: Int = 10,
                     configure: (inout MemoryConfig) -> Void = { _ in }) throws -> Kernel {
        let source: TopologySource = xml.map { .xml(path: $0) } ?? .synthetic(shape)
        let machine = try TopologyLoader.load(source)
        let mapping = CPUMapping(model: machine, host: HostBinding.shared.machine, modelIsHost: false)
        var config = MemoryConfig()
        config.perNodeBytes = perNode
        config.dmaBytes = dma
        config.dma32Bytes = dma32
        config.zoneLock = lock
        config.watermarks = watermarks
        config.kswapd = kswapd
        config.oomWaitNS = oomWaitNS
        config.maxOrder = maxOrder
        config.prefault = false
        configure(&config)
        return try Kernel(machine: machine, mapping: mapping, config: config)
    }

    static var repoRoot: String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }

    static func fixture(_ name: String) -> String { repoRoot + "/Tests/TopologyTests/Fixtures/\(name).xml" }
}

extension Zone {
    /// Takes pages straight from the buddy areas until `free` pages are left (test set-up).
    func drainBuddy(leaving free: Int) -> [Int32] {
        var taken: [Int32] = []
        lock.lock(mayBlock: true, cpu: nil)
        // Every migrate type's lists: earlier allocations may have retyped pageblocks.
        func any() -> Int32? {
            for mt in MigrateType.allCases { if let i = rmqueueSmallest(order: 0, migratetype: mt) { return i } }
            return nil
        }
        while freePages > free, let i = any() {
            meta[Int(i)].flags = .head
            taken.append(i)
        }
        lock.unlock(cpu: nil)
        return taken
    }

    func giveBack(_ pages: [Int32]) {
        lock.lock(mayBlock: true, cpu: nil)
        for i in pages { meta[Int(i)].flags = []; freeOneBlock(i, order: 0) }
        lock.unlock(cpu: nil)
    }
}
