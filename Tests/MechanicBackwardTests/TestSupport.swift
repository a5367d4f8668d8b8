import Foundation
import XCTest
@testable import MechanicBackward
import MechanicModel
import MechanicTensor
import MechanicTokenizer

/// Paths of the repository and its test fixtures, found from this file's location.
enum TestPaths {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = repository.appendingPathComponent("Tests/Fixtures")
    static func model(_ name: String) -> URL { fixtures.appendingPathComponent("models/\(name)") }
    static func gradients(_ name: String) -> URL { fixtures.appendingPathComponent("gradients/\(name).safetensors") }
}

/// A really tiny random model for finite differences: every parameter (gains and biases too)
/// drawn away from its default, so a gradient that skips one shows.
func tinyModel(layers: Int = 2, heads: Int = 2, dModel: Int = 8, context: Int = 8, vocab: Int = 11,
               dMLP: Int = 12, attentionOnly: Bool = false, seed: UInt64 = 5) throws -> Transformer {
    let config = TransformerConfig(layers: layers, heads: heads, dModel: dModel, contextLength: context, vocabSize: vocab,
                            innerDimension: dMLP, attentionOnly: attentionOnly)
    var rng = SeededRandom(seed: seed)
    let weights = try TransformerWeights(config: config) { path, shape in
        if path.hasSuffix("Gain") { return Tensor.randomNormal(shape, std: 0.2, using: &rng).adding(1) }
        if path.hasSuffix("Bias") { return Tensor.randomNormal(shape, std: 0.2, using: &rng) }
        return Tensor.randomNormal(shape, std: 0.5, using: &rng)
    }
    return try Transformer(config: config, weights: weights)
}

/// A tiny random model of tracr's compiled architecture: no normalisation, bidirectional attention,
/// ReLU MLPs, untied unembedding, and heads narrower than the residual (`2 · 3 ≠ 8`).
func tracrShapedModel(context: Int = 8, seed: UInt64 = 7) throws -> Transformer {
    var config = TransformerConfig(layers: 2, heads: 2, dModel: 8, contextLength: context, vocabSize: 11, innerDimension: 12,
                                   activation: .relu)
    config.modelType = "tracr"
    (config.dHead, config.attentionScale) = (3, 1 / Float(3).squareRoot())
    (config.norm, config.causal, config.tiedEmbeddings) = (.none, false, false)
    var rng = SeededRandom(seed: seed)
    let weights = try TransformerWeights(config: config) { path, shape in
        if path.hasSuffix("Bias") { return Tensor.randomNormal(shape, std: 0.2, using: &rng) }
        return Tensor.randomNormal(shape, std: 0.5, using: &rng)
    }
    return try Transformer(config: config, weights: weights)
}

/// Random rows of token ids with the given lengths (right-padded into a batch).
func randomBatch(lengths: [Int], vocab: Int, seed: UInt64 = 3) -> TokenBatch {
    var rng = SeededRandom(seed: seed)
    return TokenBatch(rows: lengths.map { n in (0..<n).map { _ in Int(rng.next() % UInt64(vocab)) } })
}

extension Tensor {
    func adding(_ value: Float) -> Tensor {
        Tensor(shape: shape, storage: storage.map { $0 + value })
    }

    /// Largest absolute element.
    var maxAbs: Float { storage.reduce(0) { max($0, abs($1)) } }
}

/// Gradient comparison with a tolerance relative to the reference's largest element:
/// `max|a − b| ≤ relative · max|b| + absolute`. Returns the achieved ratio `max|a − b| / max|b|`.
@discardableResult
func assertGradientsClose(_ a: Tensor?, _ b: Tensor?, relative: Float, absolute: Float = 0, _ message: String,
                          file: StaticString = #filePath, line: UInt = #line) -> Float {
    guard let a, let b else {
        XCTFail("missing tensor: \(message)", file: file, line: line)
        return .infinity
    }
    guard a.count == b.count else {
        XCTFail("shape \(a.shape) ≠ \(b.shape): \(message)", file: file, line: line)
        return .infinity
    }
    let diff = a.reshaped(b.shape).maxAbsDifference(b)
    let scale = b.maxAbs
    XCTAssertLessThanOrEqual(diff, relative * scale + absolute,
                             "max |Δ| \(diff), max |reference| \(scale): \(message)", file: file, line: line)
    return scale > 0 ? diff / scale : diff
}
