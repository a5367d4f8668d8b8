import MechanicCorpus
import MechanicTensor
import MechanicTokenizer

/// Where a run's training rows come from.
public enum TrainingData: Sendable {
    /// Windows at seeded random offsets of a tokenized corpus.
    case stream([Int])
    /// Rows generated on demand for each step's window length.
    case generated(InductionBlocks)
    /// Both: each row is generated with the step's generated share (a curriculum's), else cut from the stream.
    case mixed(stream: [Int], generator: InductionBlocks)

    /// The row generator, if rows are generated.
    public var generator: InductionBlocks? {
        switch self {
        case .stream: nil
        case .generated(let g), .mixed(_, let g): g
        }
    }

    /// The token stream, if rows are cut from one.
    public var tokens: [Int]? {
        switch self {
        case .stream(let t), .mixed(let t, _): t
        case .generated: nil
        }
    }
}

/// Draws training batches: windows of `sequenceLength + 1` tokens at seeded random offsets of a
/// token stream, or rows generated for the window, split into inputs and next-token targets.
///
/// The sampler's whole state is its generator, so saving `state` and restoring it resumes the
/// exact same data order.
public struct BatchSampler: Sendable {
    /// The token stream (empty when rows are generated).
    public let tokens: [Int]
    /// The row generator, or nil for a token stream.
    public let generator: InductionBlocks?
    public let batchSize: Int
    public let sequenceLength: Int
    public internal(set) var rng: SeededRandom

    /// - Parameters:
    ///   - tokens: the tokenized corpus (documents joined by `<|endoftext|>`).
    ///   - seed: fixes the data order.
    public init(tokens: [Int], batchSize: Int, sequenceLength: Int, seed: UInt64) throws {
        try self.init(data: .stream(tokens), batchSize: batchSize, sequenceLength: sequenceLength, seed: seed)
    }

    /// - Parameters:
    ///   - data: a token stream (at least `sequenceLength + 2` tokens), a row generator, or both.
    ///   - seed: fixes the data order.
    public init(data: TrainingData, batchSize: Int, sequenceLength: Int, seed: UInt64) throws {
        if let tokens = data.tokens {
            guard tokens.count > sequenceLength + 1 else {
                throw TrainingError.corpusTooSmall(tokens: tokens.count, needed: sequenceLength + 2)
            }
        }
        self.tokens = data.tokens ?? []
        self.generator = data.generator
        self.batchSize = batchSize
        self.sequenceLength = sequenceLength
        self.rng = SeededRandom(seed: seed)
    }

    /// The next batch of the sampler's own shape.
    public mutating func next() -> (inputs: TokenBatch, targets: [[Int]]) {
        next(batchSize: batchSize, sequenceLength: sequenceLength)
    }

    /// The next batch: inputs `[batch, seq]` and targets `[batch][seq]` (inputs shifted by one).
    ///
    /// - Parameters:
    ///   - sequenceLength: at most the length the sampler was made for (a curriculum's window).
    ///   - generatedShare: on mixed data, the chance that a row is generated rather than cut from
    ///     the stream (one draw per row); ignored otherwise.
    ///   - alphabet: generated rows draw random tokens from ids below this (nil: the generator's own).
    public mutating func next(batchSize: Int, sequenceLength: Int, generatedShare: Double = 0,
                              alphabet: Int? = nil) -> (inputs: TokenBatch, targets: [[Int]]) {
        precondition(sequenceLength <= self.sequenceLength, "window \(sequenceLength) is longer than the sampler's \(self.sequenceLength)")
        var rows: [[Int]] = [], targets: [[Int]] = []
        for _ in 0..<batchSize {
            let row = nextRow(length: sequenceLength + 1, generatedShare: generatedShare, alphabet: alphabet)
            rows.append(Array(row.dropLast()))
            targets.append(Array(row.dropFirst()))
        }
        return (TokenBatch(rows: rows), targets)
    }

    /// One row of `length` tokens (a window of `length - 1` plus its last target): generated, cut
    /// from the stream at a random offset, or on mixed data either (one draw against `generatedShare`).
    mutating func nextRow(length: Int, generatedShare: Double, alphabet: Int?) -> [Int] {
        if let generator, tokens.isEmpty || rng.unitInterval() < generatedShare {
            return generator.row(length: length, window: length - 1, alphabet: alphabet, using: &rng)
        }
        let start = Int(rng.next() % UInt64(tokens.count - length + 1))
        return Array(tokens[start..<(start + length)])
    }

    /// Consecutive, non-random windows covering the stream once (for evaluation).
    public static func sequentialWindows(_ tokens: [Int], sequenceLength: Int, limit: Int) -> [(inputs: [Int], targets: [Int])] {
        var windows: [(inputs: [Int], targets: [Int])] = []
        var start = 0
        while start + sequenceLength + 1 <= tokens.count && windows.count < limit {
            windows.append((Array(tokens[start..<(start + sequenceLength)]), Array(tokens[(start + 1)...(start + sequenceLength)])))
            start += sequenceLength
        }
        return windows
    }
}
