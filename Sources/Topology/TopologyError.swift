/// A topology that cannot be loaded or used. The message is one line, fit for stderr.
public struct TopologyError: Error, Sendable, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
