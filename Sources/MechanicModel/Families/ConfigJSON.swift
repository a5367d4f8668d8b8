import Foundation
import MechanicTokenizer

/// A parsed `config.json` with typed, key-naming accessors for the family mappings.
///
/// Families read their keys through this instead of `Codable` structs: configs of one family
/// differ across transformers versions (`rope_theta` or `rope_parameters`, `torch_dtype` or
/// `dtype`), and every wrong type must name its key.
public struct ConfigJSON {
    let values: [String: Any]

    /// Parses a JSON object.
    public init(data: Data) throws {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw ConfigProblem("not valid JSON (\(ConfigJSON.whereParsingFailed(error, in: data)))")
        }
        guard let values = object as? [String: Any] else { throw ConfigProblem("not a JSON object") }
        if let duplicate = JSONDuplicateKeys.first(in: data) { throw ConfigProblem("\(duplicate)") }
        self.values = values
    }

    init(values: [String: Any]) { self.values = values }

    /// What JSONSerialization's error says went wrong, with "around character N" turned into the
    /// line and column a person can find: `line 3, column 14: invalid value`.
    static func whereParsingFailed(_ error: any Error, in data: Data) -> String {
        var detail = ((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String) ?? "unreadable"
        while detail.hasSuffix(".") { detail.removeLast() }
        guard let range = detail.range(of: "around character "),
              let offset = Int(detail[range.upperBound...].prefix { $0.isNumber }), offset >= 0, offset <= data.count
        else { return detail.prefix(1).lowercased() + detail.dropFirst() }
        let before = data.prefix(offset)
        let line = before.filter { $0 == UInt8(ascii: "\n") }.count + 1
        let lineStart = before.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? before.startIndex
        let column = String(decoding: before[lineStart...], as: UTF8.self).count + 1
        let what = detail[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
        return "line \(line), column \(column): \(what.prefix(1).lowercased() + what.dropFirst())"
    }

    /// Whether the key is present and not `null`.
    func has(_ key: String) -> Bool { values[key] != nil && !(values[key] is NSNull) }

    /// An integer, or `nil` when absent or `null`.
    func int(_ key: String) throws -> Int? {
        guard has(key) else { return nil }
        guard let number = values[key] as? NSNumber, !isBool(number),
              let value = Int(exactly: number.doubleValue), Double(value) == number.doubleValue
        else { throw ConfigProblem("\(key) is \(render(values[key])); expected an integer") }
        return value
    }

    /// A number, or `nil` when absent or `null`.
    func double(_ key: String) throws -> Double? {
        guard has(key) else { return nil }
        guard let number = values[key] as? NSNumber, !isBool(number), number.doubleValue.isFinite
        else { throw ConfigProblem("\(key) is \(render(values[key])); expected a number") }
        return number.doubleValue
    }

    func float(_ key: String) throws -> Float? { try double(key).map(Float.init) }

    func bool(_ key: String) throws -> Bool? {
        guard has(key) else { return nil }
        guard let number = values[key] as? NSNumber, isBool(number)
        else { throw ConfigProblem("\(key) is \(render(values[key])); expected true or false") }
        return number.boolValue
    }

    func string(_ key: String) throws -> String? {
        guard has(key) else { return nil }
        guard let text = values[key] as? String else { throw ConfigProblem("\(key) is \(render(values[key])); expected a string") }
        return text
    }

    func strings(_ key: String) throws -> [String]? {
        guard has(key) else { return nil }
        guard let list = values[key] as? [String] else { throw ConfigProblem("\(key) is \(render(values[key])); expected a list of strings") }
        return list
    }

    /// A nested object, or `nil` when absent or `null`.
    func object(_ key: String) throws -> ConfigJSON? {
        guard has(key) else { return nil }
        guard let inner = values[key] as? [String: Any] else { throw ConfigProblem("\(key) is \(render(values[key])); expected an object") }
        return ConfigJSON(values: inner)
    }

    /// An integer within a range, or `nil` when absent or `null`.
    func int(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let value = try int(key) else { return nil }
        guard range.contains(value) else { throw ConfigProblem("\(key) is \(value); expected \(range.lowerBound)…\(range.upperBound)") }
        return value
    }

    /// A required integer within a range.
    func require(_ key: String, in range: ClosedRange<Int> = 1...(1 << 24)) throws -> Int {
        guard let value = try int(key, in: range) else { throw ConfigProblem("\(key) is missing") }
        return value
    }

    /// A norm epsilon: a small positive number, or `nil` when absent.
    func epsilon(_ key: String) throws -> Float? {
        guard let value = try double(key) else { return nil }
        guard value > 0 && value < 1 else { throw ConfigProblem("\(key) is \(value); expected a small positive number") }
        return Float(value)
    }

    /// The first id of a key that may hold one id or a list of them (`eos_token_id: [1, 106]`).
    func tokenID(_ key: String) throws -> Int? {
        if let list = values[key] as? [Any], !list.isEmpty {
            return try ConfigJSON(values: [key: list[0]]).int(key)
        }
        return try int(key)
    }

    /// Every id of a key that may hold one id or a list of them.
    func tokenIDs(_ key: String) throws -> [Int] {
        if let list = values[key] as? [Any] {
            return try list.map { try ConfigJSON(values: [key: $0]).int(key) ?? -1 }
        }
        return try int(key).map { [$0] } ?? []
    }

    private func isBool(_ number: NSNumber) -> Bool { ConfigJSON.isBoolean(number) }

    /// Whether JSONSerialization read this number from `true` or `false` (on Linux, 0 and 1 also
    /// pass `is Bool`): it makes booleans NSNumbers of type char ("c"), which JSON never yields otherwise.
    public static func isBoolean(_ number: NSNumber) -> Bool {
        String(cString: number.objCType) == "c"
    }

    private func render(_ value: Any?) -> String {
        switch value {
        case let text as String: return "\"\(text.prefix(80))\""
        case let number as NSNumber: return isBool(number) ? (number.boolValue ? "true" : "false") : number.stringValue
        case is [Any]: return "a list"
        case is [String: Any]: return "an object"
        default: return "null"
        }
    }
}

/// A decoding failure with a human-readable reason (wrapped into ``ModelError/invalidConfig``).
struct ConfigProblem: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
