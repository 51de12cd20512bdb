import Testing
import Foundation
@testable import Harness

/// One naming scheme for every machine-readable output: snake_case keys that read back into the
/// Swift names, a result.json that its JSON Schema accepts, and CSVs that concatenate.
@Suite(.serialized) struct JSONCodingTests {
    @Test("Swift names become snake_case keys, acronyms and their plurals as one word, and read back")
    func names() {
        let pairs = [("maxWaitNS", "max_wait_ns"), ("hostPUs", "host_pus"), ("perCPU", "per_cpu"),
                     ("toCPUPartial", "to_cpu_partial"), ("p999NS", "p999_ns"), ("tNS", "t_ns"),
                     ("synchronousIPIs", "synchronous_ipis"), ("nodeOSIndexes", "node_os_indexes"),
                     ("unknownGFPNames", "unknown_gfp_names"), ("sleptNSBy", "slept_ns_by"),
                     ("opsPerCPUSec", "ops_per_cpu_sec"), ("complete", "complete"), ("cpusOS", "cpus_os")]
        for (swift, json) in pairs {
            #expect(JSONCoding.snake(swift) == json)
            #expect(JSONCoding.camel(json) == swift)
        }
    }

    /// A short real run whose folder the tests below read.
    static func runFolder(_ root: String, seed: UInt64 = 1) async throws -> String {
        var cfg = try ConfigLoader.load(path: TestPaths.repoRoot + "/Configs/quickstart.yaml")
        cfg.override { $0.run.durationNS = 100_000_000; $0.run.warmupNS = 0; $0.run.seed = seed }
        var o = Runner.Options()
        o.probeAccessCost = false
        o.progress = false
        return try ResultWriter.write(try await Runner.run(cfg, options: o), root: root)
    }

    @Test("Every field name of a real result round-trips through the key mapping; result.json reads back equal")
    func roundTrip() async throws {
        let root = NSTemporaryDirectory() + "numastress-json-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let dir = try await Self.runFolder(root)
        let text = try String(contentsOfFile: dir + "/result.json", encoding: .utf8)
        let back = try ResultWriter.read(dir + "/result.json")
        #expect(ResultWriter.json(back) == text)
        var labels = Set<String>()
        Self.collectLabels(Mirror(reflecting: back), into: &labels)
        #expect(labels.count > 100)
        for l in labels { #expect(JSONCoding.camel(JSONCoding.snake(l)) == l, "\(l) → \(JSONCoding.snake(l))") }
        // No field key with a capital (data keys such as lock names, "lock.zone DMA.…", may have them).
        #expect(text.range(of: #""[A-Za-z0-9_]*[A-Z][A-Za-z0-9_]*" :"#, options: .regularExpression) == nil)
    }

    static func collectLabels(_ m: Mirror, into out: inout Set<String>) {
        for child in m.children {
            if let l = child.label, m.displayStyle == .struct { out.insert(l) }
            let sub = Mirror(reflecting: child.value)
            if sub.displayStyle == .struct || sub.displayStyle == .optional || sub.displayStyle == .collection {
                collectLabels(sub, into: &out)
            } else if sub.displayStyle == .dictionary {
                for kv in sub.children { if let v = Mirror(reflecting: kv.value).children.dropFirst().first?.value { collectLabels(Mirror(reflecting: v), into: &out) } }
            }
        }
    }

    @Test("result.json validates against docs/result.schema.json, which names every top-level field of RunResult")
    func schema() async throws {
        let root = NSTemporaryDirectory() + "numastress-schema-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let dir = try await Self.runFolder(root)
        let validator = try JSONSchemaValidator(file: TestPaths.repoRoot + "/docs/result.schema.json")
        let errors = validator.errors(try JSONValue.read(dir + "/result.json"))
        #expect(errors.isEmpty, "\(errors.prefix(20).joined(separator: "\n"))")
        // Taking a required field away, or adding one the schema does not know, is caught.
        guard case .object(var doc) = try JSONValue.read(dir + "/result.json") else { Issue.record("not an object"); return }
        doc["throughput"] = nil
        doc["surprise"] = .number(1)
        let bad = validator.errors(.object(doc))
        #expect(bad.contains("$: required key throughput is missing"))
        #expect(bad.contains("$.surprise: not in the schema (number)"))

        let props = (validator.root["properties"] as! [String: Any]).keys
        let fields = Mirror(reflecting: try ResultWriter.read(dir + "/result.json")).children.compactMap(\.label).map(JSONCoding.snake)
        #expect(Set(props) == Set(fields), "schema only: \(Set(props).subtracting(fields)); result only: \(Set(fields).subtracting(props))")

        // docs/RESULTS.md describes every top-level key and every file of the folder.
        let resultsDoc = try String(contentsOfFile: TestPaths.repoRoot + "/docs/RESULTS.md", encoding: .utf8)
        for k in props { #expect(resultsDoc.contains("`\(k)`"), "RESULTS.md does not describe result.json's \(k)") }
        for f in try FileManager.default.subpathsOfDirectory(atPath: dir) where !f.hasPrefix("latency/") || f.hasSuffix(".hgrm") {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dir + "/" + f, isDirectory: &isDir), !isDir.boolValue else { continue }
            let named = f.hasPrefix("latency/") ? "latency/<op>-<gfp class>.hgrm"
                : f.replacingOccurrences(of: #"node\d+"#, with: "node<N>", options: .regularExpression)
            #expect(resultsDoc.contains("`\(named)`") || resultsDoc.contains(named.split(separator: "/").last.map { "`\($0)`" } ?? ""), "RESULTS.md does not name \(f)")
        }
    }

    @Test("Every CSV row names its run, config and variant, so the CSVs of two runs concatenate and read back")
    func csvConcatenate() async throws {
        let root = NSTemporaryDirectory() + "numastress-csv-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let a = try await Self.runFolder(root, seed: 1), b = try await Self.runFolder(root, seed: 2)
        let ids = try [a, b].map { try ResultWriter.read($0 + "/result.json").run.id ?? "" }
        #expect(ids[0] != ids[1] && ids.allSatisfy { $0.hasPrefix("quickstart-") })
        for name in ["per_cpu.csv", "operations.csv", "locks.csv", "zones.csv", "caches.csv"] {
            let files = try [a, b].map { try String(contentsOfFile: "\($0)/\(name)", encoding: .utf8).split(separator: "\n").map(String.init) }
            #expect(files[0][0] == files[1][0], "\(name): headers differ")
            #expect(files[0][0].hasPrefix("run_id,config,variant,"))
            // The concatenation: one header, then both runs' rows, each run's rows told apart by run_id.
            let rows = (files[0].dropFirst() + files[1].dropFirst()).map { $0.split(separator: ",", omittingEmptySubsequences: false) }
            #expect(Set(rows.map { String($0[0]) }) == Set(ids), "\(name)")
            #expect(rows.allSatisfy { $0[1] == "quickstart" && $0[2] == "" })
            let width = files[0][0].split(separator: ",").count
            #expect(rows.allSatisfy { $0.count == width }, "\(name): a row's width differs from its header")
        }
    }
}
