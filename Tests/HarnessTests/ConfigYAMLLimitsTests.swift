import Foundation
import Testing
@testable import Harness

/// YAML no config needs and the composer must not expand: alias bombs, keys that are lists or
/// mappings, duplicate keys. Each is refused where it is written (Yams' composer took 16–41 s of
/// CPU on 500 bytes of aliases used as keys). The time is not asserted; the refusal and its place
/// are.
@Suite struct ConfigYAMLLimitsTests {
    /// `levels` anchors, each a list of nine aliases of the one before: 9^levels scalars.
    static func bomb(levels: Int, use: String) -> String {
        var lines = ["name: t", "a0: &a0 [x, x, x, x, x, x, x, x, x]"]
        for i in 1...levels {
            lines.append("a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 9).joined(separator: ", ") + "]")
        }
        return (lines + [use.replacingOccurrences(of: "TOP", with: "*a\(levels)")]).joined(separator: "\n") + "\n"
    }

    static let bad: [BadConfig] = [
        BadConfig(rule: "an alias bomb used as mapping keys (the reported 16–41 s case)",
                  yaml: bomb(levels: 6, use: "bomb: { ? TOP : 1, ? TOP : 2 }"),
                  expected: #"t.yaml:7:10: error: invalid YAML: aliases stand for more than 100000 nodes in all (this one repeats 66430 of "a4")"#),
        BadConfig(rule: "an alias bomb used as values",
                  yaml: bomb(levels: 9, use: "workloads: TOP"),
                  expected: #"t.yaml:7:10: error: invalid YAML: aliases stand for more than 100000 nodes in all"#),
        BadConfig(rule: "a list as a mapping key",
                  yaml: "name: t\n? [a, b]\n: 1\n",
                  expected: "t.yaml:2:3: error: invalid YAML: a mapping key must be a name, got a list"),
        BadConfig(rule: "a mapping as a mapping key, in flow style",
                  yaml: "name: t\nrun: { { a: 1 }: 2 }\n",
                  expected: "t.yaml:2:8: error: invalid YAML: a mapping key must be a name, got a mapping"),
        BadConfig(rule: "an alias of a list as a mapping key",
                  yaml: "name: t\nx: &l [1, 2]\nrun: { *l : 1 }\n",
                  expected: "t.yaml:3:8: error: invalid YAML: a mapping key must be a name, got an alias of a list or mapping"),
        BadConfig(rule: "a duplicate key deep in the config, at its second occurrence",
                  yaml: ConfigLoaderTests.head + "workloads:\n  - name: a\n    op: kmalloc\n    size: 64\n    size: 128\n",
                  expected: #"t.yaml:8:5: error: invalid YAML: duplicate key "size" (hint: first given at line 7, column 5)"#),
        BadConfig(rule: "a duplicate key given once plainly and once through an alias",
                  yaml: "x: &k name\nname: t\n*k : u\n",
                  expected: #"t.yaml:3:1: error: invalid YAML: duplicate key "name" (hint: first given at line 2, column 1)"#),
    ]

    @Test("hostile YAML is refused at the offending alias or key", arguments: bad)
    func refused(_ c: BadConfig) throws {
        do {
            _ = try ConfigLoaderTests.parse(c.yaml)
            Issue.record("accepted: \(c.rule)")
        } catch let e as ConfigError {
            #expect(e.description.hasPrefix(c.expected), "\(e.description)")
        } catch {
            Issue.record("not a ConfigError: \(error)")
        }
    }

    @Test("syntax errors keep libyaml's words and place; a second document and an undefined alias are refused")
    func syntax() {
        for (yaml, expected) in [
            ("name: t\n---\nname: u\n", "t.yaml:2:1: error: invalid YAML: a config is one YAML document, but another one starts here"),
            ("name: *x\n", #"t.yaml:1:7: error: invalid YAML: undefined alias "x""#),
            ("name: t\nrun: { duration: 5s\nworkloads: []\n",
             "t.yaml:3:10: error: invalid YAML: did not find expected ',' or '}' (hint: while parsing a flow mapping at 2:6)"),
            ("name: é\nrun: \u{01}\n", "t.yaml:2:6: error: invalid YAML: control characters are not allowed"),
        ] {
            #expect(throws: ConfigError.self) { try ConfigLoaderTests.parse(yaml) }
            do { _ = try ConfigLoaderTests.parse(yaml) } catch { #expect("\(error)" == expected) }
        }
    }

    @Test("aliases within the budget still work, as values and as scalar keys")
    func aliasesWithinBudget() throws {
        let c = try ConfigLoaderTests.parse(ConfigLoaderTests.head + """
            run: &r { seed: 3 }
            workloads:
              - &w { name: a, op: kmalloc, size: &s 128 }
              - { name: b, op: vmalloc, size: *s }

            """)
        #expect(c.run.seed == 3)
        #expect(c.workloads.map(\.name) == ["a", "b"] && c.workloads[1].mix[0].size == .fixed(128))
    }

    @Test("the budget counts what aliases stand for: just under it is accepted, just over it is not")
    func budgetEdge() throws {
        // A 1 000-scalar anchor used 99 times stands for 99 × 1 001 nodes (the list itself too).
        let anchor = "x: &big [" + Array(repeating: "1", count: 1000).joined(separator: ", ") + "]\n"
        func config(_ uses: Int) -> String {
            "name: t\n" + anchor + "y: [" + Array(repeating: "*big", count: uses).joined(separator: ", ") + "]\n"
        }
        for (uses, refused) in [(99, false), (100, true)] {
            do {
                _ = try YAMLComposer.compose(config(uses), file: "t.yaml")
                #expect(!refused, "\(uses) uses")
            } catch {
                #expect(refused, "\(uses) uses: \(error)")
                #expect(error.line == 3 && error.message.contains("aliases stand for more than"))
            }
        }
    }
}
