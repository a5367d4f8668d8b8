import XCTest
import MechanicBackward
import MechanicModel
import MechanicTensor
import MechanicTokenizer

/// A gradient run returns what its tape saved, equal to what a plain run captures.
final class GradientCaptureTests: XCTestCase {
    func testTapeActivationsEqualAPlainRunsCapture() throws {
        let config = TransformerConfig(layers: 2, heads: 2, dModel: 8, contextLength: 16, vocabSize: 30, innerDimension: 12)
        let model = try Transformer(config: config, weights: .random(config: config, seed: 3, std: 0.5))
        let batch = TokenBatch(rows: [[1, 2, 3, 4, 5], [6, 7, 8]])
        let names: [HookName] = [.ln1Normalized(0), .ln1Scale(1), .ln2Normalized(1), .ln2Scale(0), .lnFinalNormalized, .lnFinalScale,
                                 .z(1), .pattern(0), .mlpPre(0), .mlpPost(1)]
        let plain = try model.run(batch, logits: .none, capture: CaptureSpec(names: names)).cache
        let objective = { (logits: Tensor) -> (Float, Tensor) in
            var g = Tensor(shape: logits.shape)
            g.storage[3] = 1
            return (logits.storage[3], g)
        }
        let (value, gradients, cache) = try model.activationGradients(batch, at: [.z(0)], capture: names, objective: objective)
        for name in names {
            let a = try XCTUnwrap(cache[name], "\(name)"), b = try XCTUnwrap(plain[name])
            XCTAssertEqual(a.shape, b.shape, "\(name)")
            XCTAssertLessThan(a.maxAbsDifference(b), 1e-5, "\(name)")
        }
        let (plainValue, plainGradients) = try model.activationGradients(batch, at: [.z(0)], objective: objective)
        XCTAssertEqual(value, plainValue)
        XCTAssertEqual(gradients[.z(0)], plainGradients[.z(0)])
        XCTAssertThrowsError(try model.activationGradients(batch, at: [], capture: [.residPre(0)], objective: objective))
    }

    /// Gemma's attention post-norm is on the tape too (the edge methods read it).
    func testTapeHoldsThePostNorm() throws {
        var config = TransformerConfig(layers: 2, heads: 2, dModel: 8, contextLength: 16, vocabSize: 30, innerDimension: 12)
        config.norm = .rmsNorm
        config.postNorms = true
        let model = try Transformer(config: config, weights: .random(config: config, seed: 5, std: 0.5))
        let batch = TokenBatch(rows: [[1, 2, 3, 4], [6, 7]])
        let names: [HookName] = [.ln1PostNormalized(0), .ln1PostScale(1)]
        let plain = try model.run(batch, logits: .none, capture: CaptureSpec(names: names)).cache
        let (_, _, cache) = try model.activationGradients(batch, at: [.z(0)], capture: names) { logits in
            var g = Tensor(shape: logits.shape)
            g.storage[1] = 1
            return (logits.storage[1], g)
        }
        for name in names {
            let a = try XCTUnwrap(cache[name], "\(name)"), b = try XCTUnwrap(plain[name])
            XCTAssertEqual(a.shape, b.shape, "\(name)")
            XCTAssertLessThan(a.maxAbsDifference(b), 1e-5, "\(name)")
        }
    }
}
