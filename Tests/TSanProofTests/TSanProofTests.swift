import Testing
import Foundation

/// Proof that the sanitizer really runs: two threads increment a plain counter with no
/// synchronisation. Under `swift test --sanitize=thread` TSan must report a data race and the
/// run must fail; CI checks that it does. Off unless NUMASTRESS_TSAN_PROOF=1, so the normal
/// test run never sees it.
@Suite struct TSanProofTests {
    final class Unsafe: @unchecked Sendable { var value = 0 }

    @Test("A planted data race (TSan must report it)",
          .enabled(if: ProcessInfo.processInfo.environment["NUMASTRESS_TSAN_PROOF"] == "1"))
    func plantedRace() {
        let shared = Unsafe()
        let group = DispatchGroup()
        let go = DispatchSemaphore(value: 0)
        // Both threads exist and wait before either writes, and nothing orders one thread's
        // writes before the other's: if the first ran to its end before the second was even
        // created, the group and the thread start could order them and hide the race.
        group.enter(); group.enter()
        for _ in 0..<2 {
            Thread { go.wait(); for _ in 0..<100_000 { shared.value += 1 }; group.leave() }.start()
        }
        go.signal(); go.signal()
        group.wait()
        // Without TSan the lost updates usually show here too; with it, the report is the point.
        #expect(shared.value <= 200_000)
    }
}
