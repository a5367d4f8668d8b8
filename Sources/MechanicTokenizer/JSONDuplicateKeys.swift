import Foundation

/// Finds a key that appears twice in one JSON object.
///
/// Python's `json` (and so Hugging Face) keeps the last value of a repeated key; Foundation's
/// parsers keep one of them without saying which. Rather than read a different model than
/// transformers would, Mechanic refuses such files (config.json, vocab.json, tokenizer.json)
/// and names the key and where it repeats.
///
/// One pass over the bytes, keeping the keys of each open object; escapes in keys are decoded
/// (`"a"` and `"\u0061"` are the same key). Assumes the text is valid JSON (run it after a
/// parser accepted the file); on malformed text it returns what it has found so far.
public enum JSONDuplicateKeys {
    public struct Duplicate: Equatable, Sendable, CustomStringConvertible {
        /// The key, as decoded.
        public var key: String
        /// Where it appears the second time: 1-based line and column (in characters).
        public var line: Int
        public var column: Int

        public var description: String {
            "key \"\(key.count > 80 ? key.prefix(80) + "…" : key)\" appears twice in one object (again at line \(line), column \(column)); "
                + "Python's json would silently keep the last value"
        }
    }

    /// The first key repeated within one object, in document order, or `nil`.
    public static func first(in data: Data) -> Duplicate? {
        let bytes = [UInt8](data)
        // One frame per open container: the keys an object has seen so far (nil for arrays), and
        // whether the next string in it is a key.
        var frames: [(keys: Set<String>?, expectKey: Bool)] = []
        var i = 0
        while i < bytes.count {
            let c = bytes[i]
            switch c {
            case UInt8(ascii: "{"): frames.append((keys: [], expectKey: true)); i += 1
            case UInt8(ascii: "["): frames.append((keys: nil, expectKey: false)); i += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"): _ = frames.popLast(); i += 1
            case UInt8(ascii: ","):
                if !frames.isEmpty, frames[frames.count - 1].keys != nil { frames[frames.count - 1].expectKey = true }
                i += 1
            case UInt8(ascii: "\""):
                let start = i
                i += 1
                var escaped = false
                while i < bytes.count && bytes[i] != UInt8(ascii: "\"") {
                    if bytes[i] == UInt8(ascii: "\\") { escaped = true; i += 1 }
                    i += 1
                }
                let end = min(i, bytes.count)
                i += 1
                guard let top = frames.last, top.keys != nil, top.expectKey else { continue }
                frames[frames.count - 1].expectKey = false
                let raw = Data(bytes[start..<min(end + 1, bytes.count)])
                let key = escaped ? ((try? JSONSerialization.jsonObject(with: raw, options: [.fragmentsAllowed])) as? String)
                    ?? String(decoding: raw, as: UTF8.self) : String(decoding: bytes[(start + 1)..<end], as: UTF8.self)
                if frames[frames.count - 1].keys!.insert(key).inserted == false {
                    return Duplicate(key: key, line: line(of: start, in: bytes), column: column(of: start, in: bytes))
                }
            default:
                i += 1
            }
        }
        return nil
    }

    static func line(of offset: Int, in bytes: [UInt8]) -> Int {
        bytes[..<offset].reduce(1) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
    }

    static func column(of offset: Int, in bytes: [UInt8]) -> Int {
        let lineStart = bytes[..<offset].lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0
        return String(decoding: bytes[lineStart..<offset], as: UTF8.self).count + 1
    }
}
