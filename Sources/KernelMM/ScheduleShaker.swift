import CArch

/// Schedule shaking: seeded yields and short spins at lock acquire/release, PCP refill, slab
/// refill and remote-free points, to shake out interleavings a quiet run never takes (in the
/// spirit of PCT and shuttle's randomized schedulers). Each pinned thread draws from a
/// generator seeded by the run's seed and its CPU, so a seed replays the same decisions.
public enum ScheduleShaker {
    /// Turns shaking on: at each point, a chance of `probability` (0…1) to yield or spin.
    public static func enable(seed: UInt64, probability: Double) {
        arch_shake_configure(seed, UInt32(min(max(probability, 0), 1) * 65535))
    }

    public static func disable() { arch_shake_configure(0, 0) }

    /// Shakes done since the last `enable`.
    public static var count: UInt64 { arch_shake_count() }
}
