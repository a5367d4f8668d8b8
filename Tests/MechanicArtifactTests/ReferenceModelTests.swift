import Foundation
import XCTest
import Mechanic

/// The shipped reference models do their tasks on held-out prompts, and the numbers their model
/// cards record (task scores, ground-truth circuits' faithfulness) reproduce exactly.
final class ReferenceModelTests: XCTestCase {
    static let models = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("artifacts/models")

    /// The bar for each task: minimum accuracy on held-out prompts (IOI: the indirect object beats
    /// the subject on 95%; docstring: the right parameter on 90%; greater-than: more probability on
    /// later years on most prompts; induction: high on repeated runs).
    static let bars: [String: Double] = ["ioi": 0.95, "docstring": 0.90, "greater-than": 0.5, "induction": 0.9]
    static let required: [String: [String: Double]] = ["mechanic-mini": bars, "mechanic-attn-only-4l": bars]

    /// A shipped model with its tokenizer and card (also used by `ReferenceModelV2Tests`).
    static func load(_ name: String) throws -> (Transformer, GPT2Tokenizer, ModelCard) {
        let folder = Self.models.appendingPathComponent(name)
        let model = try CheckpointLoader.load(folder: folder)
        let tokenizer = try GPT2Tokenizer(folder: folder)
        let card = try JSONDecoder().decode(ModelCard.self, from: Data(contentsOf: folder.appendingPathComponent("card.json")))
        return (model, tokenizer, card)
    }

    /// A circuit's mean-ablation faithfulness on the task's prompts of `promptSeed` the model gets
    /// right (the card's procedure), and how many prompts those were.
    static func faithfulness(of circuit: GroundTruth.Circuit, model: Transformer, tokenizer: GPT2Tokenizer, card: ModelCard,
                             promptSeed: UInt64, randomTrials: Int) throws -> (prompts: Int, result: Faithfulness.Result) {
        let task = try TaskRegistry.named(circuit.task)
        let prompts = try task.dataset(tokenizer: tokenizer, count: card.evaluation.circuitPrompts, seed: promptSeed,
                                       prependBOS: true).keepingCorrect(model: model).positives
        let result = try Faithfulness.evaluate(model: model, prompts: prompts, metric: task.metric, circuit: circuit.headSet,
                                               ablation: .mean, randomTrials: randomTrials, seed: card.evaluation.faithfulnessSeed)
        return (prompts.count, result)
    }

    func testEveryReferenceModelIsShippedWithItsCard() throws {
        for name in Self.required.keys.sorted() {
            let folder = Self.models.appendingPathComponent(name)
            for file in ["config.json", "model.safetensors", "vocab.json", "merges.txt", "card.json", "README.md", "loss.svg", "recipe.json"] {
                XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent(file).path), "\(name)/\(file)")
            }
            let size = try FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent("model.safetensors").path)[.size] as! Int
            XCTAssertLessThan(size, 25_000_000, "\(name) must stay under 25 MB")
        }
    }

    func testModelsDoTheirTasksAndTheRecordedScoresReproduce() throws {
        for (name, bars) in Self.required.sorted(by: { $0.key < $1.key }) {
            let (model, tokenizer, card) = try Self.load(name)
            for recorded in card.scores {
                let task = try TaskRegistry.named(recorded.task)
                let data = try task.dataset(tokenizer: tokenizer, count: card.evaluation.scorePrompts, seed: card.evaluation.scoreSeed,
                                            prependBOS: true)
                let score = try TaskScore.evaluate(model: model, dataset: data)
                XCTAssertEqual(score.accuracy, recorded.accuracy, "\(name) \(recorded.task)")
                XCTAssertEqual(score.meanMetric, recorded.meanMetric, accuracy: 1e-4, "\(name) \(recorded.task)")
                if let bar = bars[recorded.task] {
                    XCTAssertGreaterThanOrEqual(score.accuracy, bar, "\(name) \(recorded.task)")
                }
            }
            if let gt = card.scores.first(where: { $0.task == "greater-than" }), bars["greater-than"] != nil {
                XCTAssertGreaterThan(gt.meanMetric, 0, "\(name): more probability on later years than earlier ones")
            }
        }
    }

    func testGroundTruthCircuitsRecordedFaithfulnessReproduces() throws {
        for name in Self.required.keys.sorted() {
            let (model, tokenizer, card) = try Self.load(name)
            XCTAssertFalse(card.circuits.isEmpty, "\(name) has no ground-truth circuit")
            for circuit in card.circuits {
                let (prompts, f) = try Self.faithfulness(of: circuit, model: model, tokenizer: tokenizer, card: card,
                                                         promptSeed: card.evaluation.circuitSeed, randomTrials: circuit.faithfulness.random.count)
                XCTAssertEqual(prompts, circuit.prompts)
                XCTAssertEqual(f.fullModel, circuit.faithfulness.fullModel, accuracy: 1e-4, "\(name) \(circuit.task)")
                XCTAssertEqual(f.circuit, circuit.faithfulness.circuit, accuracy: 1e-4, "\(name) \(circuit.task)")
                XCTAssertEqual(f.complement, circuit.faithfulness.complement, accuracy: 1e-4, "\(name) \(circuit.task)")
                // The circuit keeps most of the metric; its complement and random sets of its size do not.
                XCTAssertGreaterThanOrEqual(f.recovered, circuit.retain - 1e-4, "\(name) \(circuit.task)")
                XCTAssertLessThan(f.complement, f.circuit, "\(name) \(circuit.task)")
                XCTAssertLessThan(f.randomMean, f.circuit, "\(name) \(circuit.task)")
            }
        }
    }
}
