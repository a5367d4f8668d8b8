import XCTest
@testable import MechanicCircuits
import MechanicModel
import MechanicTasks
import MechanicTensor
import MechanicTokenizer

final class AttributionTests: XCTestCase {
    let config = TransformerConfig(layers: 2, heads: 3, dModel: 12, contextLength: 16, vocabSize: 20, innerDimension: 8)

    func prompts(_ rng: inout SeededRandom, sameCorruption: Bool = false) -> [TaskPrompt] {
        (0..<4).map { i in
            let tokens = (0..<(5 + i % 2)).map { _ in Int(rng.next() % 20) }
            return TaskPrompt(text: "", tokens: tokens, answers: [1, 2], wrongAnswers: [3],
                              corruptedTokens: sameCorruption ? tokens : (0..<tokens.count).map { _ in Int(rng.next() % 20) })
        }
    }

    func testObjectiveGradientsMatchFiniteDifferences() throws {
        var rng = SeededRandom(seed: 1)
        let set = prompts(&rng)
        let batch = TokenBatch(rows: set.map(\.tokens))
        let logits = Tensor.randomNormal([4, batch.positions, 20], std: 2, using: &rng)
        for metric in TaskMetric.allCases {
            let f = AttributionPatching.objective(batch, prompts: set, metric: metric)
            let (_, gradient) = try f(logits)
            for i in stride(from: 0, to: logits.count, by: 7) {
                var plus = logits, minus = logits
                plus.storage[i] += 1e-2
                minus.storage[i] -= 1e-2
                let numeric = (try f(plus).0 - f(minus).0) / 2e-2
                XCTAssertEqual(gradient.storage[i], numeric, accuracy: 2e-3, "\(metric) [\(i)]")
            }
        }
    }

    func testScoresAreFirstOrderEstimatesOfPatching() throws {
        let model = try Transformer(config: config, weights: .random(config: config, seed: 4, std: 0.5))
        var rng = SeededRandom(seed: 2)
        // Corrupted = clean: nothing to patch, so attribution is exactly zero.
        let same = try AttributionPatching.run(model: model, prompts: prompts(&rng, sameCorruption: true), metric: .logitDifference)
        XCTAssertTrue(same.attribution.scores.allSatisfy { $0 == 0 })
        // Gradient × activation equals the derivative of scaling a head's output.
        let set = prompts(&rng)
        let result = try AttributionPatching.run(model: model, prompts: set, metric: .logitDifference)
        for head in [HeadID(layer: 0, head: 1), HeadID(layer: 1, head: 2)] {
            func metric(scale: Float) throws -> Float {
                let scaleHead = Intervention(.z(head.layer), .custom { z, _ in
                    let (h, dh) = (3, 4)
                    for i in 0..<z.count where (i / dh) % h == head.head { z.storage[i] *= scale }
                })
                return try TaskDataset.metricValues(model: model, prompts: set, metric: .logitDifference, interventions: [scaleHead])
                    .reduce(0, +) / Float(set.count)
            }
            let derivative = (try metric(scale: 1.001) - metric(scale: 0.999)) / 0.002
            XCTAssertEqual(result.gradientTimesActivation.score(of: head)!, abs(derivative), accuracy: 2e-3 + 0.01 * abs(derivative), "\(head)")
        }
    }
}
