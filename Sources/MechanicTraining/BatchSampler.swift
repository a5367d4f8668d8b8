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
        switch data {
        case .stream(let tokens), .mixed(let tokens, _):
            guard tokens.count > sequenceLength + 1 else {
                throw TrainingError.corpusTooSmall(tokens: tokens.count, needed: sequenceLength + 2)
            }
            self.tokens = tokens
        case .generated:
            self.tokens = []
        }
        switch data {
        case .stream: self.generator = nil
        case .generated(let generator), .mixed(_, let generator): self.generator = generator
        }
        self.batchSize = batchSize
        self.sequenceLength = sequenceLength
        self.rng = SeededRandom(seed: seed)
    }

    /// The next batch of the sampler's own shape.
    public mutating func next() -> (inputs: TokenBatch, targets: [[Int]]) {
        next(batchSize: batchSize, sequenceLength: sequenceLength)
    }

    /// Whether rows come from both a stream and a generator.
    public var isMixed: Bool { generator != nil && !tokens.isEmpty }

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
        if isMixed, let generator {
            let span = UInt64(tokens.count - sequenceLength - 1)
            for _ in 0..<batchSize {
                let row: [Int]
                if Double(rng.next() >> 11) / 9_007_199_254_740_992 < generatedShare {  // uniform in [0, 1), 53 bits
                    row = generator.row(length: sequenceLength + 1, window: sequenceLength, alphabet: alphabet, using: &rng)
                } else {
                    let start = Int(rng.next() % (span + 1))
                    row = Array(tokens[start...(start + sequenceLength)])
                }
                rows.append(Array(row.dropLast()))
                targets.append(Array(row.dropFirst()))
            }
            return (TokenBatch(rows: rows), targets)
        }
        if let generator {
            for _ in 0..<batchSize {
                let row = generator.row(length: sequenceLength + 1, window: sequenceLength, alphabet: alphabet, using: &rng)
                rows.append(Array(row.dropLast()))
                targets.append(Array(row.dropFirst()))
            }
            return (TokenBatch(rows: rows), targets)
        }
        let span = UInt64(tokens.count - sequenceLength - 1)
        for _ in 0..<batchSize {
            let start = Int(rng.next() % (span + 1))
            rows.append(Array(tokens[start..<(start + sequenceLength)]))
            targets.append(Array(tokens[(start + 1)...(start + sequenceLength)]))
        }
        return (TokenBatch(rows: rows), targets)
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
