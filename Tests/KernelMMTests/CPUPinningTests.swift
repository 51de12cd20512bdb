import Testing
import Foundation
import CArch
@testable import KernelMM
import Topology

/// Every logical CPU is an actor whose jobs run on its own pthread bound to its mapped host PU
/// (kthread_bind semantics): sched_getcpu() inside the actor must always answer that PU.
@Suite(.serialized) struct CPUPinningTests {

    @Test("Each CPU actor runs on the PU it is bound to")
    func pinnedPerPU() async throws {
        let host = HostBinding.shared.machine
        let cpus = host.pus.map { CPU(id: $0.logicalIndex, node: $0.node, hostPU: $0.osIndex) }
        defer { cpus.forEach { $0.shutdown() } }
        for cpu in cpus {
            #expect(cpu.executor.isBound)
            for _ in 0..<50 {
                let pu = await cpu.currentHostPU()
                #expect(pu == cpu.hostPU)
            }
        }
    }

    @Test("N actors on this host spread round-robin as the mapping says")
    func oversubscribedSpread() async throws {
        let host = HostBinding.shared.machine
        let model = try TopologyLoader.load(.synthetic("pack:2 [numa] core:3 pu:1"))
        let map = CPUMapping(model: model, host: host, modelIsHost: false)
        let cpus = model.pus.map { CPU(id: $0.logicalIndex, node: $0.node, hostPU: map.hostPU[$0.logicalIndex]) }
        defer { cpus.forEach { $0.shutdown() } }
        try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for cpu in cpus { group.addTask { (cpu.id, await cpu.run { HostBinding.currentPU() }) } }
            for try await (id, pu) in group { #expect(pu == map.hostPU[id], "cpu \(id)") }
        }
    }

    @Test("Shutdown joins every thread: none is left behind")
    func cleanShutdown() async throws {
        // The threads are identified by kernel thread id (other suites start and stop threads
        // of their own meanwhile, so a count of the process's threads would prove nothing).
        var tids: [Int32] = []
        for _ in 0..<3 {
            let cpus = (0..<4).map { CPU(id: $0, node: 0, hostPU: HostBinding.shared.machine.pus[$0 % HostBinding.shared.machine.pus.count].osIndex) }
            for cpu in cpus { tids.append(await cpu.run { arch_gettid() }) }
            cpus.forEach { $0.shutdown() }
        }
        #expect(Set(tids).count == 12, "each CPU actor had a thread of its own")
        // pthread_join() returns when the kernel clears the thread's tid word, a moment before
        // the exited task is reaped and leaves /proc/self/task (seen under TSan): give the
        // reaping up to five seconds. A thread that was not joined never leaves.
        func alive() -> Set<Int32> {
            Set(((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []).compactMap { Int32($0) })
                .intersection(tids)
        }
        let deadline = Date().addingTimeInterval(5)
        while !alive().isEmpty && Date() < deadline { usleep(1_000) }
        #expect(alive().isEmpty, "threads still alive after shutdown: \(alive())")
    }
}
