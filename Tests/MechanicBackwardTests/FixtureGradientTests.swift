import Foundation
import XCTest
@testable import MechanicBackward
import MechanicModel
import MechanicSafetensors
import MechanicTensor
import MechanicTokenizer

/// Loss and gradients against PyTorch, from fixtures written by `scripts/make_gradient_fixtures.py`
/// (HF transformers' `loss.backward()` on the tiny checkpoints of `Tests/Fixtures/models`).
///
/// Tolerances: the loss within 1e-5; every gradient within `1e-5 · max|reference| + 1e-7`
/// (relative to the largest element of each tensor; the fixture script measures float32 against
/// float64 parameter gradients at ~1e-6 of that scale).
final class FixtureGradientTests: XCTestCase {
    static let checkpoints = ["tiny-f32", "tiny-attn-only"]
    static let relative: Float = 1e-5
    static let absolute: Float = 1e-7

    struct Fixture {
        let model: Transformer
        let file: SafetensorsFile
        let batch: TokenBatch
        let targets: [[Int]]
    }

    func load(_ name: String) throws -> Fixture {
        let model = try CheckpointLoader.load(folder: TestPaths.model(name))
        let file = try SafetensorsFile(path: TestPaths.gradients(name).path)
        let shape = file.info("input_ids")!.shape
        let ids = try file.int64Array("input_ids").map(Int.init)
        let targets = try file.int64Array("targets").map(Int.init)
        let rows = (0..<shape[0]).map { r in Array(ids[(r * shape[1])..<((r + 1) * shape[1])]) }
        let targetRows = (0..<shape[0]).map { r in Array(targets[(r * shape[1])..<((r + 1) * shape[1])]) }
        return Fixture(model: model, file: file, batch: TokenBatch(rows: rows), targets: targetRows)
    }

    func testLossAndEveryParameterAndHookGradientMatchPyTorch() throws {
        for name in Self.checkpoints {
            let fixture = try load(name)
            let model = fixture.model
            let (loss, gradients) = try model.languageModelLoss(fixture.batch, targets: fixture.targets,
                                                                activationGradients: model.hookNames)
            XCTAssertEqual(loss, try fixture.file.tensor("loss").storage[0], accuracy: 1e-5, name)
            var worstParameter: Float = 0, worstHook: Float = 0
            for (path, _) in TransformerWeights.expectedShapes(for: model.config) {
                let key = "grad." + CheckpointLoader.hfName(of: path)
                XCTAssertTrue(fixture.file.contains(key), "\(name): fixture lacks \(key)")
                guard fixture.file.contains(key) else { continue }
                worstParameter = max(worstParameter, assertGradientsClose(
                    gradients.weights.tensor(at: path), try fixture.file.tensor(key),
                    relative: Self.relative, absolute: Self.absolute, "\(name) \(key)"))
            }
            for hook in model.hookNames {
                let key = "grad." + hook.description
                XCTAssertTrue(fixture.file.contains(key), "\(name): fixture lacks \(key)")
                guard fixture.file.contains(key) else { continue }
                worstHook = max(worstHook, assertGradientsClose(
                    gradients.activations[hook], try fixture.file.tensor(key),
                    relative: Self.relative, absolute: Self.absolute, "\(name) \(key)"))
            }
            print("\(name): loss |Δ| \(abs(loss - (try fixture.file.tensor("loss").storage[0]))), worst parameter gradient "
                  + "\(worstParameter) of max |grad|, worst hook gradient \(worstHook)")
        }
    }

    func testLogitDifferenceGradientsMatchPyTorch() throws {
        for name in Self.checkpoints {
            let fixture = try load(name)
            let model = fixture.model
            let correct = try fixture.file.int64Array("logit_diff.correct").map(Int.init)
            let wrong = try fixture.file.int64Array("logit_diff.wrong").map(Int.init)
            let hooks = (0..<model.config.layers).flatMap { [HookName.z($0), .result($0), .residPre($0)] }
            let objective = LogitObjective.logitDifference(fixture.batch, correct: correct, wrong: wrong)
            let (value, gradients) = try model.activationGradients(fixture.batch, at: hooks, objective: objective)
            XCTAssertEqual(value, try fixture.file.tensor("logit_diff.value").storage[0], accuracy: 1e-4, name)
            var worst: Float = 0
            for hook in hooks {
                worst = max(worst, assertGradientsClose(
                    gradients[hook], try fixture.file.tensor("logit_diff.grad." + hook.description),
                    relative: Self.relative, absolute: Self.absolute, "\(name) logit difference \(hook)"))
            }
            print("\(name): logit difference |Δ| \(abs(value - (try fixture.file.tensor("logit_diff.value").storage[0]))), "
                  + "worst hook gradient \(worst) of max |grad|")
        }
    }
}
