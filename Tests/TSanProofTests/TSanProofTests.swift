import Testing
import Foundation
import Synchronization

/// Proof that the sanitizer really runs: two threads increment a plain counter with no
/// synchronisation. Under `swift test --sanitize=thread` TSan must report a data race and the
/// run must fail; CI checks that it does. Off unless NUMASTRESS_TSAN_PROOF=1, so the normal
/// test run never sees it.
@Suite struct TSanProofTests {
    final class Unsafe: @unchecked Sendable {
        var value = 0
        /// Threads that have arrived; read and written relaxed, which orders nothing for TSan.
        let arrived = Atomic<Int>(0)
    }

    @Test("A planted data race (TSan must report it)",
          .enabled(if: ProcessInfo.processInfo.environment["NUMASTRESS_TSAN_PROOF"] == "1"))
    func plantedRace() {
        // Ten rounds: on a loaded host one round's threads may still run one after the other.
        for _ in 0..<10 { race() }
    }

    func race() {
        let shared = Unsafe()
        // Raw pthreads (Foundation's Thread takes locks of its own as threads start and end,
        // which could order one thread's writes before the other's), and a rendezvous on a
        // relaxed counter, so both write at the same time and nothing orders them.
        var threads: [pthread_t] = []
        for _ in 0..<2 {
            let box = Unmanaged.passRetained(shared).toOpaque()
            var tid = pthread_t()
            pthread_create(&tid, nil, { arg in
                let s = Unmanaged<Unsafe>.fromOpaque(arg!).takeRetainedValue()
                s.arrived.add(1, ordering: .relaxed)
                while s.arrived.load(ordering: .relaxed) < 2 {}
                for _ in 0..<100_000 { s.value += 1 }
                return nil
            }, box)
            threads.append(tid)
        }
        for t in threads { pthread_join(t, nil) }
        // Without TSan the lost updates usually show here too; with it, the report is the point.
        #expect(shared.value <= 200_000)
    }
}
