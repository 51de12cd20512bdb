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
