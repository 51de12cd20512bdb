import ArgumentParser
import Foundation
import Harness

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the allocator fast paths next to glibc malloc/free, in one run, on pinned CPUs.",
        discussion: "Pairs (slab, kmalloc, pages per lock policy and CPU count), the PCP refill/drain path, TLB hit and miss translation, shootdown cost against CPUs and the executor overhead. --scaling instead runs three workloads at 1, 2, 4, … host PUs and writes scaling.csv (plot it with numastress report). " + CLIConventions.exitStatus("0 measured; 2 a bad option value"))

    @Option(help: "Only cases whose name contains this text (the glibc reference always runs); 'shootdown' and 'executor' select those tables.")
    var filter: String?

    @Option(help: "Operation pairs per timed run.")
    var iterations = 200_000

    @Option(help: "Timed runs per case (the median is reported); one warm-up run comes first.")
    var runs = 5

    @Flag(help: "Print the results as JSON.")
    var json = false

    @Flag(help: "Throughput against CPU count for a local-only slab, a remote-free and a shared-zone workload.")
    var scaling = false

    @Option(name: .customLong("max-cpus"), help: "With --scaling: the largest CPU count (default: every host PU).")
    var maxCPUs: Int?

    @Option(help: "With --scaling: measured time per point.")
    var duration = "1s"

    @Option(help: "With --scaling: folder that receives bench-scaling/<timestamp>/scaling.csv.")
    var results = "Results"

    func run() async throws {
        guard iterations > 0, runs > 0 else { throw failInput("--iterations and --runs must be positive") }
        if scaling { return try await runScaling() }
        if !json { print(Benchmarks.table([]), terminator: "") }
        let results = try await Benchmarks.run(filter: filter, iterations: iterations, runs: runs) { r in
            if !json { print(Benchmarks.row(r)); fflush(nil) }
        }
        let wanted = { (word: String) in filter == nil || filter!.lowercased().contains(word) }
        var shootdowns: [ShootdownBench.Point] = []
        if wanted("shootdown") || wanted("tlb") {
            shootdowns = try await ShootdownBench.run(iterations: max(iterations / 100, 200))
            if !json { print(ShootdownBench.table(shootdowns), terminator: "") }
        }
        var executor: [ExecutorBench.Point] = []
        if wanted("executor") {
            executor = try await ExecutorBench.run(iterations: iterations)
            if !json { print(ExecutorBench.table(executor), terminator: "") }
        }
        if json { print(try encode(BenchReport(cases: results, shootdown: shootdowns, executor: executor))) }
    }

    struct BenchReport: Encodable {
        var schema = "numastress.bench/1"
        var cases: [BenchResult]
        var shootdown: [ShootdownBench.Point]
        var executor: [ExecutorBench.Point]
    }

    func runScaling() async throws {
        let host = ScalingBench.hostPUs
        if let m = maxCPUs, m < 1 { throw failInput("--max-cpus must be at least 1") }
        let ms: Int
        do { ms = Int(try Units.duration(duration) / 1_000_000) } catch { throw failInput("--duration: \(error)") }
        guard ms > 0 else { throw failInput("--duration must be positive") }
        let counts = ScalingBench.cpuCounts(hostPUs: host, max: maxCPUs)
        if !json { print("scaling on \(host) host PU(s), CPU counts \(counts.map(String.init).joined(separator: ", ")), \(ms) ms per point\n" + ScalingBench.header) }
        let points = try await ScalingBench.run(cpuCounts: counts, durationMS: ms) { p in
            if !json { print(ScalingBench.row(p)); fflush(nil) }
        }
        let dir = "\(results)/bench-scaling/\(ResultWriter.timestamp())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try ScalingBench.csv(points).write(toFile: dir + "/scaling.csv", atomically: true, encoding: .utf8)
        if json { print(try encode(ScalingReport(points: points))) } else { print("results: \(dir)  (numastress report \(dir) draws the curve)") }
    }

    struct ScalingReport: Encodable {
        var schema = "numastress.bench-scaling/1"
        var points: [ScalingBench.Point]
    }

    func encode<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try JSONCoding.encoder().encode(value), as: UTF8.self)
    }
}
