/// A `tokenizer.json` decoder: turns token spellings back into text.
///
/// Byte-level files use `ByteLevel`; SentencePiece conversions use
/// `Replace("▁", " ")` + `ByteFallback` + `Fuse` (+ `Strip` of the dummy-prefix space)
/// or `Metaspace`. Each works on the list of token strings, as in Hugging Face, and
/// the results are concatenated.
indirect enum TokenDecoder: Sendable {
    /// Byte-level characters → bytes → UTF-8, invalid sequences as U+FFFD.
    case byteLevel
    /// Literal replacement in each token.
    case replace(pattern: String, content: String)
    /// Runs of `<0xNN>` tokens → their bytes as text (one U+FFFD per byte if invalid UTF-8).
    case byteFallback
    /// All tokens joined into one.
    case fuse
    /// Up to `start` leading and `stop` trailing `content` characters removed from each token.
    case strip(content: Character, start: Int, stop: Int)
    /// `replacement` → space; in the first token the replacement is dropped unless the scheme is never.
    case metaspace(replacement: Character, prependScheme: PrependScheme)
    case sequence([TokenDecoder])

    /// Applies the decoder to a list of token strings.
    func decodeChain(_ tokens: [String]) -> [String] {
        switch self {
        case .byteLevel:
            var bytes: [UInt8] = []
            for token in tokens { bytes += ByteLevel.tokenBytes(token) }
            return [String(decoding: bytes, as: UTF8.self)]
        case .replace(let pattern, let content):
            return tokens.map { Normalizer.replace(pattern: pattern, content: content).apply($0) }
        case .byteFallback:
            var out: [String] = []
            var pending: [UInt8] = []
            func flush() {
                guard !pending.isEmpty else { return }
                if let text = String(validating: pending, as: UTF8.self) {
                    out.append(text)
                } else {
                    out += Array(repeating: "\u{FFFD}", count: pending.count)
                }
                pending = []
            }
            for token in tokens {
                if let byte = Self.fallbackByte(token) {
                    pending.append(byte)
                } else {
                    flush()
                    out.append(token)
                }
            }
            flush()
            return out
        case .fuse:
            return [tokens.joined()]
        case .strip(let content, let start, let stop):
            return tokens.map { token in
                var chars = Array(token.unicodeScalars)
                var cut = 0
                while cut < start, cut < chars.count, Character(chars[cut]) == content { cut += 1 }
                chars.removeFirst(cut)
                var trailing = 0
                while trailing < stop, let last = chars.last, Character(last) == content {
                    chars.removeLast()
                    trailing += 1
                }
                var view = String.UnicodeScalarView()
                view.append(contentsOf: chars)
                return String(view)
            }
        case .metaspace(let replacement, let scheme):
            return tokens.enumerated().map { i, token in
                var out = ""
                for c in token {
                    if c == replacement {
                        if !(i == 0 && scheme != .never) { out.append(" ") }
                    } else {
                        out.append(c)
                    }
                }
                return out
            }
        case .sequence(let steps):
            return steps.reduce(tokens) { $1.decodeChain($0) }
        }
    }

    /// The byte of a `<0xNN>` token, or nil for any other token.
    static func fallbackByte(_ token: String) -> UInt8? {
        let u = Array(token.utf8)
        guard u.count == 6, u[0] == UInt8(ascii: "<"), u[1] == UInt8(ascii: "0"), u[2] == UInt8(ascii: "x"),
            u[5] == UInt8(ascii: ">")
        else { return nil }
        return UInt8(String(decoding: u[3...4], as: UTF8.self), radix: 16)
    }

    /// Reads a `decoder` object.
    ///
    /// - Throws: `.unsupported` for types Mechanic does not implement, `.unexpectedJSON` for malformed ones.
    static func read(_ r: ComponentReader) throws(TokenizerError) -> TokenDecoder {
        switch try r.type() {
        case "ByteLevel": return .byteLevel
        case "ByteFallback": return .byteFallback
        case "Fuse": return .fuse
        case "Replace":
            let pattern = try r.pattern()
            guard !pattern.isRegex, !pattern.text.isEmpty else { throw r.unsupported("Replace with a regex pattern") }
            return .replace(pattern: pattern.text, content: try r.string("content"))
        case "Strip":
            let content = try r.string("content")
            guard content.count == 1, let c = content.first else { throw r.wrong("content should be one character") }
            let start = try r.int("start", 0)
            let stop = try r.int("stop", 0)
            guard start >= 0, stop >= 0 else { throw r.wrong("start and stop should be 0 or more") }
            return .strip(content: c, start: start, stop: stop)
        case "Metaspace":
            let replacement = try r.string("replacement")
            guard replacement.count == 1, let c = replacement.first else {
                throw r.wrong("replacement should be one character")
            }
            var scheme = try r.bool("add_prefix_space", true) ? PrependScheme.always : .never
            if let name = r.value["prepend_scheme"]?.string {
                guard let parsed = PrependScheme(rawValue: name) else { throw r.unsupported("prepend_scheme \(name)") }
                scheme = parsed
            }
            return .metaspace(replacement: c, prependScheme: scheme)
        case "Sequence":
            var steps: [TokenDecoder] = []
            for (i, element) in try r.array("decoders").enumerated() {
                steps.append(try read(r.child("decoders", i, element)))
            }
            return .sequence(steps)
        case let other:
            throw r.unsupported("decoder type \(other)")
        }
    }
}
