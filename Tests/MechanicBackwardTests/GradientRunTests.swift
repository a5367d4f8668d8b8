import Foundation
import XCTest
@testable import MechanicBackward
import MechanicModel
import MechanicTensor
import MechanicTokenizer

/// Behaviour of the gradient entry points: the forward pass equals `Transformer.run`, results are
/// deterministic, options agree with each other, and bad input is rejected with typed errors.
final class GradientRunTests: XCTestCase {
    func fixtureModel(_ name: String = "tiny-f32") throws -> Transformer {
        try CheckpointLoader.load(folder: TestPaths.model(name))
    }

    /// The logits the objective sees.
    func gradientRunLogits(_ model: Transformer, _ batch: TokenBatch, interventions: [Intervention] = []) throws -> Tensor {
        var seen: Tensor?
        _ = try model.activationGradients(batch, at: [], interventions: interventions) { logits in
            seen = logits
            return (0, Tensor(shape: logits.shape))
        }
        return seen!
    }

    func testForwardLogitsEqualRun() throws {
        for name in ["tiny-f32", "tiny-attn-only"] {
            let model = try fixtureModel(name)
            // Prompts of up to 64 tokens take the inline attention path (the tiled one is below).
            for batch in [randomBatch(lengths: [10, 7, 3], vocab: 297), randomBatch(lengths: [20], vocab: 297)] {
                let mine = try gradientRunLogits(model, batch)
                let theirs = try model.run(batch).logits!
                XCTAssertLessThanOrEqual(mine.maxAbsDifference(theirs), 1e-5, name)
                XCTAssertEqual(mine, theirs, "\(name): expected bit-identical logits")
            }
        }
        let long = try tinyModel(layers: 2, context: 80)
        let batch = randomBatch(lengths: [70, 66], vocab: 11)
        XCTAssertEqual(try gradientRunLogits(long, batch), try long.run(batch).logits!, "tiled attention path")
    }

    func testForwardWithInterventionsEqualsRun() throws {
        let model = try fixtureModel()
        let batch = randomBatch(lengths: [10, 8], vocab: 297)
        var rng = SeededRandom(seed: 4)
        let shape = HookPoint.z.shape(batch: 2, positions: 10, config: model.config)
        let interventions = [
            Intervention(.embed, positions: [0], .zero),
            Intervention(.z(0), heads: [2], .replace(Tensor.randomNormal(shape, std: 1, using: &rng))),
            Intervention(.result(1), heads: [0, 3], positions: [-1], .zero),
            Intervention(.mlpPre(1), .add(Tensor.randomNormal([model.config.dMLP], std: 1, using: &rng))),
            Intervention(.k(1), heads: [1], .mean(Tensor.randomNormal([model.config.dHead], std: 1, using: &rng))),
        ]
        let mine = try gradientRunLogits(model, batch, interventions: interventions)
        let theirs = try model.run(batch, interventions: interventions).logits!
        XCTAssertLessThanOrEqual(mine.maxAbsDifference(theirs), 1e-5)
    }

    func testGradientsAreBitIdenticalAcrossCalls() throws {
        let model = try fixtureModel()
        let batch = randomBatch(lengths: [30, 29, 30], vocab: 297)   // attention: heads in parallel through BLAS
        let hooks: [HookName] = [.z(0), .pattern(1), .residPre(0), .mlpPost(1)]
        let (lossA, a) = try model.languageModelLoss(batch, activationGradients: hooks)
        let (lossB, b) = try model.languageModelLoss(batch, activationGradients: hooks)
        XCTAssertEqual(lossA, lossB)
        for (path, _) in TransformerWeights.expectedShapes(for: model.config) {
            XCTAssertEqual(a.weights.tensor(at: path), b.weights.tensor(at: path), path)
        }
        for hook in hooks { XCTAssertEqual(a.activations[hook], b.activations[hook], "\(hook)") }
    }

    func testActivationOnlyRunMatchesTheFullRun() throws {
        let model = try fixtureModel()
        let batch = randomBatch(lengths: [10, 6], vocab: 297)
        let objective = LogitObjective.logitDifference(batch, correct: [5, 6], wrong: [7, 8])
        for hooks in [[HookName.z(1), .residPost(1)], [.embed, .posEmbed, .v(0)], [.lnFinalNormalized]] {
            let (valueA, full) = try model.gradients(batch, activations: hooks, objective: objective)
            let (valueB, only) = try model.activationGradients(batch, at: hooks, objective: objective)
            XCTAssertEqual(valueA, valueB)
            for hook in hooks { XCTAssertEqual(full.activations[hook], only[hook], "\(hook)") }
            XCTAssertEqual(Set(only.keys), Set(hooks), "only what is asked is materialised")
        }
    }

    func testDefaultTargetsAreTheShiftedInputsAndPaddingIsMasked() throws {
        let model = try fixtureModel()
        let batch = randomBatch(lengths: [10, 4], vocab: 297)
        XCTAssertEqual(batch.nextTokenTargets[1], Array(batch.row(1).dropFirst()) + [-1])
        let (loss, _) = try model.languageModelLoss(batch)
        let explicit = try model.languageModelLoss(batch, targets: batch.nextTokenTargets).loss
        XCTAssertEqual(loss, explicit)
        XCTAssertEqual(try model.evaluateLanguageModelLoss(batch), loss, accuracy: 1e-6)
        // The padded batch's mean equals the count-weighted mean of the rows run alone (9 and 3 targets).
        let first = try model.evaluateLanguageModelLoss(TokenBatch(batch.row(0)))
        let second = try model.evaluateLanguageModelLoss(TokenBatch(batch.row(1)))
        XCTAssertEqual(loss, (9 * first + 3 * second) / 12, accuracy: 1e-5)
    }

    func testPaddedPositionsGetNoGradientFromTheLoss() throws {
        let model = try fixtureModel()
        let batch = randomBatch(lengths: [10, 4], vocab: 297)
        let (_, gradients) = try model.languageModelLoss(batch, activationGradients: [.residPost(1), .embed])
        let g = gradients.activations[.residPost(1)]!
        let d = model.config.dModel
        for p in 4..<10 {
            for c in 0..<d { XCTAssertEqual(g[1, p, c], 0) }
        }
        // A real position of that row does get one.
        XCTAssertGreaterThan((0..<d).map { abs(g[1, 2, $0]) }.max()!, 0)
    }

    func testTypedErrors() throws {
        let model = try fixtureModel()
        let batch = randomBatch(lengths: [5, 3], vocab: 297)
        XCTAssertThrowsError(try model.languageModelLoss(batch, targets: [[1, 2]])) {
            XCTAssertEqual($0 as? GradientError, .targetRowCount(expected: 2, found: 1))
        }
        XCTAssertThrowsError(try model.languageModelLoss(batch, targets: [[1, 2, 400], [1]])) {
            XCTAssertEqual($0 as? GradientError, .targetOutOfRange(row: 0, position: 2, id: 400, vocabSize: 297))
        }
        XCTAssertThrowsError(try model.languageModelLoss(batch, targets: [[1, 2, 3, 4, 5, 6], [1]])) {
            XCTAssertEqual($0 as? GradientError, .targetRowTooLong(row: 0, length: 6, positions: 5))
        }
        XCTAssertThrowsError(try model.languageModelLoss(batch, targets: [[-1], [-1, -1, -1, 7]])) {
            XCTAssertEqual($0 as? GradientError, .noTargets)   // 7 is at a padding position of row 1
        }
        XCTAssertThrowsError(try model.languageModelLoss(TokenBatch(Array(repeating: 1, count: 40)))) {
            XCTAssertEqual($0 as? ModelError, .promptTooLong(row: 0, length: 40, contextLength: 32))
        }
        XCTAssertThrowsError(try model.languageModelLoss(batch, activationGradients: [.mlpPre(5)])) {
            XCTAssertEqual($0 as? ModelError, .unknownHook("blocks.5.mlp.hook_pre"))
        }
        XCTAssertThrowsError(try model.gradients(batch, interventions: [Intervention(.pattern(0), .zero)]) { ($0.storage[0], $0) }) {
            guard case .unsupportedIntervention(let hook, _)? = $0 as? GradientError else { return XCTFail("\($0)") }
            XCTAssertEqual(hook, "blocks.0.attn.hook_pattern")
        }
        XCTAssertThrowsError(try model.gradients(batch, interventions: [Intervention(.z(0), .custom { _, _ in })]) { ($0.storage[0], $0) }) {
            guard case .unsupportedIntervention? = $0 as? GradientError else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try model.gradients(batch, interventions: [Intervention(.z(0), heads: [9], .zero)]) { ($0.storage[0], $0) }) {
            XCTAssertEqual($0 as? ModelError, .headOutOfRange(hook: "blocks.0.attn.hook_z", head: 9, heads: 4))
        }
        XCTAssertThrowsError(try model.gradients(batch) { _ in (0, Tensor(shape: [1])) }) {
            XCTAssertEqual($0 as? GradientError, .objectiveGradientShape(expected: [2, 5, 297], found: [1]))
        }
    }

    func testTrainingBenchmarkRunsAndReportsThroughput() throws {
        let config = TransformerConfig(layers: 1, heads: 2, dModel: 16, contextLength: 16, vocabSize: 50)
        let result = try TrainingBenchmark.run(config: config, batch: 2, positions: 8, seconds: 0.05, minimumSteps: 2)
        XCTAssertGreaterThanOrEqual(result.steps, 2)
        XCTAssertGreaterThan(result.tokensPerSecond, 0)
        XCTAssertTrue(result.loss.isFinite)
    }
}
