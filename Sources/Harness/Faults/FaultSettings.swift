/// `faults:` — the chance, per allocation of an object the kind applies to, that each kind of
/// misuse is injected there. Seeded from `run.seed`, on a generator of its own, so the
/// workload's own sequence of operations is the same with and without faults.
public struct FaultSettings: Sendable, Equatable {
    public var rates: [FaultKind: Double] = [:]
    public init(rates: [FaultKind: Double] = [:]) { self.rates = rates }

    /// The kinds with a rate above 0, in declaration order.
    public var kinds: [FaultKind] { FaultKind.allCases.filter { (rates[$0] ?? 0) > 0 } }
}
