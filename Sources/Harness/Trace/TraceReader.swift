import Foundation

/// Reads a trace file as a stream: fixed-size chunks through `read(2)`, lines cut with
/// `memchr`, each event line handed to the caller as it is parsed, so a trace of any length
/// runs in constant memory (the replay keeps only the operations it builds). `#` lines fill
/// the `TraceHeader`; blank lines are ignored; anything else that is not an event of
/// include/trace/events/kmem.h is counted as malformed or foreign.
public struct TraceReader {
    public struct Malformed: Error, CustomStringConvertible, Sendable {
        public var file: String
        public var line: Int
        public var reason: String
        public var description: String { "\(file):\(line): malformed trace line: \(reason)" }
    }

    public struct Counts: Sendable, Equatable {
        public var lines = 0
        public var events = 0
        /// Lines that are not trace lines (and the first few, with their reasons).
        public var malformed = 0
        public var firstMalformed: [String] = []
        /// Trace lines of events other than the kmem ones.
        public var foreign = 0
        public var bytes = 0
    }

    public let path: String
    public private(set) var header = TraceHeader()
    public private(set) var counts = Counts()
    var parser = TraceLineParser()
    /// Stop at the first malformed line (throwing `Malformed` with FILE:LINE).
    public var strict = false
    static let chunk = 1 << 20

    public init(path: String, strict: Bool = false) { self.path = path; self.strict = strict }

    /// Cache names by `TraceEvent.nameID`.
    public var names: [String] { parser.names }
    /// GFP names in the trace that the model does not know (dropped from the masks).
    public var unknownGFPNames: [String] { parser.gfp.unknownNames.sorted() }

    /// Reads the whole file, calling `body` for each kmem event in file order.
    public mutating func read(_ body: (TraceEvent, [String]) throws -> Void) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw TraceError("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: Self.chunk * 2)
        defer { buffer.deallocate() }
        var held = 0          // bytes of an unfinished line kept at the front of the buffer
        var lineNo: Int32 = 0
        var snapshot: String? = nil
        while true {
            if held == Self.chunk * 2 { throw TraceError("\(path):\(lineNo + 1): a line longer than \(Self.chunk) bytes") }
            let got = Foundation.read(fd, buffer + held, Self.chunk * 2 - held)
            if got < 0 { if errno == EINTR { continue }; throw TraceError("cannot read \(path): \(String(cString: strerror(errno)))") }
            counts.bytes += got
            let end = held + got
            var start = 0
            while start < end {
                guard let nl = memchr(buffer + start, 0x0A, end - start) else { break }
                let stop = buffer.distance(to: nl.assumingMemoryBound(to: UInt8.self))
                lineNo += 1
                try take(UnsafeBufferPointer(start: buffer + start, count: stop - start), lineNo, &snapshot, body)
                start = stop + 1
            }
            if got == 0 {
                if start < end { lineNo += 1; try take(UnsafeBufferPointer(start: buffer + start, count: end - start), lineNo, &snapshot, body) }
                break
            }
            held = end - start
            if held > 0 && start > 0 { memmove(buffer, buffer + start, held) }
        }
    }

    /// The header alone: the `#` lines before the first event (the trailer is not read).
    public static func header(path: String) throws -> TraceHeader {
        guard let f = fopen(path, "r") else { throw TraceError("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { fclose(f) }
        var h = TraceHeader()
        var snapshot: String? = nil
        var line: UnsafeMutablePointer<CChar>? = nil
        var cap = 0
        defer { free(line) }
        while getline(&line, &cap, f) > 0 {
            var s = String(cString: line!)
            if s.hasSuffix("\n") { s.removeLast() }
            if s.isEmpty { continue }
            guard s.hasPrefix("#") else { break }
            h.absorb(s, currentSnapshot: &snapshot)
        }
        return h
    }

    private mutating func take(_ line: UnsafeBufferPointer<UInt8>, _ number: Int32, _ snapshot: inout String?,
                               _ body: (TraceEvent, [String]) throws -> Void) throws {
        counts.lines += 1
        var l = line
        if let last = l.last, last == 0x0D { l = UnsafeBufferPointer(rebasing: l.dropLast()) }
        guard let first = l.first else { return }
        if first == 0x23 {   // '#'
            header.absorb(String(decoding: l, as: UTF8.self), currentSnapshot: &snapshot)
            return
        }
        switch parser.parse(l, number: number) {
        case .event(let e):
            counts.events += 1
            try body(e, parser.names)
        case .foreign:
            counts.foreign += 1
        case .malformed(let why):
            if strict { throw Malformed(file: path, line: Int(number), reason: why) }
            counts.malformed += 1
            if counts.firstMalformed.count < 5 { counts.firstMalformed.append("\(path):\(number): \(why)") }
        }
    }
}

/// A trace that cannot be recorded or read, in one line.
public struct TraceError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ message: String) { description = message }
}
