/// Bounds on config values that are not about the machine: beyond them a value is a typo, and
/// the runner, which adds, multiplies and narrows these figures, would trap or never end. Public,
/// so that command-line overrides can be held to the same rules as the config.
public enum ConfigLimits {
    /// Longest duration of any kind (run, warm-up, OOM wait): 30 days. Far below the point where
    /// a deadline of now + duration overflows 64-bit nanoseconds (584 years).
    public static let maxDurationNS: UInt64 = 30 * 86_400 * 1_000_000_000
    /// Operations per CPU: at 10^8 a second, about three hours of one CPU.
    public static let maxOperations = 1_000_000_000_000
    /// Time one operation in at most this many.
    public static let maxSampleRate = 1_000_000
    /// Largest kmalloc, vmalloc or mmap size: a run records an object's size in 32 bits.
    public static let maxObjectBytes = Int(Int32.max)

    /// Refuses a duration above `maxDurationNS`.
    public static func checkDuration(_ ns: UInt64) throws(ConfigValueError) {
        guard ns <= maxDurationNS else {
            throw ConfigValueError("must be at most 30 days, got \(ns / 1_000_000_000) s", hint: "a run this long is most likely a typo in the unit")
        }
    }
}
