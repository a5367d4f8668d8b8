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

    /// Discovery's methods, gradient ones included (attribution patching, HISP), run on every family.
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
            options.methods = [.sae, .saeEdges, .patching, .attribution, .hisp, .acdc]
            options.patchingPrompts = 4
            let truth: Set<HeadID> = [HeadID(layer: 1, head: 0)]
            let report = try Discovery.run(model: model, dataset: dataset, groundTruth: truth, options: options)
            XCTAssertEqual(report.methods.count, 6, name)
            for method in report.methods {
                XCTAssertEqual(method.scores.scores.count, c.layers * c.heads, "\(name) \(method.scores.method)")
                XCTAssertTrue(method.scores.scores.allSatisfy(\.isFinite), "\(name) \(method.scores.method)")
                XCTAssertNotNil(method.auc)
            }
            let attribution = try AttributionPatching.run(model: model, prompts: Array(dataset.positives.prefix(2)), metric: .logitDifference)
            for scores in [attribution.attribution, attribution.gradientTimesActivation] {
                XCTAssertEqual(scores.scores.count, c.layers * c.heads, name)
                XCTAssertTrue(scores.scores.allSatisfy { $0.isFinite && $0 >= 0 }, "\(name) \(scores.method)")
                XCTAssertTrue(scores.scores.contains { $0 > 0 }, "\(name) \(scores.method): all zero")
            }
        }
    }

    /// Attribution patching's score of a head is the first-order change of the metric when its
    /// `hook_z` moves from the clean to the corrupted run: checked against a central finite
    /// difference of the metric along that direction, on every family (the gradients come from
    /// the backward pass; the finite difference from forward runs only).
    func testAttributionScoresAreTheMetricsFirstOrderChange() throws {
        for name in Self.families {
            let model = try model(name)
            let c = model.config
            let set = prompts(seed: 17, count: 2)
            let result = try AttributionPatching.run(model: model, prompts: set, metric: .logitDifference)
            let scores = result.attribution
            // The two largest heads of each layer's kind: one in layer 0 (whose change passes through
            // all of layer 1) and the largest overall.
            let layer0 = (0..<c.heads).max { scores.scores[$0] < scores.scores[$1] }!
            let overall = scores.scores.indices.max { scores.scores[$0] < scores.scores[$1] }!
            let batch = TokenBatch(rows: set.map(\.tokens))
            let zName = { (layer: Int) in [HookName.z(layer)] }
            for index in Set([layer0, overall]) {
                let (layer, head) = index.quotientAndRemainder(dividingBy: c.heads)
                let clean = try model.run(batch, logits: .none, capture: CaptureSpec(names: zName(layer))).cache[.z(layer)]!
                let corrupted = try model.run(try ActivationPatching.corruptedBatch(set), logits: .none,
                                              capture: CaptureSpec(names: zName(layer))).cache[.z(layer)]!
                // u = z_corrupt − z_clean on this head only, [batch, pos, head, dHead].
                var direction = Tensor(shape: clean.shape)
                for row in 0..<(clean.shape[0] * clean.shape[1]) {
                    for i in 0..<c.dHead {
                        let at = (row * c.heads + head) * c.dHead + i
                        direction.storage[at] = corrupted.storage[at] - clean.storage[at]
                    }
                }
                // ε = 1e-2 leaves a curvature error of about 2e-3 of the slope (llama3-mqa); a wrong
                // derivative anywhere in the backward pass (rotating the gradient by +θ instead of
                // −θ, say) moves these scores by 3–40%.
                let epsilon: Float = 1e-2
                func metric(_ step: Float) throws -> Double {
                    let shift = Tensor(shape: direction.shape, storage: direction.storage.map { $0 * step })
                    return try TaskDataset.metricValues(model: model, prompts: set, metric: .logitDifference,
                                                        interventions: [Intervention(.z(layer), .add(shift))])
                        .reduce(0.0) { $0 + Double($1) }
                }
                let slope = (try metric(epsilon) - metric(-epsilon)) / Double(2 * epsilon)
                let expected = Float(abs(slope) / Double(set.count))
                let score = scores.scores[index]
                XCTAssertGreaterThan(score, 1e-3, "\(name) L\(layer)H\(head): too small to compare")
                XCTAssertEqual(score, expected, accuracy: 1e-2 * expected + 1e-4, "\(name) L\(layer)H\(head)")
            }
        }
    }
}
