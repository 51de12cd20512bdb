/// How a shared structure is synchronised. `spin` is `spin_lock_irqsave()` (never sleeps),
/// `mutex` is `struct mutex` (sleeps under contention): the two lock behaviours the kernel
/// offers. `atomic` is no lock at all: the structure changes by compare-and-swap only
/// (`AtomicBuddy`, zone free areas only; the kernel has no such policy).
public enum LockPolicy: String, CaseIterable, Sendable, Codable {
    case spin
    case mutex
    case atomic

    /// The policies that are locks (every structure offers these; `atomic` only the zone).
    public static let locks: [LockPolicy] = [.spin, .mutex]
}
