import Foundation

/// The part of JSON Schema (draft 2020-12) that docs/result.schema.json uses: `type`,
/// `properties`, `required`, `additionalProperties`, `items`, `const`, `enum`, `oneOf` and
/// local `$ref`s. Returns every violation as "path: what", so a test failure names the field.
struct JSONSchemaValidator {
    let root: [String: Any]

    init(file: String) throws {
        root = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file))) as! [String: Any]
    }

    func errors(_ value: JSONValue) -> [String] { check(value, root, "$") }

    private func check(_ v: JSONValue, _ schema: [String: Any], _ path: String) -> [String] {
        if let ref = schema["$ref"] as? String {
            let name = ref.replacingOccurrences(of: "#/$defs/", with: "")
            guard let defs = root["$defs"] as? [String: Any], let s = defs[name] as? [String: Any] else { return ["\(path): unknown $ref \(ref)"] }
            return check(v, s, path)
        }
        var out: [String] = []
        if let c = schema["const"] as? String, v != .string(c) { out.append("\(path): expected \(c), got \(v)") }
        if let e = schema["enum"] as? [String], !e.contains(where: { v == .string($0) }) { out.append("\(path): \(v) is not one of \(e)") }
        if let alts = schema["oneOf"] as? [[String: Any]] {
            let passing = alts.filter { check(v, $0, path).isEmpty }.count
            if passing != 1 { out.append("\(path): matches \(passing) of the oneOf alternatives, not exactly one") }
        }
        if let t = schema["type"] {
            let types = (t as? [String]) ?? [t as! String]
            guard types.contains(v.type) else { return out + ["\(path): expected \(types.joined(separator: " or ")), got \(v.type)"] }
        }
        if case .object(let obj) = v {
            let props = schema["properties"] as? [String: Any] ?? [:]
            for r in schema["required"] as? [String] ?? [] where obj[r] == nil { out.append("\(path): required key \(r) is missing") }
            for (k, x) in obj {
                if let s = props[k] as? [String: Any] {
                    out += check(x, s, "\(path).\(k)")
                } else if let extra = schema["additionalProperties"] as? [String: Any] {
                    out += check(x, extra, "\(path).\(k)")
                } else if schema["additionalProperties"] as? Bool == false {
                    out.append("\(path).\(k): not in the schema (\(x.type))")
                }
            }
        }
        if case .array(let arr) = v, let items = schema["items"] as? [String: Any] {
            for (i, x) in arr.enumerated() { out += check(x, items, "\(path)[\(i)]") }
        }
        return out
    }

}

/// A JSON document with its value types told apart (a number is never a boolean).
enum JSONValue: Decodable, Equatable {
    case object([String: JSONValue]), array([JSONValue]), string(String), number(Double), bool(Bool), null

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    var type: String {
        switch self {
        case .object: "object"
        case .array: "array"
        case .string: "string"
        case .number: "number"
        case .bool: "boolean"
        case .null: "null"
        }
    }

    static func read(_ path: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }
}
