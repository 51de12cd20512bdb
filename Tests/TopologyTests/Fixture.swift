import Foundation

/// Paths of the hwloc XML exports kept under Fixtures/ (from hwloc's own test suite).
enum Fixture {
    static func xml(_ name: String) -> String {
        Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: "xml")!.path
    }
    static let twoNode = xml("24em64t-2n6c2t-pci")
    static let fourNodeCoD = xml("28intel64-2p2g7c-CoDgroups.v1tov2")
    static let amdSparse = xml("16amd64-8n2c-cpusets")
}

extension Fixture {
    /// A QEMU guest (`scripts/numa-vm --nodes 3 --memonly 2`) exported with `lstopo --of xml`:
    /// nodes 0 and 1 own two CPUs each, node 2 has memory only; hwloc lists them in OS order.
    static let qemuMemoryOnly = xml("qemu-3n-memonly")
    /// The same guest with `--hmat`: hwloc hangs node 2 under node 0's package (its HMAT
    /// initiator), so its logical order is P#0, P#2, P#1, and it reports latency and bandwidth.
    static let qemuMemoryOnlyHMAT = xml("qemu-3n-memonly-hmat")
}
