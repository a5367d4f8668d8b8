import MechanicModel
import MechanicTensor
import MechanicTokenizer

/// The standard head-type scores of the literature (TransformerLens `head_detector` style), on
/// repeated random token sequences: where each head's attention goes.
public enum HeadTypes {
    public struct Scores: Codable, Equatable, Sendable {
        public var heads: [HeadID]
        /// Mean attention from each token to the one before it.
        public var previousToken: [Float]
        /// Mean attention from a second-half token to its own earlier copy.
        public var duplicateToken: [Float]
        /// Mean attention from a second-half token to the token after its earlier copy.
        public var induction: [Float]

        public init(heads: [HeadID], previousToken: [Float], duplicateToken: [Float], induction: [Float]) {
            self.heads = heads
            self.previousToken = previousToken
            self.duplicateToken = duplicateToken
            self.induction = induction
        }

        /// The strongest role of each head whose score passes `threshold`.
        public func roles(threshold: Float = 0.4) -> [HeadID: String] {
            var roles: [HeadID: String] = [:]
            for (i, head) in heads.enumerated() {
                let candidates = [("induction", induction[i]), ("previous token", previousToken[i]), ("duplicate token", duplicateToken[i])]
                if let best = candidates.max(by: { $0.1 < $1.1 }), best.1 >= threshold { roles[head] = best.0 }
            }
            return roles
        }
    }

    /// Scores every head on `count` sequences of BOS + a random run of `length` tokens repeated twice.
    ///
    /// - Parameter vocabulary: token ids to draw from (avoid special tokens).
    public static func score(model: Transformer, vocabulary: [Int], bos: Int, length: Int = 20, count: Int = 16, seed: UInt64 = 0,
                             interventions: [Intervention] = []) throws -> Scores {
        let c = model.config
        var rng = SeededRandom(seed: seed)
        let rows = (0..<count).map { _ -> [Int] in
            let run = (0..<length).map { _ in vocabulary[Int(rng.next() % UInt64(vocabulary.count))] }
            return [bos] + run + run
        }
        let t = 2 * length + 1
        let cache = try model.run(TokenBatch(rows: rows), logits: .none, capture: CaptureSpec(where: { $0.point == .pattern }),
                                  interventions: interventions).cache
        var previous = [Float](repeating: 0, count: c.layers * c.heads)
        var duplicate = previous, induction = previous
        for layer in 0..<c.layers {
            let pattern = cache[.pattern(layer)]!                           // [batch, head, q, k]
            for h in 0..<c.heads {
                var p: Float = 0, d: Float = 0, ind: Float = 0
                for b in 0..<count {
                    let base = (b * c.heads + h) * t * t
                    for q in 2..<t { p += pattern.storage[base + q * t + q - 1] }
                    for q in (length + 1)..<t {
                        d += pattern.storage[base + q * t + q - length]
                        ind += pattern.storage[base + q * t + q - length + 1]
                    }
                }
                let i = layer * c.heads + h
                previous[i] = p / Float(count * (t - 2))
                duplicate[i] = d / Float(count * length)
                induction[i] = ind / Float(count * length)
            }
        }
        return Scores(heads: HeadID.all(layers: c.layers, heads: c.heads), previousToken: previous,
                      duplicateToken: duplicate, induction: induction)
    }
}
