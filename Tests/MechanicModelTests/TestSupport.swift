import Foundation
import XCTest
@testable import MechanicModel
import MechanicSafetensors
import MechanicTensor
import MechanicTokenizer

/// Paths of the repository and its test fixtures, found from this file's location.
enum TestPaths {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = repository.appendingPathComponent("Tests/Fixtures")
    static func model(_ name: String) -> URL { fixtures.appendingPathComponent("models/\(name)") }
}

/// A small random model: weights larger than GPT-2's init so attention is far from uniform.
func tinyModel(attentionOnly: Bool = false, heads: Int = 3, layers: Int = 2, seed: UInt64 = 7) throws -> Transformer {
    let config = TransformerConfig(layers: layers, heads: heads, dModel: 12, contextLength: 16, vocabSize: 50,
                            innerDimension: 20, attentionOnly: attentionOnly)
    var weights = TransformerWeights.random(config: config, seed: seed, std: 0.5)
    var rng = SeededRandom(seed: seed &+ 99)
    // Non-trivial gains and biases, so a bug that skips them shows.
    for l in 0..<layers {
        weights.blocks[l].ln1Gain = Tensor.randomNormal([12], std: 0.2, using: &rng).adding(1)
        weights.blocks[l].qkvBias = Tensor.randomNormal([36], std: 0.2, using: &rng)
        weights.blocks[l].attnOutBias = Tensor.randomNormal([12], std: 0.2, using: &rng)
    }
    weights.finalNormBias = Tensor.randomNormal([12], std: 0.2, using: &rng)
    return try Transformer(config: config, weights: weights)
}

func randomBatch(rows: [Int], vocab: Int = 50, seed: UInt64 = 3) -> TokenBatch {
    var rng = SeededRandom(seed: seed)
    return TokenBatch(rows: rows.map { n in (0..<n).map { _ in Int(rng.next() % UInt64(vocab)) } })
}

extension Tensor {
    func adding(_ value: Float) -> Tensor {
        Tensor(shape: shape, storage: storage.map { $0 + value })
    }

    /// Elements `[b, p, ...]` for `b` in a row, `p < length` (real tokens of a right-padded batch).
    func realPositions(row b: Int, length: Int, positionAxis: Int = 1) -> [Float] {
        precondition(positionAxis == 1)
        let inner = shape[2...].reduce(1, *)
        let start = b * shape[1] * inner
        return Array(storage[start..<(start + length * inner)])
    }
}

func XCTAssertClose(_ a: Tensor?, _ b: Tensor?, tolerance: Float, _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
    guard let a, let b else { return XCTFail("missing tensor \(message)", file: file, line: line) }
    guard a.shape == b.shape else { return XCTFail("shape \(a.shape) ≠ \(b.shape) \(message)", file: file, line: line) }
    let diff = a.maxAbsDifference(b)
    XCTAssertLessThanOrEqual(diff, tolerance, "max |Δ| \(diff) \(message)", file: file, line: line)
}

/// The batch of a fixture's `input_ids` (I64 `[batch, pos]`), each row cut to its `mask` length
/// when an attention mask is named.
func fixtureBatch(_ file: SafetensorsFile, ids: String = "input_ids", mask: String? = nil) throws -> TokenBatch {
    let shape = file.info(ids)!.shape
    let flat = try file.int64Array(ids).map(Int.init)
    let lengths = try mask.map { m in
        let values = try file.int64Array(m)
        return (0..<shape[0]).map { r in (0..<shape[1]).reduce(0) { $0 + Int(values[r * shape[1] + $1]) } }
    } ?? Array(repeating: shape[1], count: shape[0])
    return TokenBatch(rows: (0..<shape[0]).map { r in Array(flat[(r * shape[1])..<(r * shape[1] + lengths[r])]) })
}

/// A right-padded batch (`expected-padded.safetensors`: `input_ids`, `attention_mask`, HF's
/// `logits`) gives HF's logits at every real position of every row.
func assertPaddedBatchMatchesHuggingFace(folder: URL, tolerance: Float, file: StaticString = #filePath, line: UInt = #line) throws {
    let model = try CheckpointLoader.load(folder: folder)
    let expected = try SafetensorsFile(path: folder.appendingPathComponent("expected-padded.safetensors").path)
    let input = try fixtureBatch(expected, mask: "attention_mask")
    XCTAssertTrue(input.isPadded, file: file, line: line)
    let logits = try model.run(input).logits!
    let reference = try expected.tensor("logits")
    for r in 0..<input.batch {
        let mine = logits.realPositions(row: r, length: input.lengths[r])
        let theirs = reference.realPositions(row: r, length: input.lengths[r])
        XCTAssertLessThanOrEqual(zip(mine, theirs).map { abs($0 - $1) }.max()!, tolerance, "row \(r)", file: file, line: line)
    }
}
