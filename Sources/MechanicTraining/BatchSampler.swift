import MechanicCorpus
import MechanicTensor
import MechanicTokenizer

/// Where a run's training rows come from.
public enum TrainingData: Sendable {
    /// Windows at seeded random offsets of a tokenized corpus.
    case stream([Int])
    /// Rows generated on demand for each step's window length.
    case generated(InductionBlocks)
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
    ///   - data: a token stream (at least `sequenceLength + 2` tokens) or a row generator.
    ///   - seed: fixes the data order.
    public init(data: TrainingData, batchSize: Int, sequenceLength: Int, seed: UInt64) throws {
        switch data {
        case .stream(let tokens):
            guard tokens.count > sequenceLength + 1 else {
                throw TrainingError.corpusTooSmall(tokens: tokens.count, needed: sequenceLength + 2)
            }
            self.tokens = tokens
            self.generator = nil
        case .generated(let generator):
            self.tokens = []
            self.generator = generator
        }
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
    /// - Parameter sequenceLength: at most the length the sampler was made for (a curriculum's window).
    public mutating func next(batchSize: Int, sequenceLength: Int) -> (inputs: TokenBatch, targets: [[Int]]) {
        precondition(sequenceLength <= self.sequenceLength, "window \(sequenceLength) is longer than the sampler's \(self.sequenceLength)")
        var rows: [[Int]] = [], targets: [[Int]] = []
        if let generator {
            for _ in 0..<batchSize {
                let row = generator.row(length: sequenceLength + 1, window: sequenceLength, using: &rng)
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
