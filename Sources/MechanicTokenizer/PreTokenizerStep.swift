/// One piece of text on its way through the pre-tokenizers, as Unicode scalar values.
struct Piece: Sendable, Equatable {
    /// The piece's scalars.
    var scalars: [UInt32]
    /// Whether the piece starts at the very beginning of the input text (Metaspace's
    /// `prepend_scheme: "first"` prepends only there).
    var atOrigin: Bool
}

/// How a split keeps the matches of its pattern (`SplitDelimiterBehavior`).
enum SplitBehavior: String, Sendable {
    case removed = "Removed"
    case isolated = "Isolated"
    case mergedWithPrevious = "MergedWithPrevious"
    case mergedWithNext = "MergedWithNext"
    case contiguous = "Contiguous"

    /// The ranges to keep from `parts`, which tile the text as (range, is a match).
    func apply(_ parts: [(Range<Int>, Bool)]) -> [Range<Int>] {
        var out: [Range<Int>] = []
        switch self {
        case .removed:
            out = parts.filter { !$0.1 }.map(\.0)
        case .isolated:
            out = parts.map(\.0)
        case .mergedWithPrevious:
            var previousMatch = false
            for (range, isMatch) in parts {
                if isMatch, !previousMatch, let last = out.last {
                    out[out.count - 1] = last.lowerBound..<range.upperBound
                } else {
                    out.append(range)
                }
                previousMatch = isMatch
            }
        case .mergedWithNext:
            var previousMatch = false
            for (range, isMatch) in parts.reversed() {
                if isMatch, !previousMatch, let last = out.last {
                    out[out.count - 1] = range.lowerBound..<last.upperBound
                } else {
                    out.append(range)
                }
                previousMatch = isMatch
            }
            out.reverse()
        case .contiguous:
            var previous: Bool?
            for (range, isMatch) in parts {
                if previous == isMatch, let last = out.last {
                    out[out.count - 1] = last.lowerBound..<range.upperBound
                } else {
                    out.append(range)
                }
                previous = isMatch
            }
        }
        return out.filter { !$0.isEmpty }
    }
}

/// Metaspace's `prepend_scheme`: when a piece gets the replacement character in front.
enum PrependScheme: String, Sendable {
    case always, first, never
}

/// A `tokenizer.json` pre-tokenizer: cuts normalized text into the pieces BPE encodes on their own.
///
/// Covers what GPT-2, GPT-NeoX, Llama 2/3, Mistral, Qwen2/3, Gemma and StarCoder files
/// use: `ByteLevel`, `Split`, `Digits`, `Metaspace` and `Sequence`.
indirect enum PreTokenizerStep: Sendable {
    /// Optional prefix space, optional GPT-2 regex split, then bytes → byte-level characters.
    case byteLevel(addPrefixSpace: Bool, useRegex: Bool)
    case split(SplitPattern, SplitBehavior, invert: Bool)
    /// Digits isolated one by one, or in runs.
    case digits(individual: Bool)
    /// Spaces → `replacement`, prepended by scheme, optionally split before each replacement.
    case metaspace(replacement: UInt32, prependScheme: PrependScheme, split: Bool)
    case sequence([PreTokenizerStep])

    /// Applies the step to every piece.
    func apply(_ pieces: [Piece]) -> [Piece] {
        switch self {
        case .sequence(let steps):
            return steps.reduce(pieces) { $1.apply($0) }
        default:
            var out: [Piece] = []
            out.reserveCapacity(pieces.count)
            for piece in pieces { applyOne(piece, into: &out) }
            return out
        }
    }

    private func applyOne(_ piece: Piece, into out: inout [Piece]) {
        switch self {
        case .sequence:
            out += apply([piece])
        case .byteLevel(let addPrefixSpace, let useRegex):
            var p = piece
            if addPrefixSpace, let first = p.scalars.first, first != 0x20 { p.scalars.insert(0x20, at: 0) }
            let parts = useRegex ? Self.cut(p, SplitPattern.gpt2.matches(p.scalars).map { ($0, true) }, .isolated) : [p]
            for part in parts {
                var bytes = String.UnicodeScalarView()
                for v in part.scalars { bytes.append(Unicode.Scalar(v) ?? "\u{FFFD}") }
                out.append(Piece(
                    scalars: String(bytes).utf8.map { ByteLevel.byteToScalar[Int($0)].value },
                    atOrigin: part.atOrigin
                ))
            }
        case .split(let pattern, let behavior, let invert):
            let matches = pattern.matches(piece.scalars)
            out += Self.cut(piece, Self.tile(matches, count: piece.scalars.count, invert: invert), behavior)
        case .digits(let individual):
            var parts: [(Range<Int>, Bool)] = []
            var gapStart = 0
            for (k, v) in piece.scalars.enumerated() {
                guard let scalar = Unicode.Scalar(v), ScalarClass.of(scalar) == .number else { continue }
                if gapStart < k { parts.append((gapStart..<k, false)) }
                parts.append((k..<(k + 1), true))
                gapStart = k + 1
            }
            if gapStart < piece.scalars.count { parts.append((gapStart..<piece.scalars.count, false)) }
            out += Self.cut(piece, parts, individual ? .isolated : .contiguous)
        case .metaspace(let replacement, let scheme, let split):
            var p = piece
            p.scalars = p.scalars.map { $0 == 0x20 ? replacement : $0 }
            let prepend = scheme == .always || (scheme == .first && p.atOrigin)
            if prepend, let first = p.scalars.first, first != replacement { p.scalars.insert(replacement, at: 0) }
            if split {
                let matches = SplitPattern.literal([replacement]).matches(p.scalars)
                out += Self.cut(p, Self.tile(matches, count: p.scalars.count, invert: false), .mergedWithNext)
            } else if !p.scalars.isEmpty {
                out.append(p)
            }
        }
    }

    /// Matches plus the gaps between them, tiling `0..<count`, each flagged as a match or not.
    static func tile(_ matches: [Range<Int>], count: Int, invert: Bool) -> [(Range<Int>, Bool)] {
        var parts: [(Range<Int>, Bool)] = []
        var at = 0
        for m in matches {
            if at < m.lowerBound { parts.append((at..<m.lowerBound, invert)) }
            parts.append((m, !invert))
            at = m.upperBound
        }
        if at < count { parts.append((at..<count, invert)) }
        return parts
    }

    /// The sub-pieces `behavior` keeps; only one starting at 0 inherits `atOrigin`.
    private static func cut(_ piece: Piece, _ parts: [(Range<Int>, Bool)], _ behavior: SplitBehavior) -> [Piece] {
        behavior.apply(parts).map {
            Piece(scalars: Array(piece.scalars[$0]), atOrigin: piece.atOrigin && $0.lowerBound == 0)
        }
    }

    /// Reads a `pre_tokenizer` object.
    ///
    /// - Throws: `.unsupported` for types Mechanic does not implement, `.unexpectedJSON` for malformed ones.
    static func read(_ r: ComponentReader) throws(TokenizerError) -> PreTokenizerStep {
        switch try r.type() {
        case "ByteLevel":
            return .byteLevel(addPrefixSpace: try r.bool("add_prefix_space", true), useRegex: try r.bool("use_regex", true))
        case "Split":
            let pattern = try r.pattern()
            let behaviorName = try r.string("behavior")
            guard let behavior = SplitBehavior(rawValue: behaviorName) else {
                throw r.unsupported("Split behavior \(behaviorName)")
            }
            let compiled: SplitPattern = pattern.isRegex
                ? try SplitPattern.regex(pattern.text, path: r.path)
                : .literal(pattern.text.unicodeScalars.map(\.value))
            return .split(compiled, behavior, invert: try r.bool("invert", false))
        case "Digits":
            return .digits(individual: try r.bool("individual_digits", false))
        case "Metaspace":
            let replacement = try r.string("replacement").unicodeScalars
            guard replacement.count == 1, let scalar = replacement.first else {
                throw r.wrong("replacement should be one character")
            }
            let scheme: PrependScheme
            if let name = r.value["prepend_scheme"]?.string {
                guard let parsed = PrependScheme(rawValue: name) else { throw r.unsupported("prepend_scheme \(name)") }
                scheme = parsed
            } else {
                scheme = try r.bool("add_prefix_space", true) ? .always : .never
            }
            return .metaspace(replacement: scalar.value, prependScheme: scheme, split: try r.bool("split", true))
        case "Sequence":
            var steps: [PreTokenizerStep] = []
            for (i, element) in try r.array("pretokenizers").enumerated() {
                steps.append(try read(r.child("pretokenizers", i, element)))
            }
            return .sequence(steps)
        case let other:
            throw r.unsupported("pre-tokenizer type \(other)")
        }
    }
}
