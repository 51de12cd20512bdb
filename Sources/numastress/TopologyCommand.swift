import ArgumentParser
import Harness
import Topology

struct TopologyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topology",
        abstract: "Show a machine shape like `numactl --hardware`, with its distance matrix and CPU mapping.",
        discussion: CLIConventions.exitStatus("0 shown; 2 the topology cannot be loaded (a bad XML, synthetic string or distance matrix)"))

    @Option(help: "hwloc synthetic description, e.g. \"pack:2 [numa] core:4 pu:2\".")
    var synthetic: String?

    @Option(help: "hwloc XML export of a machine.")
    var xml: String?

    @Flag(help: "Print the stable JSON form (schema numastress.topology/1).")
    var json = false

    func run() throws {
        if synthetic != nil && xml != nil { throw failInput("--synthetic and --xml exclude each other") }
        let source: TopologySource = synthetic.map { .synthetic($0) } ?? xml.map { .xml(path: $0) } ?? .host
        do {
            let report = try TopologyReport.make(source: source)
            print(json ? report.json() : report.text(), terminator: json ? "\n" : "")
        } catch let e as TopologyError {
            throw failInput(e.message)
        }
    }
}
