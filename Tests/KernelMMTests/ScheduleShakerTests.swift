import Testing
import Foundation
@testable import KernelMM

/// Schedule shaking injects seeded yields and spins at lock and refill points; correctness
/// must not depend on the interleaving, so the invariants hold with it on.
@Suite(.serialized) struct ScheduleShakerTests {
    @Test("With shaking on, two threads stress shared zones and the zones come back as at boot")
    func shaken() throws {
        let k = try TestKernel.make("pack:1 [numa] core:2 pu:1", perNode: 8 << 20, lock: .mutex)
        ScheduleShaker.enable(seed: 1234, probability: 0.05)
        defer { ScheduleShaker.disable() }
        Threads.run(2) { t in
            let cpu = k.cpus[t]
            var rng = SplitMix(seed: UInt64(t))
            var held: [(PageRef, Int)] = []
            for _ in 0..<3000 {
                if held.count < 64 && rng.next() % 3 != 0, let p = k.allocPages(cpu, [.atomic, .nowarn], order: Int(rng.next() % 5)) {
                    held.append((p, Int(k.page(p).pointee.order)))
                } else if !held.isEmpty {
                    let (p, o) = held.removeLast()
                    k.freePages(cpu, p, order: o)
                }
            }
            for (p, o) in held { k.freePages(cpu, p, order: o) }
            k.drainPCP(cpu)
        }
        #expect(ScheduleShaker.count > 0, "the shaker did shake")
        #expect(k.checkPages(expectAllFree: true).isEmpty)
    }
}
