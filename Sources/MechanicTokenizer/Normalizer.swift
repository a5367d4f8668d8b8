import Foundation

/// A `tokenizer.json` normalizer: rewrites text before pre-tokenization.
///
/// The families Mechanic loads use few: NFC (GPT-NeoX, Qwen), `Prepend("▁")` +
/// `Replace(" ", "▁")` (Llama 2 and Mistral, converted from SentencePiece the legacy
/// way), `Replace(" ", "▁")` alone (Gemma). Others are refused when loading rather
/// than ignored, so ids never silently differ from Hugging Face's.
indirect enum Normalizer: Sendable, Equatable {
    case nfc, nfd, nfkc, nfkd, lowercase
    /// Prepends the text to any non-empty input.
    case prepend(String)
    /// Replaces every occurrence of a literal string.
    case replace(pattern: String, content: String)
    case sequence([Normalizer])

    /// Applies the normalizer to `text`.
    func apply(_ text: String) -> String {
        switch self {
        case .nfc: return text.precomposedStringWithCanonicalMapping
        case .nfd: return text.decomposedStringWithCanonicalMapping
        case .nfkc: return text.precomposedStringWithCompatibilityMapping
        case .nfkd: return text.decomposedStringWithCompatibilityMapping
        case .lowercase: return text.lowercased()
        case .prepend(let prefix): return text.isEmpty ? text : prefix + text
        case .replace(let pattern, let content):
            return pattern.isEmpty ? text : Self.replaceLiteral(text, pattern, content)
        case .sequence(let steps):
            return steps.reduce(text) { $1.apply($0) }
        }
    }

    /// Replaces `pattern` by `content`, comparing Unicode scalars (not `Character`s, which
    /// would treat "e" + combining accent as one unit, unlike Rust's `str::replace`).
    private static func replaceLiteral(_ text: String, _ pattern: String, _ content: String) -> String {
        let s = Array(text.unicodeScalars)
        let p = Array(pattern.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        while i < s.count {
            if s[i] == p[0], i + p.count <= s.count, s[i..<(i + p.count)].elementsEqual(p) {
                out.append(contentsOf: content.unicodeScalars)
                i += p.count
            } else {
                out.append(s[i])
                i += 1
            }
        }
        return String(out)
    }

    /// Reads a `normalizer` object.
    ///
    /// - Throws: `.unsupported` for types Mechanic does not implement, `.unexpectedJSON` for malformed ones.
    static func read(_ r: ComponentReader) throws(TokenizerError) -> Normalizer {
        switch try r.type() {
        case "NFC": return .nfc
        case "NFD": return .nfd
        case "NFKC": return .nfkc
        case "NFKD": return .nfkd
        case "Lowercase": return .lowercase
        case "Prepend": return .prepend(try r.string("prepend"))
        case "Replace":
            let pattern = try r.pattern()
            guard !pattern.isRegex else { throw r.unsupported("Replace with a regex pattern") }
            return .replace(pattern: pattern.text, content: try r.string("content"))
        case "Sequence":
            var steps: [Normalizer] = []
            for (i, element) in try r.array("normalizers").enumerated() {
                steps.append(try read(r.child("normalizers", i, element)))
            }
            return .sequence(steps)
        case let other:
            throw r.unsupported("normalizer type \(other)")
        }
    }
}
