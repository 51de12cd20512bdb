/// A node's store of whole sheaves for one cache (`struct node_barn`, mm/slub.c, Linux 6.18+):
/// full sheaves that CPUs of the node gave up when freeing, empty ones they gave up when
/// allocating, each list behind one spin lock. A CPU whose main and spare sheaves are both empty
/// (or both full) trades a whole sheaf here instead of going to the slabs one object at a time.
final class NodeBarn: @unchecked Sendable {
    /// `MAX_FULL_SHEAVES`: `replaceFull` refuses beyond it (`barn_put_full_sheaf()` of a CPU
    /// that found no empty sheaf may still add one, as in the kernel). `MAX_EMPTY_SHEAVES` only
    /// limits the kfree_rcu path, which the model does not have.
    static let maxFull = 10

    let lock: KernelLock
    var full: UnsafeMutablePointer<SlabSheaf>?
    var empty: UnsafeMutablePointer<SlabSheaf>?
    var fullCount = 0
    var emptyCount = 0

    init(name: String, log: KernelLog) {
        lock = KernelLock(name: name, policy: .spin, log: log)
    }

    // Lists, lock held.

    func push(_ s: UnsafeMutablePointer<SlabSheaf>, full isFull: Bool) {
        if isFull { s.pointee.next = full; full = s; fullCount += 1 } else { s.pointee.next = empty; empty = s; emptyCount += 1 }
    }

    func pop(full isFull: Bool) -> UnsafeMutablePointer<SlabSheaf>? {
        guard let s = isFull ? full : empty else { return nil }
        if isFull { full = s.pointee.next; fullCount -= 1 } else { empty = s.pointee.next; emptyCount -= 1 }
        s.pointee.next = nil
        return s
    }

    /// `barn_replace_empty_sheaf()`: an empty sheaf in, a full one out; nil (and nothing put in)
    /// when there is no full sheaf. The empty list takes it whatever its length.
    func replaceEmpty(_ old: UnsafeMutablePointer<SlabSheaf>, cpu: CPUContext) -> UnsafeMutablePointer<SlabSheaf>? {
        lock.lock(mayBlock: false, cpu: cpu)
        defer { lock.unlock(cpu: cpu) }
        guard let s = pop(full: true) else { return nil }
        push(old, full: false)
        return s
    }

    /// `barn_replace_full_sheaf()`: a full sheaf in, an empty one out. Refused when the barn
    /// holds `maxFull` full sheaves already (`tooFull`, -E2BIG) or has no empty one (-ENOMEM).
    enum ReplaceFull { case done(UnsafeMutablePointer<SlabSheaf>), tooFull, noEmpty }

    func replaceFull(_ old: UnsafeMutablePointer<SlabSheaf>, cpu: CPUContext) -> ReplaceFull {
        lock.lock(mayBlock: false, cpu: cpu)
        defer { lock.unlock(cpu: cpu) }
        if fullCount >= Self.maxFull { return .tooFull }
        guard let s = pop(full: false) else { return .noEmpty }
        push(old, full: true)
        return .done(s)
    }

    /// `barn_get_empty_sheaf()`.
    func getEmpty(cpu: CPUContext) -> UnsafeMutablePointer<SlabSheaf>? {
        lock.lock(mayBlock: false, cpu: cpu)
        defer { lock.unlock(cpu: cpu) }
        return pop(full: false)
    }

    /// A full sheaf for a CPU that has no main sheaf yet to give in.
    func getFull(cpu: CPUContext) -> UnsafeMutablePointer<SlabSheaf>? {
        lock.lock(mayBlock: false, cpu: cpu)
        defer { lock.unlock(cpu: cpu) }
        return pop(full: true)
    }

    /// `barn_put_empty_sheaf()`, `barn_put_full_sheaf()`: onto the list whatever its length
    /// (the limits are checked where the kernel checks them, in `replaceFull`).
    func putEmpty(_ s: UnsafeMutablePointer<SlabSheaf>, cpu: CPUContext) {
        lock.lock(mayBlock: false, cpu: cpu)
        push(s, full: false)
        lock.unlock(cpu: cpu)
    }

    func putFull(_ s: UnsafeMutablePointer<SlabSheaf>, cpu: CPUContext) {
        lock.lock(mayBlock: false, cpu: cpu)
        push(s, full: true)
        lock.unlock(cpu: cpu)
    }

    /// Everything the barn holds, taken off its lists (`barn_shrink()`).
    func takeAll(cpu: CPUContext) -> [UnsafeMutablePointer<SlabSheaf>] {
        lock.lock(mayBlock: false, cpu: cpu)
        defer { lock.unlock(cpu: cpu) }
        var out: [UnsafeMutablePointer<SlabSheaf>] = []
        while let s = pop(full: true) { out.append(s) }
        while let s = pop(full: false) { out.append(s) }
        return out
    }
}
