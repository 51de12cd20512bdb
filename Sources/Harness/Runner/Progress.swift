import CArch
import Foundation

/// Live progress on stderr while a phase runs: a bar with ops/s on a terminal, a plain line
/// per second otherwise (logs, CI). Reads each CPU's published counter; never touches CPU state.
final class Progress: @unchecked Sendable {
    let label: String
    let workers: [CPUWorker]
    let durationNS: UInt64
    let operations: Int?
    let tty = isatty(STDERR_FILENO) != 0
    private var thread: Thread?
    private let done = NSCondition()
    private let finished = DispatchSemaphore(value: 0)
    private var stopped = false

    init(label: String, workers: [CPUWorker], durationNS: UInt64, operations: Int?) {
        self.label = label; self.workers = workers; self.durationNS = durationNS; self.operations = operations
    }

    func start() {
        let t = Thread { [self] in loop(); finished.signal() }
        thread = t
        t.start()
    }

    func stop() {
        done.lock(); stopped = true; done.signal(); done.unlock()
        if thread != nil { finished.wait() }
        if tty { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }

    private func total() -> UInt64 { workers.reduce(0) { $0 + arch_load_relaxed_u64($1.progress) } }

    private func loop() {
        let start = Date()
        var lastOps = total(), lastTime = start
        let interval = tty ? 0.2 : 1.0
        while true {
            done.lock()
            if !stopped { _ = done.wait(until: Date().addingTimeInterval(interval)) }
            let stop = stopped
            done.unlock()
            if stop { return }
            let now = Date(), ops = total()
            let rate = Double(ops - lastOps) / max(now.timeIntervalSince(lastTime), 1e-6)
            lastOps = ops; lastTime = now
            let elapsed = now.timeIntervalSince(start)
            let fraction: Double
            if let n = operations {
                fraction = min(1, Double(ops) / Double(max(n * workers.filter { !$0.isConsumerOnly }.count, 1)))
            } else {
                fraction = min(1, elapsed / (Double(durationNS) / 1e9))
            }
            let rateText = Self.si(rate) + " ops/s"
            if tty {
                let width = 30, filled = Int(fraction * Double(width))
                let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
                FileHandle.standardError.write(Data(String(format: "\r%@ [%@] %3.0f%% %@  ", label, bar, fraction * 100, rateText).utf8))
            } else {
                FileHandle.standardError.write(Data(String(format: "%@ t=%.1fs %3.0f%% %@\n", label, elapsed, fraction * 100, rateText).utf8))
            }
        }
    }

    static func si(_ v: Double) -> String {
        if v >= 1e9 { return String(format: "%.2fG", v / 1e9) }
        if v >= 1e6 { return String(format: "%.2fM", v / 1e6) }
        if v >= 1e3 { return String(format: "%.1fk", v / 1e3) }
        return String(format: "%.0f", v)
    }
}
