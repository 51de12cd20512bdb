/// A config that cannot run, located the way compilers locate errors, so editors and CI logs can
/// jump to it: `Configs/x.yaml:12:9: error: run.duration: a unit is required (hint: e.g. 5s)`.
/// Line and column are 1-based and point at the offending key or value.
public struct ConfigError: Error, CustomStringConvertible, Sendable, Equatable, Codable {
    public var file: String
    public var line: Int
    public var column: Int
    public var message: String
    public var hint: String?

    public init(file: String, line: Int, column: Int, message: String, hint: String? = nil) {
        self.file = file; self.line = line; self.column = column; self.message = message; self.hint = hint
    }

    public var description: String {
        "\(file):\(line):\(column): error: \(message)" + (hint.map { " (hint: \($0))" } ?? "")
    }
}

/// A value that is wrong on its own (a size without a known unit, a cpulist that selects
/// nothing), before anyone knows where it was written. The loader places it at the value's node
/// and turns it into a `ConfigError`; code that builds values by hand can print it as is.
public struct ConfigValueError: Error, CustomStringConvertible, Sendable, Equatable {
    public var message: String
    public var hint: String?

    public init(_ message: String, hint: String? = nil) { self.message = message; self.hint = hint }

    public var description: String { message + (hint.map { " (hint: \($0))" } ?? "") }
}
