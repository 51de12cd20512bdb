import Foundation
import KernelMM
import Topology

/// The `runner` case of `numastress bench`: the scaling bench's local-slab workload (a keep-64
/// LIFO window over kmem_cache_alloc and kmalloc(64)) stepped through the runner's own phase
/// loop (`Runner.runLoop`: stop word, progress, IPI poll, op draw, sampling, figures, window)
/// on one pinned CPU. Its ratio to glibc's malloc/free pair is what the harness costs on top of
/// the allocator: the slab pair alone is a fraction of glibc's.
enum RunnerBench {
    static let name = "runner: local-slab workload, one CPU, ns per operation"
    static let unsampledName = "runner: same, latency sampling off (sample_rate 1000000)"

    /// The case the target is about (the default `sample_rate`), and the same loop
    /// timing almost nothing: the difference is what latency sampling costs per operation.
    static func cases() -> [BenchCase] {
        [runnerCase(name: name, sampleRate: nil), runnerCase(name: unsampledName, sampleRate: ConfigLimits.maxSampleRate)]
    }

    static func runnerCase(name: String, sampleRate: Int?) -> BenchCase {
        BenchCase(group: "runner", name: name, cpus: 1, reference: Benchmarks.glibc,
                  note: "one operation = one allocation plus, once the window is full, one free") {
            let yaml = ScalingBench.yaml("local-slab", cpus: 1, durationMS: 1000, sampleRate: sampleRate)
            let config = try ConfigLoader.parse(yaml: yaml, file: "bench-runner.yaml",
                                                baseDirectory: FileManager.default.currentDirectoryPath)
            let env = try RunEnvironment(config: config)
            let workers = Runner.makeWorkers(env)
            guard let worker = workers.first, workers.count == 1 else { throw BenchError("runner bench: expected one worker") }
            let words = PhaseWords()
            let loop: @Sendable (Int) -> Void = { n in
                env.mmu.enter(worker.cpu)
                Runner.runLoop(worker, operations: n, started: words.started, deadline: words.deadline,
                               producersLeft: words.producersLeft, stop: env.kernel.stopWord)
            }
            let teardown: @Sendable () -> Void = {
                worker.releaseAll()
                worker.flushPerCPU()
                for c in env.slab.allCaches { c.flushBarns(worker.cpu); c.shrink(worker.cpu) }
                env.mmu.teardown(cpu: worker.cpu)
                env.kernel.drainPCP(worker.cpu)
                env.shutdown()
                env.kernel.unmapArenas()
                words.release()
            }
            return ([loop], teardown)
        }
    }

    /// The phase words `Runner.phase` would hand the loop: no deadline, one producer.
    final class PhaseWords: @unchecked Sendable {
        let started = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)
        let deadline = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)
        let producersLeft = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)
        init() {
            started.initialize(to: 0)
            deadline.initialize(to: .max)
            producersLeft.initialize(to: .max / 2)
        }
        func release() { started.deallocate(); deadline.deallocate(); producersLeft.deallocate() }
    }
}
