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
        for _ in 0..<2 {
            group.enter()
            Thread { for _ in 0..<100_000 { shared.value += 1 }; group.leave() }.start()
        }
        group.wait()
        // Without TSan the lost updates usually show here too; with it, the report is the point.
        #expect(shared.value <= 200_000)
    }
}
