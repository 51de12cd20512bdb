import Testing
import Foundation
@testable import KernelMM

/// Lock policies (spin_lock_irqsave vs mutex_lock) behind one interface, with lock_stat-style figures.
@Suite struct KernelLockTests {
    final class Counter: @unchecked Sendable { var value = 0 }

    @Test("Both policies exclude: concurrent increments under the lock are never lost", arguments: LockPolicy.locks)
    func mutualExclusion(policy: LockPolicy) {
        let lock = KernelLock(name: "test", policy: policy)
        let counter = Counter()
        let threads = 3, perThread = 20_000
        Threads.run(threads) { t in
            let cpu = CPUContext(id: t, node: 0, zoneCount: 1)
            for _ in 0..<perThread { lock.withLock(mayBlock: true, cpu: cpu) { counter.value += 1 } }
        }
        #expect(counter.value == threads * perThread)
        let s = lock.snapshot()
        #expect(s.acquisitions == UInt64(threads * perThread))
        #expect(s.waitHistogram.reduce(0, +) == s.acquisitions)
        #expect(s.holdHistogram.reduce(0, +) == s.acquisitions)
        #expect(s.contended <= s.acquisitions)
        if policy == .spin { #expect(s.sleeps == 0, "a spin lock never sleeps") }
    }

    @Test("A held spin lock puts the CPU in an atomic section, as spin_lock disables preemption")
    func spinIsAtomic() {
        let lock = KernelLock(name: "z", policy: .spin)
        let cpu = CPUContext(id: 0, node: 0, zoneCount: 1)
        lock.lock(mayBlock: true, cpu: cpu)
        #expect(cpu.inAtomic)
        lock.unlock(cpu: cpu)
        #expect(!cpu.inAtomic)
    }

    @Test("Contended mutex: a blocking caller sleeps, a non-blocking one spins on trylock and never sleeps")
    func mutexContention() throws {
        let lock = KernelLock(name: "m", policy: .mutex)
        let holder = CPUContext(id: 0, node: 0, zoneCount: 1)
        for mayBlock in [true, false] {
            lock.resetStats()
            lock.lock(mayBlock: true, cpu: holder)
            let waiter = Threads.start {
                let cpu = CPUContext(id: 1, node: 0, zoneCount: 1)
                lock.lock(mayBlock: mayBlock, cpu: cpu)
                lock.unlock(cpu: cpu)
            }
            usleep(50_000)
            lock.unlock(cpu: holder)
            waiter.wait()
            let s = lock.snapshot()
            #expect(s.contended == 1)
            if mayBlock { #expect(s.sleeps == 1); #expect(s.spins == 0) }
            else { #expect(s.sleeps == 0); #expect(s.spins > 0) }
            #expect(s.maxWaitNS >= 10_000_000)
        }
    }

    @Test("Sleeping on a mutex inside an atomic section is reported: BUG: sleeping function called from invalid context")
    func sleepInAtomic() throws {
        let log = KernelLog()
        let lock = KernelLock(name: "node partial", policy: .mutex, log: log)
        let holder = CPUContext(id: 0, node: 0, zoneCount: 1)
        lock.lock(mayBlock: true, cpu: holder)
        let waiter = Threads.start {
            let cpu = CPUContext(id: 1, node: 0, zoneCount: 1)
            cpu.atomicSection { lock.withLock(mayBlock: true, cpu: cpu) {} }
        }
        usleep(20_000)
        lock.unlock(cpu: holder)
        waiter.wait()
        #expect(log.count(.sleepInAtomic) == 1)
        #expect(log.text.contains("BUG: sleeping function called from invalid context at node partial"))
        #expect(lock.snapshot().sleeps == 0, "it spun instead of sleeping")
    }
}
