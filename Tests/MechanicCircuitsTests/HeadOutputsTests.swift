import XCTest
@testable import MechanicCircuits
import MechanicModel
import MechanicTensor
import MechanicTokenizer

final class HeadOutputsTests: XCTestCase {
    func testMeanAndPositionReductionsMatchTheCache() throws {
        let config = TransformerConfig(layers: 2, heads: 3, dModel: 12, contextLength: 16, vocabSize: 30, innerDimension: 8)
        let model = try Transformer(config: config, weights: .random(config: config, seed: 3, std: 0.3))
        let prompts = [[1, 2, 3, 4, 5], [6, 7, 8], [9, 10, 11, 12]]
        // Batches of 2 put padding in play; each prompt is checked against its own unpadded run.
        let means = try HeadOutputs.capture(model: model, prompts: prompts, batchSize: 2)
        let lasts = try HeadOutputs.capture(model: model, prompts: prompts, reduction: .position(-1), batchSize: 2)
        XCTAssertEqual(means.shape, [3, 6, 12])
        for (e, prompt) in prompts.enumerated() {
            let cache = try model.run(TokenBatch(prompt), capture: CaptureSpec(where: { $0.point == .result })).cache
            for layer in 0..<2 {
                let result = cache[.result(layer)]!
                for h in 0..<3 {
                    for i in 0..<12 {
                        let mean = (0..<prompt.count).reduce(Float(0)) { $0 + result[0, $1, h, i] } / Float(prompt.count)
                        XCTAssertEqual(means[e, layer * 3 + h, i], mean, accuracy: 1e-5)
                        XCTAssertEqual(lasts[e, layer * 3 + h, i], result[0, prompt.count - 1, h, i], accuracy: 1e-5)
                    }
                }
            }
        }
    }
}
