/// One counter per GFP class (atomic, nowait, blocking), kept inline in per-CPU event structs
/// so that counting costs no allocation. The kernel has no per-class counters; they are what
/// makes "GFP_ATOMIC never sleeps, GFP_KERNEL reclaims" a figure rather than a claim.
public struct GFPClassCounts: Sendable, Codable, Equatable {
    public var atomic: UInt64 = 0
    public var nowait: UInt64 = 0
    public var blocking: UInt64 = 0

    public init() {}

    @inlinable public subscript(_ c: GFPClass) -> UInt64 {
        get { c == .atomic ? atomic : c == .nowait ? nowait : blocking }
        set {
            switch c { case .atomic: atomic = newValue; case .nowait: nowait = newValue; case .blocking: blocking = newValue }
        }
    }

    public var total: UInt64 { atomic + nowait + blocking }

    public static func + (a: GFPClassCounts, b: GFPClassCounts) -> GFPClassCounts {
        var r = GFPClassCounts()
        r.atomic = a.atomic + b.atomic; r.nowait = a.nowait + b.nowait; r.blocking = a.blocking + b.blocking
        return r
    }
}
