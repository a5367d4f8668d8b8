import MechanicTensor

/// Corpus v2's induction documents, made at the token level: spans of 2–60 tokens drawn from
/// the whole vocabulary (BPE fragments, digits and bytes included) or copied from earlier in
/// the same document, repeated 2–4 times at random distances of 0–100 tokens, between pieces of
/// ordinary text, in documents of 64–320 tokens, so that repeats occur at every position of a
/// 256-token context and nothing but the earlier copy predicts a span's continuation.
///
/// Tokens rather than text because the vocabulary is learned from the text first; a span of
/// random tokens then repeats exactly, which no text-level construction guarantees.
public struct RepeatDocuments: Sendable {
    /// Token ids are drawn from `0..<vocabularySize` minus `excluded`.
    public let vocabularySize: Int
    /// Ids never drawn (special tokens such as `<|endoftext|>`).
    public let excluded: Set<Int>
    /// Document lengths in tokens.
    public static let lengths: ClosedRange<Int> = 64...320
    /// Span lengths in tokens.
    public static let spanLengths: ClosedRange<Int> = 2...60
    /// Copies of a span, the first included.
    public static let copies: ClosedRange<Int> = 2...4
    /// Tokens between consecutive copies.
    public static let distances: ClosedRange<Int> = 0...100

    /// - Parameters:
    ///   - vocabularySize: number of token ids, more than `excluded.count + 1`.
    ///   - excluded: ids never drawn.
    public init(vocabularySize: Int, excluded: Set<Int>) {
        precondition(vocabularySize > excluded.count + 1, "the vocabulary must leave at least two tokens to draw")
        self.vocabularySize = vocabularySize
        self.excluded = excluded
    }

    /// One document.
    ///
    /// - Parameters:
    ///   - text: tokenized text documents to take ordinary pieces from (may be empty).
    ///   - rng: the only source of randomness.
    /// - Returns: the document's tokens, without a separator.
    public func document(text: [[Int]], using rng: inout SeededRandom) -> [Int] {
        let target = rng.inRange(Self.lengths)
        var doc: [Int] = []
        while doc.count < target {
            switch rng.below(10) {
            case 0, 1, 2:
                doc += textPiece(text, length: rng.inRange(5...40), using: &rng)
            case 3 where doc.count >= 4:
                // A span copied from earlier in the document, repeated 1–3 more times.
                let n = rng.inRange(2...min(Self.spanLengths.upperBound, doc.count))
                let start = rng.below(doc.count - n + 1)
                let span = Array(doc[start..<(start + n)])
                for copy in 0..<rng.inRange(1...(Self.copies.upperBound - 1)) {
                    if copy > 0 || rng.below(2) == 0 { doc += gap(text, using: &rng) }
                    doc += span
                }
            default:
                let n = rng.below(2) == 0 ? rng.inRange(Self.spanLengths.lowerBound...10) : rng.inRange(Self.spanLengths)
                let span = (0..<n).map { _ in randomToken(using: &rng) }
                for copy in 0..<rng.inRange(Self.copies) {
                    if copy > 0 { doc += gap(text, using: &rng) }
                    doc += span
                }
            }
        }
        return doc
    }

    /// A uniformly random token id not in `excluded`.
    public func randomToken(using rng: inout SeededRandom) -> Int {
        while true {
            let t = rng.below(vocabularySize)
            if !excluded.contains(t) { return t }
        }
    }

    /// Tokens between two copies: none a quarter of the time, else 1–100 random or text tokens.
    private func gap(_ text: [[Int]], using rng: inout SeededRandom) -> [Int] {
        if rng.below(4) == 0 { return [] }
        let d = rng.inRange(1...Self.distances.upperBound)
        if rng.below(2) == 0 { return (0..<d).map { _ in randomToken(using: &rng) } }
        return textPiece(text, length: d, using: &rng)
    }

    /// Up to `length` consecutive tokens of a random text document (random tokens if none).
    private func textPiece(_ text: [[Int]], length: Int, using rng: inout SeededRandom) -> [Int] {
        guard !text.isEmpty else { return (0..<length).map { _ in randomToken(using: &rng) } }
        let doc = text[rng.below(text.count)]
        guard doc.count > length else { return doc }
        let start = rng.below(doc.count - length + 1)
        return Array(doc[start..<(start + length)])
    }
}
