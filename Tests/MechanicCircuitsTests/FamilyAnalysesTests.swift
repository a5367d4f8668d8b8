import Foundation
import XCTest
@testable import MechanicCircuits
import MechanicBackward
import MechanicModel
import MechanicSAE
import MechanicTasks
import MechanicTensor
import MechanicTokenizer

/// The circuit analyses run on every model family, not only GPT-2: the tiny random checkpoints of
/// `Tests/Fixtures/families` (GQA, rotary, sliding windows, QK-norm, parallel blocks, post-norms).
final class FamilyAnalysesTests: XCTestCase {
    static let families = ["pythia", "neox-sequential", "llama-gqa", "llama3-mqa", "mistral-window", "qwen2", "qwen3",
                           "gemma2", "gemma3"]
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/families")

    func model(_ name: String) throws -> Transformer {
        try CheckpointLoader.load(folder: Self.fixtures.appendingPathComponent(name))
    }

    /// Prompts of random ids below 90 (every fixture's vocabulary is larger), 8 tokens, with corrupted twins.
    func prompts(seed: UInt64, count: Int = 4) -> [TaskPrompt] {
        var rng = SeededRandom(seed: seed)
        return (0..<count).map { _ in
            let tokens = (0..<8).map { _ in 5 + Int(rng.next() % 85) }
            let corrupted = (0..<8).map { _ in 5 + Int(rng.next() % 85) }
            return TaskPrompt(text: "", tokens: tokens, answers: [5 + Int(rng.next() % 85)], wrongAnswers: [5 + Int(rng.next() % 85)],
                              corruptedTokens: corrupted)
        }
    }

    /// Activation patching's stacked runs (which resume from a layer and skip work) give exactly the
    /// effect of one hooked run per head, on every family.
    func testStackedPatchingEqualsOneRunPerHeadOnEveryFamily() throws {
        for name in Self.families {
            let model = try model(name)
            let set = prompts(seed: 11)
            let c = model.config
            let scores = try ActivationPatching.headScores(model: model, prompts: set, metric: .logitDifference, source: .resample)
            let clean = try TaskDataset.metricValues(model: model, prompts: set, metric: .logitDifference)
            let corruptedZ = try model.run(TokenBatch(rows: set.map { $0.corruptedTokens! }), logits: .none,
                                           capture: CaptureSpec(where: { $0.point == .z })).cache
            XCTAssertEqual(scores.scores.count, c.layers * c.heads, name)
            for head in HeadID.all(layers: c.layers, heads: c.heads) {
                let patched = try TaskDataset.metricValues(model: model, prompts: set, metric: .logitDifference,
                                                           interventions: [Intervention(.z(head.layer), heads: [head.head], .patch(corruptedZ))])
                let expected = zip(clean, patched).map { $0 - $1 }.reduce(0, +) / Float(set.count)
                XCTAssertEqual(scores.score(of: head)!, expected, accuracy: 1e-4, "\(name) \(head)")
            }
        }
    }

    /// Head outputs of GQA models are per query head: `result_h = z_h · W_O[h]`, summing to the
    /// attention output.
    func testHeadOutputsArePerQueryHeadAndSumToTheAttentionOutput() throws {
        for name in ["llama-gqa", "llama3-mqa", "qwen3"] {
            let model = try model(name)
            let c = model.config
            XCTAssertLessThan(c.kvHeads, c.heads, name)
            let batch = TokenBatch(rows: prompts(seed: 3, count: 2).map(\.tokens))
            let cache = try model.run(batch, logits: .none, capture: CaptureSpec(where: { $0.layer == 0 })).cache
            let result = cache[.result(0)]!                                   // [batch, pos, head, dModel]
            let attnOut = cache[.attnOut(0)]!                                 // [batch, pos, dModel]
            XCTAssertEqual(result.shape, [2, 8, c.heads, c.dModel], name)
            let d = c.dModel
            for row in 0..<16 {
                for i in 0..<d {
                    let sum = (0..<c.heads).reduce(Float(0)) { $0 + result.storage[(row * c.heads + $1) * d + i] }
                    let bias = model.weights.blocks[0].attnOutBias?.storage[i] ?? 0
                    XCTAssertEqual(sum + bias, attnOut.storage[row * d + i], accuracy: 1e-4, name)
                }
            }
        }
    }

    /// Discovery's forward-only methods (SAE, SAE edges, patching, ACDC) run on every family; the
    /// gradient methods refuse architectures the backward pass does not differentiate, by name.
    func testDiscoveryRunsOnEveryFamily() throws {
        for name in Self.families {
            let model = try model(name)
            let c = model.config
            var rng = SeededRandom(seed: 5)
            let make = { (first: Int, rng: inout SeededRandom) in
                TaskPrompt(text: "", tokens: [first] + (1..<6).map { _ in 5 + Int(rng.next() % 85) }, answers: [7], wrongAnswers: [8],
                           corruptedTokens: (0..<6).map { _ in 5 + Int(rng.next() % 85) })
            }
            let dataset = TaskDataset(task: "t", metric: .logitDifference,
                                      positives: (0..<12).map { _ in make(3, &rng) }, negatives: (0..<12).map { _ in make(4, &rng) })
            var sae = SAEScoring.Options(sae: SAEConfiguration(inputDimension: c.dModel, hiddenUnits: 8, epochs: 20, seed: 1))
            sae.trainingPrompts = 6
            var options = Discovery.Options(sae: sae)
            options.methods = [.sae, .saeEdges, .patching, .acdc]
            options.patchingPrompts = 4
            let truth: Set<HeadID> = [HeadID(layer: 1, head: 0)]
            let report = try Discovery.run(model: model, dataset: dataset, groundTruth: truth, options: options)
            XCTAssertEqual(report.methods.count, 4, name)
            for method in report.methods {
                XCTAssertEqual(method.scores.scores.count, c.layers * c.heads, "\(name) \(method.scores.method)")
                XCTAssertTrue(method.scores.scores.allSatisfy(\.isFinite), "\(name) \(method.scores.method)")
                XCTAssertNotNil(method.auc)
            }
            XCTAssertThrowsError(try AttributionPatching.run(model: model, prompts: Array(dataset.positives.prefix(2)),
                                                             metric: .logitDifference)) { error in
                guard case GradientError.unsupportedArchitecture(let type, _)? = error as? GradientError else {
                    return XCTFail("\(name): \(error)")
                }
                XCTAssertEqual(type, c.modelType)
            }
        }
    }
}
