/// The two lock behaviours the kernel offers for a shared structure: `spin` is
/// `spin_lock_irqsave()` (never sleeps), `mutex` is `struct mutex` (sleeps under contention).
public enum LockPolicy: String, CaseIterable, Sendable, Codable {
    case spin
    case mutex
}
