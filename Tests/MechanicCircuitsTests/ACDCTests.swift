import XCTest
@testable import MechanicCircuits
import MechanicModel
import MechanicTasks
import MechanicTensor
import MechanicTokenizer

final class ACDCTests: XCTestCase {
    let config = TransformerConfig(layers: 2, heads: 3, dModel: 12, contextLength: 16, vocabSize: 25, innerDimension: 8)

    func prompts(seed: UInt64) -> [TaskPrompt] {
        var rng = SeededRandom(seed: seed)
        return (0..<6).map { _ in
            TaskPrompt(text: "", tokens: (0..<6).map { _ in Int(rng.next() % 25) }, answers: [Int(rng.next() % 25)],
                       wrongAnswers: [Int(rng.next() % 25)], corruptedTokens: (0..<6).map { _ in Int(rng.next() % 25) })
        }
    }

    func testThresholdsBoundTheCircuit() throws {
        let model = try Transformer(config: config, weights: .random(config: config, seed: 7, std: 0.5))
        let set = prompts(seed: 1)
        // τ = 0 keeps every head whose ablation increases the KL at all; an enormous τ prunes everything.
        let all = try ACDC.run(model: model, prompts: set, metric: .logitDifference, threshold: -1)
        XCTAssertEqual(all.circuit.count, 6)
        let none = try ACDC.run(model: model, prompts: set, metric: .logitDifference, threshold: 1e9)
        XCTAssertTrue(none.circuit.isEmpty)
        let some = try ACDC.run(model: model, prompts: set, metric: .logitDifference, threshold: 1e-3)
        for head in some.circuit { XCTAssertGreaterThanOrEqual(some.scores.score(of: head)!, 1e-3) }
    }

    func testTheFirstTrialEqualsAblatingThatHeadAlone() throws {
        // The last head is tried first, against the full model: its score is the KL of ablating it alone.
        let model = try Transformer(config: config, weights: .random(config: config, seed: 8, std: 0.5))
        let set = prompts(seed: 2)
        let result = try ACDC.run(model: model, prompts: set, metric: .logitDifference, threshold: 0.01)
        let batch = TokenBatch(rows: set.map(\.tokens))
        let full = try model.run(batch, logits: .last).logits!
        let corrupted = try model.run(TokenBatch(rows: set.map { $0.corruptedTokens! }), logits: .none,
                                      capture: CaptureSpec(names: [.z(1)])).cache
        let ablated = try model.run(batch, logits: .last, interventions: [Intervention(.z(1), heads: [2], .patch(corrupted))]).logits!
        var kl: Float = 0
        full.storage.withUnsafeBufferPointer { f in
            ablated.storage.withUnsafeBufferPointer { a in
                for i in 0..<6 {
                    kl += ACDC.klDivergence(UnsafeBufferPointer(rebasing: f[(i * 25)..<((i + 1) * 25)]),
                                            UnsafeBufferPointer(rebasing: a[(i * 25)..<((i + 1) * 25)]))
                }
            }
        }
        XCTAssertEqual(result.scores.score(of: HeadID(layer: 1, head: 2))!, kl / 6, accuracy: 1e-5)
    }

    func testKLDivergenceOfIdenticalDistributionsIsZero() {
        let x: [Float] = [1, 2, 3, -4]
        x.withUnsafeBufferPointer { XCTAssertEqual(ACDC.klDivergence($0, $0), 0, accuracy: 1e-7) }
        let y: [Float] = [3, 2, 1, -4]
        x.withUnsafeBufferPointer { a in y.withUnsafeBufferPointer { b in XCTAssertGreaterThan(ACDC.klDivergence(a, b), 0) } }
    }
}
