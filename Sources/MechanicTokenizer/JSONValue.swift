/// A JSON value, for the loosely typed parts of `tokenizer.json` (normalizers,
/// pre-tokenizers, decoders, post-processors), whose shape depends on their `type`.
///
/// Decoding these into a tree first and interpreting them second lets every wrong
/// type or missing field become a `TokenizerError` that names the component.
enum JSONValue: Decodable, Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    /// The member `key` of an object, nil for other values or a missing key.
    subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    /// The string, if this is one.
    var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The boolean, if this is one.
    var bool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The integer, if this is a whole number in `Int` range.
    var int: Int? {
        if case .number(let value) = self, value == value.rounded(), abs(value) < 9.0e15 { return Int(value) }
        return nil
    }

    /// The elements, if this is an array.
    var array: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// Whether this is JSON null.
    var isNull: Bool { self == .null }
}

/// Typed reading of one component object, with errors that name the component.
struct ComponentReader {
    /// The component's JSON object.
    let value: JSONValue
    /// Where it sits, e.g. `pre_tokenizer.pretokenizers[0]`.
    let at: String
    /// The file, for errors.
    let path: String

    /// The component's `type`.
    func type() throws(TokenizerError) -> String {
        guard case .object = value else { throw wrong("should be an object") }
        return try string("type")
    }

    /// A required string member.
    func string(_ key: String) throws(TokenizerError) -> String {
        guard let v = value[key]?.string else { throw wrong("\(key) should be a string") }
        return v
    }

    /// An optional boolean member, `fallback` when absent or null.
    func bool(_ key: String, _ fallback: Bool) throws(TokenizerError) -> Bool {
        guard let v = value[key], !v.isNull else { return fallback }
        guard let b = v.bool else { throw wrong("\(key) should be true or false") }
        return b
    }

    /// An optional integer member, `fallback` when absent or null.
    func int(_ key: String, _ fallback: Int) throws(TokenizerError) -> Int {
        guard let v = value[key], !v.isNull else { return fallback }
        guard let i = v.int else { throw wrong("\(key) should be an integer") }
        return i
    }

    /// A required array member.
    func array(_ key: String) throws(TokenizerError) -> [JSONValue] {
        guard let v = value[key]?.array else { throw wrong("\(key) should be an array") }
        return v
    }

    /// A `pattern` member: `{"String": …}` or `{"Regex": …}`.
    func pattern() throws(TokenizerError) -> (text: String, isRegex: Bool) {
        if let s = value["pattern"]?["String"]?.string { return (s, false) }
        if let r = value["pattern"]?["Regex"]?.string { return (r, true) }
        throw wrong("pattern should be {\"String\": …} or {\"Regex\": …}")
    }

    /// The reader of element `index` of array member `key`.
    func child(_ key: String, _ index: Int, _ element: JSONValue) -> ComponentReader {
        ComponentReader(value: element, at: "\(at).\(key)[\(index)]", path: path)
    }

    /// `.unexpectedJSON` naming this component.
    func wrong(_ detail: String) -> TokenizerError {
        .unexpectedJSON(path: path, detail: "\(at): \(detail)")
    }

    /// `.unsupported` naming this component.
    func unsupported(_ feature: String) -> TokenizerError {
        .unsupported(path: path, feature: "\(at) \(feature)")
    }
}
