import Testing
import Foundation

/// `numastress compare`: deterministic counters must match exactly; timings are judged over
/// repetitions; results of different configs, or incomplete ones, are refused (exit 2).
@Suite(.serialized) struct CompareCommandTests {
    func config(size: Int) -> String {
        """
        name: cmp
        topology: { synthetic: "pack:2 [numa] core:1 pu:1" }
        memory: { per_node: 16MiB, zones: { DMA: 1MiB, DMA32: 3MiB } }
        run: { deterministic: true, operations: 3000, seed: 5 }
        workloads:
          - { name: w, cpus: all, op: kmalloc, size: \(size), lifetime: { keep: 100, order: random } }
        """
    }

    func runOnce(_ yaml: String, dir: String, tag: String, extra: [String] = []) throws -> String {
        let path = dir + "/\(tag).yaml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        let r = try CLI.run(["run", path, "--results", dir + "/\(tag)", "--quiet", "--no-probe"] + extra)
        #expect(r.status == 0, "\(r.stderr)")
        let runs = try FileManager.default.contentsOfDirectory(atPath: dir + "/\(tag)/cmp")
        return dir + "/\(tag)/cmp/\(runs[0])"
    }

    func tempDir(_ name: String) throws -> String {
        let dir = NSTemporaryDirectory() + "numastress-\(name)-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Rewrites a result.json through `edit` into a new folder and returns that folder.
    func edited(_ run: String, as name: String, _ edit: (inout [String: Any]) -> Void) throws -> String {
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run + "/result.json"))) as! [String: Any]
        edit(&json)
        let dir = run + "-" + name
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: dir + "/result.json"))
        return dir
    }

    @Test("Two runs of the same deterministic config compare equal; another config is refused unless --force, which shows the changed counters")
    func compare() throws {
        let dir = try tempDir("cmp")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = try runOnce(config(size: 64), dir: dir, tag: "a")
        let b = try runOnce(config(size: 64), dir: dir, tag: "b")
        let same = try CLI.run(["compare", a, b])
        #expect(same.status == 0, "\(same.stdout)")
        #expect(same.stdout.contains("0 failing"))
        let c = try runOnce(config(size: 512), dir: dir, tag: "c")
        let refused = try CLI.run(["compare", a, c])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("different configs"), "\(refused.stderr)")
        #expect(refused.stderr.contains("workloads[0].mix[0].size.fixed: 64 vs 512"), "\(refused.stderr)")
        #expect(refused.stderr.contains("--force"))
        let diff = try CLI.run(["compare", a, c, "--max-regression", "10%", "--force"])
        #expect(diff.status == 1)
        #expect(diff.stdout.contains("note: compared anyway (--force)"))
        #expect(diff.stdout.contains("CHANGED"))
        #expect(diff.stdout.contains("numa.locality") || diff.stdout.contains("zone."))
    }

    @Test("Timings over repetitions: a consistent 30 % drop is a REGRESSION with its p-value; one repetition is not judged, and --strict fails on it")
    func timings() throws {
        let dir = try tempDir("cmp-timing")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = try runOnce(config(size: 64), dir: dir, tag: "a")
        // One repetition each: every timing is listed as not judged, with the reason.
        let single = try CLI.run(["compare", a, a])
        #expect(single.status == 0)
        #expect(single.stdout.contains("throughput.ops_per_cpu_sec"), "\(single.stdout)")
        #expect(single.stdout.contains("1 vs 1 repetition(s): the U test cannot reach p < 0.05"))
        #expect(single.stdout.range(of: #"\d+ not judged \(--strict fails on them\)"#, options: .regularExpression) != nil)
        let strict = try CLI.run(["compare", a, a, "--strict"])
        #expect(strict.status == 1)
        #expect(strict.stdout.contains("--strict:"))

        // Five repetitions around the same figures, and five taking 30 % more CPU time.
        func reps(_ scale: Double) -> (inout [String: Any]) -> Void {
            return { json in
                var reps = json["repetitions"] as! [[String: Any]]
                let one = reps[0]
                reps = (0..<5).map { i in
                    var r = one
                    r["cpu_ns"] = Int(Double(one["cpu_ns"] as! Int) * scale * (1 + Double(i) * 0.01))
                    return r
                }
                json["repetitions"] = reps
            }
        }
        let base = try edited(a, as: "base", reps(1.0))
        let slow = try edited(a, as: "slow", reps(1.3))
        let same = try CLI.run(["compare", base, base, "--metric", "throughput"])
        #expect(same.status == 0, "\(same.stdout)")
        let r = try CLI.run(["compare", base, slow, "--metric", "throughput"])
        #expect(r.status == 1, "\(r.stdout)")
        let row = r.stdout.split(separator: "\n").first { $0.hasPrefix("throughput.ops_per_cpu_sec") } ?? ""
        #expect(row.contains("REGRESSION") && row.contains("0.008"), "\(r.stdout)")   // 2/252: the samples split completely
        let better = try CLI.run(["compare", slow, base, "--metric", "throughput"])
        #expect(better.status == 0 && better.stdout.contains("improved"))
    }

    @Test("Ratios of concurrent runs: a slow-path share from 0.5 to 0.8 is a REGRESSION; a move below the absolute floor is not")
    func ratios() throws {
        let dir = try tempDir("cmp-ratio")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = try runOnce(config(size: 64), dir: dir, tag: "a")
        // Pretend the runs were concurrent (ratios are judged only there) with five repetitions.
        func with(_ share: Double, _ remote: Double) -> (inout [String: Any]) -> Void {
            return { json in
                var run = json["run"] as! [String: Any]
                run["mode"] = "concurrent"
                json["run"] = run
                let one = (json["repetitions"] as! [[String: Any]])[0]
                json["repetitions"] = (0..<5).map { i -> [String: Any] in
                    var r = one
                    let jitter = 1 + Double(i) * 0.002
                    r["ratios"] = ["slab.kmalloc-64.alloc_slowpath_share": share * jitter, "numa.remote_frees_per_op": remote * jitter]
                    return r
                }
            }
        }
        let base = try edited(a, as: "base", with(0.5, 0.01))
        let worse = try edited(a, as: "worse", with(0.8, 0.03))
        let r = try CLI.run(["compare", base, worse, "--metric", "ratio."])
        #expect(r.status == 1, "\(r.stdout)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("ratio.slab.kmalloc-64.alloc_slowpath_share") && $0.contains("REGRESSION") }, "\(r.stdout)")
        // 0.01 -> 0.03 per operation: tripled, but by 0.02, under the 0.05 floor: ok (hidden).
        #expect(!lines.contains { $0.hasPrefix("ratio.numa.remote_frees_per_op") }, "\(r.stdout)")
    }

    @Test("An incomplete result is refused with one line naming the file")
    func incomplete() throws {
        let dir = try tempDir("cmp-incomplete")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = try runOnce(config(size: 64), dir: dir, tag: "a")
        let cut = try edited(a, as: "cut") { json in
            json["complete"] = false
            json["stop_reason"] = "interrupted (SIGINT)"
        }
        for (x, y) in [(a, cut), (cut, a)] {
            let r = try CLI.run(["compare", x, y, "--force"])
            #expect(r.status == 2)
            let lines = r.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(r.stderr)")
            #expect(r.stderr.contains(cut + "/result.json is an incomplete result (interrupted (SIGINT))"), "\(r.stderr)")
        }
    }

    @Test("--inject-delay is recorded, left out of the config identity, and said by compare; --repetitions overrides the config")
    func injectDelay() throws {
        let dir = try tempDir("cmp-delay")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = try runOnce(config(size: 64), dir: dir, tag: "a", extra: ["--repetitions", "2"])
        let d = try runOnce(config(size: 64), dir: dir, tag: "d", extra: ["--inject-delay", "200ns"])
        let json = { (p: String) in try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: p + "/result.json"))) as! [String: Any] }
        let ja = try json(a), jd = try json(d)
        #expect((ja["repetitions"] as! [Any]).count == 2)
        #expect(((jd["run"] as! [String: Any])["inject_delay_ns"] as? Int) == 200)
        let hash = { (j: [String: Any]) in ((j["config"] as! [String: Any])["identity"] as! [String: Any])["hash"] as! String }
        #expect(hash(ja) == hash(jd))
        let r = try CLI.run(["compare", a, d])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("this result ran with --inject-delay 200ns"))
        let bad = try CLI.run(["run", dir + "/a.yaml", "--repetitions", "0", "--results", dir + "/x"])
        #expect(bad.status == 2 && bad.stderr.contains("--repetitions"))
    }
}
