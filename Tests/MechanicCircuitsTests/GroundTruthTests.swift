import XCTest
@testable import MechanicCircuits
import MechanicModel
import MechanicTasks
import MechanicTensor

final class GroundTruthTests: XCTestCase {
    let config = TransformerConfig(layers: 2, heads: 3, dModel: 12, contextLength: 48, vocabSize: 25, innerDimension: 8)

    func testHeadTypeScoresReadPlantedPatterns() throws {
        let model = try Transformer(config: config, weights: .random(config: config, seed: 2, std: 0.3))
        let length = 10, t = 2 * length + 1
        // Head 0 attends to the previous token, head 1 to the earlier copy, head 2 to the token after it.
        let plant = Intervention(.pattern(0), .custom { pattern, _ in
            for b in 0..<pattern.shape[0] {
                for h in 0..<3 {
                    for q in 0..<t {
                        let base = ((b * 3 + h) * t + q) * t
                        for k in 0..<t { pattern.storage[base + k] = 0 }
                        var target = 0
                        if h == 0 { target = max(0, q - 1) }
                        if h == 1 { target = q > length ? q - length : 0 }
                        if h == 2 { target = q > length ? q - length + 1 : 0 }
                        pattern.storage[base + target] = 1
                    }
                }
            }
        })
        let scores = try HeadTypes.score(model: model, vocabulary: Array(1..<25), bos: 0, length: length, count: 4, interventions: [plant])
        XCTAssertEqual(scores.previousToken[0], 1, accuracy: 1e-6)
        XCTAssertEqual(scores.duplicateToken[1], 1, accuracy: 1e-6)
        XCTAssertEqual(scores.induction[2], 1, accuracy: 1e-6)
        let roles = scores.roles()
        XCTAssertEqual(roles[HeadID(layer: 0, head: 0)], "previous token")
        XCTAssertEqual(roles[HeadID(layer: 0, head: 1)], "duplicate token")
        XCTAssertEqual(roles[HeadID(layer: 0, head: 2)], "induction")
    }

    func testEliminationStopsWhereEveryFurtherRemovalBreaksTheMetric() throws {
        let model = try Transformer(config: config, weights: .random(config: config, seed: 5, std: 0.6))
        var rng = SeededRandom(seed: 1)
        var prompts = (0..<8).map { _ in
            TaskPrompt(text: "", tokens: (0..<6).map { _ in Int(rng.next() % 25) }, answers: [3], wrongAnswers: [4])
        }
        // Make the metric positive for every prompt: the answer is whatever the model prefers.
        let logits = try TaskDataset.metricValues(model: model, prompts: prompts, metric: .logitDifference)
        for i in prompts.indices where logits[i] < 0 { prompts[i].answers = [4]; prompts[i].wrongAnswers = [3] }
        let circuit = try GroundTruth.derive(model: model, task: "t", prompts: prompts, metric: .logitDifference, retain: 0.9)
        let f = circuit.faithfulness
        XCTAssertGreaterThanOrEqual(f.circuit, 0.9 * f.fullModel - 1e-5)
        XCTAssertEqual(f.random.count, 20)
        // Removing any further head would fall below the bar (or nothing is left to remove).
        if circuit.heads.count > 1 {
            for head in circuit.heads {
                let smaller = circuit.headSet.subtracting([head.head])
                let r = try Faithfulness.evaluate(model: model, prompts: prompts, metric: .logitDifference, circuit: smaller, randomTrials: 0)
                XCTAssertLessThan(r.circuit, 0.9 * f.fullModel + 1e-5, "\(head.head)")
            }
        }
    }

    /// The elimination recomputes only the layers after each candidate; a plain greedy loop over
    /// full forward passes must pick the same heads in the same order.
    func testEliminationEqualsGreedyOverFullRuns() throws {
        let deeper = TransformerConfig(layers: 3, heads: 3, dModel: 12, contextLength: 48, vocabSize: 25, innerDimension: 8)
        let model = try Transformer(config: deeper, weights: .random(config: deeper, seed: 9, std: 0.6))
        var rng = SeededRandom(seed: 2)
        var prompts = (0..<8).map { i in
            TaskPrompt(text: "", tokens: (0..<(5 + i % 3)).map { _ in Int(rng.next() % 25) }, answers: [3], wrongAnswers: [4])
        }
        let logits = try TaskDataset.metricValues(model: model, prompts: prompts, metric: .logitDifference)
        for i in prompts.indices where logits[i] < 0 { prompts[i].answers = [4]; prompts[i].wrongAnswers = [3] }
        let circuit = try GroundTruth.derive(model: model, task: "t", prompts: prompts, metric: .logitDifference, retain: 0.7)
        let all = HeadID.all(layers: 3, heads: 3)
        func value(_ kept: Set<HeadID>) throws -> Float {
            try Faithfulness.evaluate(model: model, prompts: prompts, metric: .logitDifference, circuit: kept, randomTrials: 0).circuit
        }
        let full = try value(Set(all))
        var kept = Set(all)
        while kept.count > 1 {
            var best: (head: HeadID, value: Float)?
            for head in kept.sorted() {
                let v = try value(kept.subtracting([head]))
                if best == nil || v > best!.value { best = (head, v) }
            }
            guard let best, best.value >= 0.7 * full else { break }
            kept.remove(best.head)
        }
        XCTAssertEqual(circuit.headSet, kept)
        XCTAssertLessThan(kept.count, all.count, "the test exercises at least one removal")
    }
}
