/// A token matched verbatim in text before the pre-tokenizer (`added_tokens` in
/// `tokenizer.json`): special tokens such as `<|endoftext|>` or `<s>`, and ordinary
/// added tokens such as Qwen's `<tool_call>` or GPT-NeoX's runs of spaces.
struct AddedTokenEntry: Sendable {
    /// Its text, as scalar values (normalized already for `normalized` tokens).
    var scalars: [UInt32]
    /// Its id.
    var id: Int
    /// Whether whitespace before a match is swallowed by it.
    var leftStrip: Bool
    /// Whether whitespace after a match is swallowed by it.
    var rightStrip: Bool
}

/// Finds added tokens in text: leftmost match first, the longest at that position, as
/// Hugging Face's Aho-Corasick `LeftmostLongest` search does.
struct AddedTokenMatcher: Sendable {
    /// Entries by first scalar, longest first.
    private let byFirst: [UInt32: [AddedTokenEntry]]

    /// Whether there is nothing to match.
    var isEmpty: Bool { byFirst.isEmpty }

    init(_ entries: [AddedTokenEntry]) {
        var byFirst: [UInt32: [AddedTokenEntry]] = [:]
        for e in entries where !e.scalars.isEmpty { byFirst[e.scalars[0], default: []].append(e) }
        for key in byFirst.keys {
            byFirst[key]?.sort {
                $0.scalars.count != $1.scalars.count
                    ? $0.scalars.count > $1.scalars.count : $0.scalars.lexicographicallyPrecedes($1.scalars)
            }
        }
        self.byFirst = byFirst
    }

    /// A run of text, or one added token, in order.
    enum Segment {
        /// Scalars of ordinary text, and whether they start at the text's beginning.
        case text([UInt32], atOrigin: Bool)
        case token(Int)
    }

    /// Splits `s` at added tokens.
    ///
    /// - Parameters:
    ///   - s: the text's scalars.
    ///   - atOrigin: whether `s` starts the whole input.
    func split(_ s: [UInt32], atOrigin: Bool) -> [Segment] {
        guard !byFirst.isEmpty else { return [.text(s, atOrigin: atOrigin)] }
        var out: [Segment] = []
        var textStart = 0
        var i = 0
        while i < s.count {
            guard let entry = match(at: i, in: s) else {
                i += 1
                continue
            }
            var start = i
            var end = i + entry.scalars.count
            if entry.leftStrip {
                while start > textStart, Self.isWhitespace(s[start - 1]) { start -= 1 }
            }
            if entry.rightStrip {
                while end < s.count, Self.isWhitespace(s[end]) { end += 1 }
            }
            if textStart < start { out.append(.text(Array(s[textStart..<start]), atOrigin: atOrigin && textStart == 0)) }
            out.append(.token(entry.id))
            i = end
            textStart = end
        }
        if textStart < s.count || out.isEmpty {
            out.append(.text(Array(s[textStart...]), atOrigin: atOrigin && textStart == 0))
        }
        return out
    }

    /// The longest entry matching at `i`.
    private func match(at i: Int, in s: [UInt32]) -> AddedTokenEntry? {
        guard let candidates = byFirst[s[i]] else { return nil }
        for e in candidates where i + e.scalars.count <= s.count {
            var k = 1
            while k < e.scalars.count, s[i + k] == e.scalars[k] { k += 1 }
            if k == e.scalars.count { return e }
        }
        return nil
    }

    /// Rust's `char::is_whitespace` (the White_Space property).
    private static func isWhitespace(_ v: UInt32) -> Bool {
        Unicode.Scalar(v)?.properties.isWhitespace ?? false
    }
}
