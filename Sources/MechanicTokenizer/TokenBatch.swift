/// A batch of token sequences, right-padded to a common length, with their lengths.
///
/// Right padding keeps every real token at its own position id, and the causal mask
/// already hides later (padded) keys from real queries, so a padded run gives the same
/// activations on real tokens as an unpadded one. Bidirectional models (tracr's) mask the
/// padded keys by each row's length instead.
public struct TokenBatch: Sendable, Equatable {
    /// Token ids `[batch, pos]`, row-major, padded with `padID` after each row's end.
    public let ids: [Int32]
    /// Number of sequences.
    public let batch: Int
    /// Padded length: the longest row.
    public let positions: Int
    /// Real (unpadded) length of each row.
    public let lengths: [Int]
    /// The id written into padded slots.
    public let padID: Int32

    /// Pads `rows` on the right to the longest one.
    ///
    /// - Parameters:
    ///   - rows: token ids of each sequence; every row must hold at least one token.
    ///   - padID: id used for padding (GPT-2 uses `<|endoftext|>`); never attended to by real tokens.
    public init(rows: [[Int]], padID: Int = 0) {
        precondition(!rows.isEmpty, "a token batch needs at least one row")
        precondition(rows.allSatisfy { !$0.isEmpty }, "every row of a token batch needs at least one token")
        let width = rows.map(\.count).max() ?? 0
        var ids = [Int32](repeating: Int32(padID), count: rows.count * width)
        for (r, row) in rows.enumerated() {
            for (p, id) in row.enumerated() { ids[r * width + p] = Int32(id) }
        }
        self.ids = ids
        self.batch = rows.count
        self.positions = width
        self.lengths = rows.map(\.count)
        self.padID = Int32(padID)
    }

    /// One unpadded row.
    public init(_ row: [Int]) {
        self.init(rows: [row])
    }

    /// Token ids of row `r` without padding.
    public func row(_ r: Int) -> [Int] {
        (0..<lengths[r]).map { Int(ids[r * positions + $0]) }
    }

    /// Whether `(row, pos)` holds a real token (HF's `attention_mask == 1`).
    @inlinable
    public func isReal(row: Int, pos: Int) -> Bool {
        pos < lengths[row]
    }

    /// HF-style attention mask `[batch, pos]`: 1 for real tokens, 0 for padding.
    public var attentionMask: [[Int]] {
        (0..<batch).map { r in (0..<positions).map { $0 < lengths[r] ? 1 : 0 } }
    }

    /// Whether any row is shorter than the padded length.
    public var isPadded: Bool {
        lengths.contains { $0 != positions }
    }
}
