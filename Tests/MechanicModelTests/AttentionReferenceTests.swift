import XCTest
@testable import MechanicModel
import MechanicTensor
import MechanicTokenizer

/// Attention against a double-precision reference built from the captured q, k and v, on short
/// prompts (inline SIMD path) and on prompts long enough for the tiled BLAS path.
final class AttentionReferenceTests: XCTestCase {
    func testPatternAndZMatchNaiveAttentionOnShortAndLongPrompts() throws {
        let config = TransformerConfig(layers: 1, heads: 2, dModel: 16, contextLength: 160, vocabSize: 40, innerDimension: 8)
        let model = try Transformer(config: config, weights: .random(config: config, seed: 5, std: 0.4))
        for length in [9, Transformer.attentionTile + 1, 150] {
            let batch = randomBatch(rows: [length], vocab: 40, seed: UInt64(length))
            let names: [HookName] = [.q(0), .k(0), .v(0), .attnScores(0), .pattern(0), .z(0)]
            let cache = try model.run(batch, logits: .none, capture: CaptureSpec(names: names)).cache
            let (q, k, v) = (cache[.q(0)]!, cache[.k(0)]!, cache[.v(0)]!)
            for h in 0..<2 {
                let qh = Tensor(shape: [length, 8], storage: (0..<length).flatMap { p in (0..<8).map { q[0, p, h, $0] } })
                let kh = Tensor(shape: [length, 8], storage: (0..<length).flatMap { p in (0..<8).map { k[0, p, h, $0] } })
                let vh = Tensor(shape: [length, 8], storage: (0..<length).flatMap { p in (0..<8).map { v[0, p, h, $0] } })
                var scores = NaiveKernels.matmul(qh, kh, transposeB: true)
                scores.storage = scores.storage.map { $0 / 8.0.squareRoot().float }
                let pattern = NaiveKernels.causalSoftmax(scores)
                let z = NaiveKernels.matmul(pattern, vh)
                for i in 0..<length {
                    for j in 0..<length {
                        XCTAssertEqual(cache[.pattern(0)]![0, h, i, j], pattern[i, j], accuracy: 1e-5)
                        let s = cache[.attnScores(0)]![0, h, i, j]
                        if j > i { XCTAssertEqual(s, -.infinity) } else { XCTAssertEqual(s, scores[i, j], accuracy: 1e-4) }
                    }
                    for e in 0..<8 { XCTAssertEqual(cache[.z(0)]![0, i, h, e], z[i, e], accuracy: 1e-5, "length \(length)") }
                }
            }
        }
    }
}

private extension Double {
    var float: Float { Float(self) }
}

final class StreamedAttentionTests: XCTestCase {
    /// Long prompts stream attention through a scratch tile unless a hook needs the pattern;
    /// both paths must give the same z, bit for bit.
    func testStreamedAndMaterialisedAttentionAgree() throws {
        let config = TransformerConfig(layers: 2, heads: 3, dModel: 24, contextLength: 200, vocabSize: 40, innerDimension: 16)
        let model = try Transformer(config: config, weights: .random(config: config, seed: 9, std: 0.4))
        let batch = randomBatch(rows: [150, 97], vocab: 40, seed: 4)
        let streamed = try model.run(batch, capture: CaptureSpec(names: [.z(0), .z(1)]))
        let materialised = try model.run(batch, capture: CaptureSpec(names: [.z(0), .z(1), .pattern(0), .attnScores(1)]))
        XCTAssertEqual(streamed.cache[.z(0)], materialised.cache[.z(0)])
        XCTAssertEqual(streamed.cache[.z(1)], materialised.cache[.z(1)])
        XCTAssertEqual(streamed.logits, materialised.logits)
    }
}
