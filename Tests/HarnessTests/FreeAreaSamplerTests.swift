import Testing
import Foundation
@testable import Harness
@testable import KernelMM

/// The free-area timeline (FreeAreaSampler): buddyinfo and pagetypeinfo's per-type totals over
/// the measured phase, and the plot of free pages per migrate type drawn from it.
@Suite struct FreeAreaSamplerTests {
    static let yaml = """
        name: sampler-test
        topology: { synthetic: "pack:1 [numa] core:2 pu:1" }
        memory: { per_node: 16MiB, zones: { DMA: 0MiB, DMA32: 0MiB } }
        run: { deterministic: true, operations: 2000, seed: 4 }
        workloads:
          - { name: slab, cpus: "0", op: kmalloc, size: { uniform: [512, 4096] }, lifetime: { keep: 800, order: random } }
          - { name: pages, cpus: "1", op: alloc_pages, order: { uniform: [0, 3] }, gfp: "GFP_HIGHUSER_MOVABLE", lifetime: { keep: 300, order: random } }
        """

    @Test("A deterministic run is sampled by operations (about 200 points, interval 0); at every point the free pages of all migrate types add up to the buddy free areas, since no CPU moves between the two reads")
    func deterministicTimeline() async throws {
        let root = NSTemporaryDirectory() + "numastress-sampler-\(getpid())"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try Self.yaml.write(toFile: root + "/c.yaml", atomically: true, encoding: .utf8)
        let outcome = try await Runner.run(try ConfigLoader.load(path: root + "/c.yaml"))
        let t = try #require(outcome.result.freeTimeline)
        #expect(t.intervalNS == 0)
        #expect((195...205).contains(t.tNS.count), "\(t.tNS.count) samples")
        let z = try #require(t.zones.first { $0.zone == "Normal" })
        let byType = try #require(z.freeByType)
        #expect(byType.count == z.blocks.count)
        for (types, blocks) in zip(byType, z.blocks) {
            #expect(types.reduce(0, +) == FreePagesPlot.total(blocks))
        }
        // Unmovable slab pages and movable pages both took from the free lists at some point.
        #expect(byType.map { $0[MigrateType.movable.rawValue] }.min()! < byType[0][MigrateType.movable.rawValue])
        // The CSV carries the same per-type columns.
        let dir = try ResultWriter.write(outcome, root: root)
        let csv = try String(contentsOfFile: dir + "/free_timeline.csv", encoding: .utf8)
        #expect(csv.split(separator: "\n")[0].hasSuffix("free_pages,free_unmovable,free_movable,free_reclaimable,free_highatomic,free_isolate"))
    }

    @Test("The per-migrate-type plot draws only types whose lists ever held a page, each in its fixed colour, with zero points left as gaps on the log axis")
    func plotLines() throws {
        let t = RunResult.FreeTimeline(intervalNS: 0, tNS: [0, 1_000_000, 2_000_000], zones: [
            .init(node: 0, zone: "Normal", blocks: [[4, 0, 1], [2, 1, 0], [0, 0, 0]],
                  freeByType: [[0, 6, 0, 0, 0], [2, 2, 0, 0, 0], [0, 0, 0, 0, 0]])])
        let plot = try #require(FreePagesByTypePlot.make(t))
        #expect(plot.script.contains("title \"Unmovable\"") && plot.script.contains("title \"Movable\""))
        #expect(!plot.script.contains("Reclaimable") && !plot.script.contains("HighAtomic") && !plot.script.contains("Isolate"))
        #expect(plot.script.contains("1/0"), "a zero cannot sit on the log axis")
        #expect(plot.caption.contains("deterministic"))
        let old = RunResult.FreeTimeline(intervalNS: 0, tNS: [0, 1], zones: [.init(node: 0, zone: "Normal", blocks: [[1], [2]], freeByType: nil)])
        #expect(FreePagesByTypePlot.make(old) == nil, "a result written before the sampling has no plot")
    }
}
