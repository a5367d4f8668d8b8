import XCTest
@testable import MechanicTasks
import MechanicModel
import MechanicTokenizer

final class TaskMetricTests: XCTestCase {
    func testLogitAndProbabilityDifferences() {
        let logits: [Float] = [2, 0, 1, -1]
        let prompt = TaskPrompt(text: "", tokens: [0], answers: [0, 2], wrongAnswers: [3])
        logits.withUnsafeBufferPointer { l in
            XCTAssertEqual(TaskMetric.logitDifference.value(logits: l, prompt: prompt), 1.5 - (-1), accuracy: 1e-6)
            let e = logits.map { exp(Double($0)) }, z = e.reduce(0, +)
            XCTAssertEqual(Double(TaskMetric.probabilityDifference.value(logits: l, prompt: prompt)), (e[0] + e[2] - e[3]) / z, accuracy: 1e-6)
            XCTAssertTrue(TaskMetric.logitDifference.isCorrect(logits: l, prompt: prompt))
        }
    }

    func testKeepingCorrectDropsWrongPositivesAndCountsThem() throws {
        let config = TransformerConfig(layers: 1, heads: 2, dModel: 8, contextLength: 8, vocabSize: 10, innerDimension: 8)
        let model = try Transformer(config: config, weights: .random(config: config, seed: 2, std: 1))
        let logits = try model.run(TokenBatch([1, 2, 3]), logits: .last).logits!.storage
        let best = logits.indices.max { logits[$0] < logits[$1] }!, worst = logits.indices.min { logits[$0] < logits[$1] }!
        let right = TaskPrompt(text: "", tokens: [1, 2, 3], answers: [best], wrongAnswers: [worst])
        let wrong = TaskPrompt(text: "", tokens: [1, 2, 3], answers: [worst], wrongAnswers: [best])
        let kept = try TaskDataset(task: "t", metric: .logitDifference, positives: [right, wrong, right], negatives: [wrong])
            .keepingCorrect(model: model)
        XCTAssertEqual(kept.positives, [right, right])
        XCTAssertEqual(kept.negatives, [wrong])
        XCTAssertEqual(kept.droppedPositives, 1)
    }
}
