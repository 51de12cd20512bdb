import Foundation

/// Real OS threads for race tests: Swift's cooperative pool has as many threads as cores, and a
/// spinning task can starve the task that would release it.
enum Threads {
    /// Runs `body(i)` on `count` new threads at once and joins them.
    static func run(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let group = DispatchGroup()
        for i in 0..<count {
            group.enter()
            let t = Thread { body(i); group.leave() }
            t.start()
        }
        group.wait()
    }

    /// Starts `body` on a new thread; the returned group is left when it is done.
    static func start(_ body: @escaping @Sendable () -> Void) -> DispatchGroup {
        let group = DispatchGroup()
        group.enter()
        Thread { body(); group.leave() }.start()
        return group
    }
}

/// A locked bag of values passed between CPUs (test plumbing, not the allocator under test).
final class Mailbox<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [T] = []
    func put(_ x: T) { lock.lock(); items.append(x); lock.unlock() }
    func take() -> T? { lock.lock(); defer { lock.unlock() }; return items.popLast() }
}
