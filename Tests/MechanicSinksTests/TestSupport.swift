import Foundation
import MechanicModel
import MechanicTensor
import MechanicTokenizer
@testable import MechanicSinks

/// Paths of the repository and its test fixtures, found from this file's location.
enum TestPaths {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static func model(_ name: String) -> URL { repository.appendingPathComponent("Tests/Fixtures/models/\(name)") }
}

/// A hand-built two-layer attention-only model with known sinks.
///
/// Vocabulary: 0 = BOS, 1 = the marker X, 2…6 ordinary tokens (one-hot embeddings), 7 an
/// ordinary token whose embedding carries a massive value 5000 in dimension 7. Every query
/// is a constant (the query bias); keys read the layer-normed embedding:
/// - a *BOS head* scores the BOS dimension, so every query attends to position 0;
/// - an *X head* scores X highest and BOS second, so queries before X attend to BOS and
///   queries from X on attend to X: a hidden sink at X's position.
/// Layer 0: head 0 = BOS head, head 1 = X head. Layer 1: swapped. W_O is zero, so the
/// residual stream is the embedding at every layer and the massive value survives exactly.
enum SinkModel {
    static let bos = 0, marker = 1, massiveToken = 7
    static let config = TransformerConfig(layers: 2, heads: 2, dModel: 8, contextLength: 16, vocabSize: 8, attentionOnly: true,
                                   bosTokenID: 0, eosTokenID: 0)

    static func make() throws -> Transformer {
        let d = 8, dh = 4
        func embedding() -> Tensor {
            var t = Tensor(shape: [8, d])
            t.storage[0 * d + 0] = 10
            t.storage[1 * d + 1] = 10
            for id in 2...6 { t.storage[id * d + id] = 1 }
            for i in 0..<7 { t.storage[7 * d + i] = 1 }
            t.storage[7 * d + 7] = 5000
            return t
        }
        /// qkv weights: constant queries (bias), keys from the BOS and X dimensions, identity values.
        func attention(bosHead: Int, markerHead: Int) -> (Tensor, Tensor) {
            var w = Tensor(shape: [d, 3 * d])
            var b = Tensor(shape: [3 * d])
            b.storage[bosHead * dh] = 1
            b.storage[markerHead * dh] = 1
            w.storage[0 * 3 * d + d + bosHead * dh] = 20
            w.storage[0 * 3 * d + d + markerHead * dh] = 10
            w.storage[1 * 3 * d + d + markerHead * dh] = 20
            for i in 0..<d { w.storage[i * 3 * d + 2 * d + i] = 1 }
            return (w, b)
        }
        let weights = try TransformerWeights(config: config) { path, shape in
            switch path {
            case "tokenEmbedding": return embedding()
            case "blocks.0.qkvWeight": return attention(bosHead: 0, markerHead: 1).0
            case "blocks.0.qkvBias": return attention(bosHead: 0, markerHead: 1).1
            case "blocks.1.qkvWeight": return attention(bosHead: 1, markerHead: 0).0
            case "blocks.1.qkvBias": return attention(bosHead: 1, markerHead: 0).1
            default: return Tensor(shape: shape, repeating: path.hasSuffix("Gain") ? 1 : 0)
            }
        }
        return try Transformer(config: config, weights: weights)
    }

    /// Prompts without BOS: X at position 1, 0 and 0; the massive token at position 5 of the first.
    static let prompts: [[Int]] = [[2, 1, 3, 4, 5, 7, 6], [1, 3, 4, 2], [1, 5, 6]]

    static func text(_ id: Int) -> String {
        switch id {
        case bos: return "<bos>"
        case marker: return " X"
        default: return "t\(id)"
        }
    }
}

/// A random model (weights larger than GPT-2's init, so attention is far from uniform).
func randomModel(layers: Int = 2, heads: Int = 3, seed: UInt64 = 7) throws -> Transformer {
    let config = TransformerConfig(layers: layers, heads: heads, dModel: 12, contextLength: 16, vocabSize: 50, innerDimension: 20)
    return try Transformer(config: config, weights: TransformerWeights.random(config: config, seed: seed, std: 0.5))
}

func randomRows(_ lengths: [Int], vocab: Int = 50, seed: UInt64 = 3) -> [[Int]] {
    var rng = SeededRandom(seed: seed)
    return lengths.map { n in (0..<n).map { _ in Int(rng.next() % UInt64(vocab)) } }
}

/// A `[batch, head, query, key]` tensor built from per-(row, head) matrices, padded with `fill`.
func patternTensor(_ blocks: [[[[Float]]]], positions t: Int, fill: Float = 0) -> Tensor {
    let b = blocks.count, h = blocks[0].count
    var tensor = Tensor(shape: [b, h, t, t], repeating: fill)
    for r in 0..<b { for hi in 0..<h {
        for (i, row) in blocks[r][hi].enumerated() { for (j, v) in row.enumerated() {
            tensor.storage[((r * h + hi) * t + i) * t + j] = v
        } }
    } }
    return tensor
}
