import Foundation

/// SIGINT, SIGTERM and SIGHUP while a recording is on: noted every time and never fatal, so
/// the recorder always gets to pass the signal to the command and to remove its ftrace
/// instance. (A run's handlers let a second signal kill the process; `timeout` sends its
/// signal to the recorder and to the whole process group, which is two.)
enum RecorderSignals {
    nonisolated(unsafe) static var noted: Int32 = 0
    static let signals = [SIGINT, SIGTERM, SIGHUP]

    static func install() {
        noted = 0
        for s in signals { signal(s) { RecorderSignals.noted = $0 } }
    }

    static func reset() {
        for s in signals { signal(s, SIG_DFL) }
    }

    static var pending: Int32 { noted }
}
