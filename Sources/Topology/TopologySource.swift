/// Where a machine shape comes from: the running host, an hwloc synthetic description, or an
/// hwloc XML export of another machine. Models the inputs of `hwloc_topology_set_*()`.
public enum TopologySource: Sendable, Equatable, CustomStringConvertible {
    case host
    case synthetic(String)
    case xml(path: String)

    public var description: String {
        switch self {
        case .host: return "host"
        case .synthetic(let s): return "synthetic \"\(s)\""
        case .xml(let p): return "xml \(p)"
        }
    }

    /// True when the shape is the machine we run on, so logical CPUs map 1:1 onto host PUs.
    public var isHost: Bool { self == .host }
}
