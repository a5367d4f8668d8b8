import XCTest
@testable import MechanicCircuits
import MechanicModel
import MechanicTasks
import MechanicTensor

final class FaithfulnessTests: XCTestCase {
    func testFullCircuitRecoversEverythingAndEmptyEqualsAllAblated() throws {
        let config = TransformerConfig(layers: 2, heads: 3, dModel: 12, contextLength: 16, vocabSize: 25, innerDimension: 8)
        let model = try Transformer(config: config, weights: .random(config: config, seed: 4, std: 0.5))
        var rng = SeededRandom(seed: 3)
        // More prompts than one metric batch (32), of two lengths, so padding and batching are both in play.
        let prompts = (0..<40).map { i in
            TaskPrompt(text: "", tokens: (0..<(6 + i % 2)).map { _ in Int(rng.next() % 25) }, answers: [1], wrongAnswers: [2],
                       corruptedTokens: (0..<(6 + i % 2)).map { _ in Int(rng.next() % 25) })
        }
        let everything = Set(HeadID.all(layers: 2, heads: 3))
        for ablation in Faithfulness.Ablation.allCases {
            let full = try Faithfulness.evaluate(model: model, prompts: prompts, metric: .logitDifference, circuit: everything,
                                                 ablation: ablation, randomTrials: 3, seed: 1)
            let clean = try TaskDataset.metricValues(model: model, prompts: prompts, metric: .logitDifference)
            XCTAssertEqual(full.fullModel, clean.reduce(0, +) / 40, accuracy: 1e-5)
            XCTAssertEqual(full.circuit, full.fullModel, accuracy: 1e-5)
            XCTAssertEqual(full.recovered, 1, accuracy: 1e-4)
            // Random sets of all six heads are the full model again.
            for r in full.random { XCTAssertEqual(r, full.fullModel, accuracy: 1e-5) }
            let empty = try Faithfulness.evaluate(model: model, prompts: prompts, metric: .logitDifference, circuit: [],
                                                  ablation: ablation, randomTrials: 0)
            XCTAssertEqual(empty.complement, empty.fullModel, accuracy: 1e-5)
            XCTAssertEqual(empty.circuit, full.complement, accuracy: 1e-5)
        }
    }
}
