import Testing
@testable import Harness

/// The peer comparison's bookkeeping: which malloc a process really runs on, which peers are
/// installed, and the ratio table against glibc.
@Suite struct AllocatorComparisonTests {
    @Test("A preloaded allocator is recognised from /proc/self/maps; nothing preloaded is glibc")
    func identify() {
        let maps = """
        7efd49400000-7efd49409000 r--p 00000000 fe:00 4907305                    /usr/lib/x86_64-linux-gnu/libjemalloc.so.2
        7efd4a000000-7efd4a022000 r--p 00000000 fe:00 4907001                    /usr/lib/x86_64-linux-gnu/libc.so.6
        """
        #expect(MallocIdentity.identify(maps: maps) == "jemalloc (libjemalloc.so.2)")
        #expect(MallocIdentity.identify(maps: "7f00-7f01 r--p 0 fe:00 1 /usr/lib/x86_64-linux-gnu/libc.so.6\n7f02-7f03 rw-p 0 00:00 0 [heap]") == "glibc")
        // The test process itself runs on glibc's malloc, read from the real maps file.
        #expect(MallocIdentity.current() == "glibc")
    }

    @Test("Peers whose library is missing are named with the Debian package to install")
    func contenders() {
        let (found, missing) = AllocatorComparison.contenders(libraryDirectories: ["/nonexistent"])
        #expect(found.map(\.allocator) == ["kernel", "kernel", "malloc"])
        #expect(found.allSatisfy { $0.preload == nil })
        // The second slab row is the same traffic with sheaves on every cache, in its own folder.
        #expect(found[0].arguments.isEmpty && found[1].arguments == ["--sheaves", "all"])
        #expect(Set(found.map(\.folder)).count == found.count)
        #expect(missing.map(\.package) == ["libjemalloc2", "libtcmalloc-minimal4", "libmimalloc2.0"])
    }

    @Test("A malloc row whose run failed only the config's slab expectations (exit 4) still counts; a slab row's does not")
    func expectationFailures() {
        let (found, _) = AllocatorComparison.contenders(libraryDirectories: ["/nonexistent"])
        let slab = found[0], glibc = found[2]
        #expect(AllocatorComparison.usable(glibc, exitStatus: 0) && AllocatorComparison.usable(glibc, exitStatus: 4))
        #expect(!AllocatorComparison.usable(glibc, exitStatus: 1) && !AllocatorComparison.usable(glibc, exitStatus: 2))
        #expect(AllocatorComparison.usable(slab, exitStatus: 0) && !AllocatorComparison.usable(slab, exitStatus: 4))
    }

    @Test("The table gives time per operation as a ratio to glibc, from the median run")
    func table() {
        let slab = AllocatorComparison.Contender(label: "slab", allocator: "kernel", preload: nil)
        let glibc = AllocatorComparison.Contender(label: "glibc malloc", allocator: "malloc", preload: nil)
        let je = AllocatorComparison.Contender(label: "jemalloc", allocator: "malloc", preload: "/x/libjemalloc.so.2")
        let rows = [
            AllocatorComparison.Row(contender: slab, mallocSeen: "glibc", opsPerSec: [8e6, 1e6, 9e6], cpus: 2, p99NS: 100),
            AllocatorComparison.Row(contender: glibc, mallocSeen: "glibc", opsPerSec: [4e6, 4e6, 4e6], cpus: 2, p99NS: 200),
            AllocatorComparison.Row(contender: je, mallocSeen: "glibc", opsPerSec: [2e6], cpus: 2, p99NS: 300),
        ]
        #expect(rows[0].median == 8e6)
        #expect(rows[0].nsPerOp == 250)
        let lines = AllocatorComparison.table(rows).split(separator: "\n")
        #expect(lines.count == 4)
        #expect(lines[1].contains(" 0.50 "))   // slab: 250 ns against glibc's 500 ns
        #expect(lines[2].contains(" 1.00 "))
        #expect(lines[3].contains(" 2.00 "))
        // jemalloc was preloaded but the child ran on glibc: that row must not be believed.
        #expect(AllocatorComparison.preloadTook(rows[1]))
        #expect(!AllocatorComparison.preloadTook(rows[2]))
    }
}
