import Foundation

/// One `expect:` line: two arithmetic expressions over figures and numbers, compared —
/// `blocking.latency.p99 > 4 * atomic.latency.p99`, `mutex.locks.zone.sleeps > 0`. A figure
/// may start with a variant's name (`vary:`); without one, the line must hold in every variant.
public struct Expectation: Sendable, Equatable {
    public indirect enum Expr: Sendable, Equatable {
        case number(Double)
        /// `variant` nil: the variant being checked (or the only run).
        case figure(variant: String?, name: String)
        case binary(Character, Expr, Expr)
    }

    public enum Comparison: String, Sendable, CaseIterable {
        case eq = "==", ne = "!=", le = "<=", ge = ">=", lt = "<", gt = ">"

        func holds(_ a: Double, _ b: Double) -> Bool {
            switch self {
            case .eq: return a == b
            case .ne: return a != b
            case .le: return a <= b
            case .ge: return a >= b
            case .lt: return a < b
            case .gt: return a > b
            }
        }
    }

    public var text: String
    public var line: Int
    public var lhs: Expr
    public var comparison: Comparison
    public var rhs: Expr

    /// True when every figure names its variant: the line is checked once, across variants.
    public var isCrossVariant: Bool { lhs.figures.allSatisfy { $0.variant != nil } && rhs.figures.allSatisfy { $0.variant != nil } }

    /// Evaluates against `figures(variant)`; `current` fills figures without a variant.
    func check(current: String?, _ figures: (String?) -> Figures?) -> ExpectationOutcome {
        var missing: [String] = []
        func eval(_ e: Expr) -> Double {
            switch e {
            case .number(let x): return x
            case .figure(let variant, let name):
                guard let value = figures(variant ?? current)?[name] else {
                    missing.append((variant.map { $0 + "." } ?? "") + name)
                    return .nan
                }
                return value
            case .binary(let op, let a, let b):
                let x = eval(a), y = eval(b)
                switch op {
                case "+": return x + y
                case "-": return x - y
                case "*": return x * y
                default: return y == 0 ? .nan : x / y
                }
            }
        }
        let a = eval(lhs), b = eval(rhs)
        let ok = missing.isEmpty && !a.isNaN && !b.isNaN && comparison.holds(a, b)
        let note = !missing.isEmpty ? "not measured: " + missing.joined(separator: ", ")
            : (a.isNaN || b.isNaN) ? "division by zero" : nil
        return ExpectationOutcome(text: text, line: line, variant: isCrossVariant ? nil : current, comparison: comparison.rawValue,
                                  lhs: a.isNaN ? nil : a, rhs: b.isNaN ? nil : b, passed: ok, note: note)
    }
}

extension Expectation.Expr {
    var figures: [(variant: String?, name: String)] {
        switch self {
        case .number: return []
        case .figure(let v, let n): return [(v, n)]
        case .binary(_, let a, let b): return a.figures + b.figures
        }
    }
}

/// An expectation as checked: both sides' values and the verdict, for the summary and result.json.
public struct ExpectationOutcome: Codable, Sendable, Equatable {
    public var text: String
    /// Line of the config it came from.
    public var line: Int
    /// The variant it was checked in (nil: a plain run, or a line comparing variants).
    public var variant: String?
    /// `==`, `<`…: how the two sides were compared.
    /// (Absent in results written before it was recorded.)
    public var comparison: String? = nil
    public var lhs: Double?
    public var rhs: Double?
    public var passed: Bool
    /// Why it could not be decided (a figure not measured, a division by zero).
    public var note: String?
}
