import Foundation
import XCTest
@testable import MechanicBackward
import MechanicModel
import MechanicTensor
import MechanicTokenizer

/// The analytic gradients (float32) against central differences of a double-precision twin of
/// the whole model (``DoubleGPT2``) on really tiny models: 2 layers, d_model 8, 2 heads, vocab 11.
///
/// Tolerance: `|analytic − numeric| ≤ 1e-4 · max|gradient of that tensor| + 1e-6`. The numeric
/// derivative is exact to ~1e-9 (step 1e-4 in double precision), so the bound measures the
/// float32 rounding of the analytic pass.
final class FiniteDifferenceTests: XCTestCase {
    static let step = 1e-4
    static let relative = 1e-4
    static let absolute = 1e-6

    /// Two rows, the second padded, one extra target masked.
    let batch = randomBatch(lengths: [5, 4], vocab: 11, seed: 8)

    var targets: [[Int]] {
        var t = batch.nextTokenTargets
        t[0][2] = -1
        return t
    }

    func flatTargets(_ model: Transformer) throws -> [Int32] {
        try model.targetIDs(batch, targets).ids
    }

    /// Central difference of `f` around 0.
    func derivative(_ f: (Double) -> Double) -> Double {
        (f(Self.step) - f(-Self.step)) / (2 * Self.step)
    }

    /// Checks `samples` elements of every parameter; returns the worst error relative to each tensor's max |grad|.
    @discardableResult
    func checkParameters(_ model: Transformer, analytic: TransformerWeights, samples: Int = 6,
                         value: (DoubleGPT2) -> Double, file: StaticString = #filePath, line: UInt = #line) -> Double {
        let reference = DoubleGPT2(model)
        var rng = SeededRandom(seed: 17)
        var worst = 0.0
        for (path, _) in TransformerWeights.expectedShapes(for: model.config) {
            let gradient = analytic.tensor(at: path)!
            let scale = Double(gradient.maxAbs)
            for _ in 0..<samples {
                let i = Int(rng.next() % UInt64(gradient.count))
                let numeric = derivative { delta in
                    var perturbed = reference
                    perturbed.parameters[path]![i] += delta
                    return value(perturbed)
                }
                let error = abs(Double(gradient.storage[i]) - numeric)
                worst = max(worst, error / max(scale, 1e-12))
                XCTAssertLessThanOrEqual(error, Self.relative * scale + Self.absolute,
                                         "\(path)[\(i)]: analytic \(gradient.storage[i]), numeric \(numeric)", file: file, line: line)
            }
        }
        return worst
    }

    /// Checks `samples` elements of each hook's gradient by perturbing the activation in the twin.
    @discardableResult
    func checkActivations(_ model: Transformer, analytic: [HookName: Tensor], hooks: [HookName], samples: Int = 4,
                          value: (DoubleGPT2, DoubleGPT2.Edit?) -> Double,
                          file: StaticString = #filePath, line: UInt = #line) -> Double {
        let reference = DoubleGPT2(model)
        var rng = SeededRandom(seed: 29)
        var worst = 0.0
        for name in hooks {
            guard let gradient = analytic[name] else {
                XCTFail("no gradient for \(name)", file: file, line: line)
                continue
            }
            XCTAssertEqual(gradient.shape, name.point.shape(batch: batch.batch, positions: batch.positions, config: model.config),
                           "\(name)", file: file, line: line)
            let scale = Double(gradient.maxAbs)
            var checked = 0
            while checked < samples {
                let i = Int(rng.next() % UInt64(gradient.count))
                if name.point == .attnScores {   // a masked score is −inf: perturbing it does nothing
                    let (t, index) = (batch.positions, i % (batch.positions * batch.positions))
                    if index % t > index / t { continue }
                }
                checked += 1
                let numeric = derivative { delta in
                    value(reference) { hook, x in if hook == name { x[i] += delta } }
                }
                let error = abs(Double(gradient.storage[i]) - numeric)
                worst = max(worst, error / max(scale, 1e-12))
                XCTAssertLessThanOrEqual(error, Self.relative * scale + Self.absolute,
                                         "\(name)[\(i)]: analytic \(gradient.storage[i]), numeric \(numeric)", file: file, line: line)
            }
        }
        return worst
    }

    func testParameterGradientsOfTheLossMatchFiniteDifferences() throws {
        let model = try tinyModel()
        let flat = try flatTargets(model)
        let (loss, gradients) = try model.languageModelLoss(batch, targets: targets)
        XCTAssertEqual(Double(loss), DoubleGPT2(model).loss(batch, targets: flat), accuracy: 1e-5)
        let worst = checkParameters(model, analytic: gradients.weights) { $0.loss(batch, targets: flat) }
        print("finite differences, parameters: worst error \(worst) of max |grad|")
    }

    func testEveryHookGradientOfTheLossMatchesFiniteDifferences() throws {
        let model = try tinyModel()
        let flat = try flatTargets(model)
        let (_, gradients) = try model.languageModelLoss(batch, targets: targets, activationGradients: model.hookNames)
        XCTAssertEqual(Set(gradients.activations.keys), Set(model.hookNames))
        let worst = checkActivations(model, analytic: gradients.activations, hooks: model.hookNames) { twin, edit in
            twin.loss(batch, targets: flat, edit: edit)
        }
        print("finite differences, activations: worst error \(worst) of max |grad|")
    }

    func testAttentionOnlyModelMatchesFiniteDifferences() throws {
        let model = try tinyModel(attentionOnly: true, seed: 6)
        let flat = try flatTargets(model)
        let (_, gradients) = try model.languageModelLoss(batch, targets: targets, activationGradients: model.hookNames)
        XCTAssertNil(gradients.weights.blocks[0].mlp)
        checkParameters(model, analytic: gradients.weights) { $0.loss(batch, targets: flat) }
        checkActivations(model, analytic: gradients.activations, hooks: model.hookNames) { twin, edit in
            twin.loss(batch, targets: flat, edit: edit)
        }
    }

    /// tracr's architecture: no norms (their hooks are identities), bidirectional attention that
    /// masks the padded row's last key, ReLU, an untied unembedding, heads narrower than d_model.
    func testTracrArchitectureMatchesFiniteDifferences() throws {
        let model = try tracrShapedModel()
        let flat = try flatTargets(model)
        let twin = DoubleGPT2(model)
        let logits = try model.run(batch).logits!
        let expected = twin.logits(batch)
        for row in 0..<batch.batch {
            for pos in 0..<batch.lengths[row] {
                for token in 0..<model.config.vocabSize {
                    let i = (row * batch.positions + pos) * model.config.vocabSize + token
                    XCTAssertEqual(Double(logits.storage[i]), expected[i], accuracy: 1e-5, "logit [\(row), \(pos), \(token)]")
                }
            }
        }
        // The padded row's real positions do not see its padding: the same as the row alone.
        let alone = try model.run(TokenBatch(batch.row(1))).logits!
        let v = model.config.vocabSize
        // (Equal up to BLAS blocking: the batch's products have more rows.)
        for i in 0..<(batch.lengths[1] * v) {
            XCTAssertEqual(alone.storage[i], logits.storage[batch.positions * v + i], accuracy: 1e-5, "row alone, logit \(i)")
        }
        let (loss, gradients) = try model.languageModelLoss(batch, targets: targets, activationGradients: model.hookNames)
        XCTAssertEqual(Double(loss), twin.loss(batch, targets: flat), accuracy: 1e-5)
        checkParameters(model, analytic: gradients.weights) { $0.loss(batch, targets: flat) }
        checkActivations(model, analytic: gradients.activations, hooks: model.hookNames) { twin, edit in
            twin.loss(batch, targets: flat, edit: edit)
        }
    }

    /// A 70-token prompt takes the BLAS-tiled attention path (prompts over 64 tokens).
    func testLongPromptTiledAttentionMatchesFiniteDifferences() throws {
        let model = try tinyModel(layers: 1, context: 80, seed: 9)
        let long = randomBatch(lengths: [70], vocab: 11, seed: 4)
        let flat = try model.targetIDs(long, nil).ids
        let (_, gradients) = try model.languageModelLoss(long)
        let reference = DoubleGPT2(model)
        var rng = SeededRandom(seed: 3)
        for path in ["blocks.0.qkvWeight", "blocks.0.attnOutWeight", "blocks.0.ln1Gain", "positionEmbedding"] {
            let gradient = gradients.weights.tensor(at: path)!
            for _ in 0..<4 {
                let i = Int(rng.next() % UInt64(gradient.count))
                let numeric = derivative { delta in
                    var perturbed = reference
                    perturbed.parameters[path]![i] += delta
                    return perturbed.loss(long, targets: flat)
                }
                XCTAssertEqual(Double(gradient.storage[i]), numeric,
                               accuracy: Self.relative * Double(gradient.maxAbs) + Self.absolute, "\(path)[\(i)]")
            }
        }
    }

    /// A logit difference under interventions on head, MLP and residual hooks: an overwritten
    /// element passes no gradient upstream, an added one passes it through.
    func testLogitDifferenceUnderInterventionsMatchesFiniteDifferences() throws {
        let model = try tinyModel(seed: 12)
        let other = randomBatch(lengths: [5, 4], vocab: 11, seed: 99)
        let source = try model.run(other, capture: CaptureSpec(names: [.result(1)])).cache
        var rng = SeededRandom(seed: 1)
        let config = model.config
        func shape(_ name: HookName) -> [Int] { name.point.shape(batch: 2, positions: 5, config: config) }
        let interventions = [
            Intervention(.z(0), heads: [1], .zero),
            Intervention(.mlpPost(0), positions: [1], .mean(Tensor.randomNormal([config.dMLP], std: 1, using: &rng))),
            Intervention(.residMid(1), .add(Tensor.randomNormal([config.dModel], std: 1, using: &rng))),
            Intervention(.v(1), heads: [0], positions: [-1], .replace(Tensor.randomNormal(shape(.v(1)), std: 1, using: &rng))),
            Intervention(.result(1), heads: [1], positions: [0], .patch(source)),
        ]
        let (correct, wrong) = ([3, 7], [5, 1])
        let hooks: [HookName] = [.z(0), .q(0), .v(0), .residPre(0), .mlpPre(0), .mlpPost(0), .residMid(1), .v(1), .k(1),
                                 .result(1), .z(1), .attnOut(1), .embed]
        let objective = LogitObjective.logitDifference(batch, correct: correct, wrong: wrong)
        let (value, gradients) = try model.gradients(batch, activations: hooks, interventions: interventions, objective: objective)

        // The same edits in double precision, through the same selection of elements.
        let edit: DoubleGPT2.Edit = { name, x in
            for iv in interventions where iv.hook == name {
                let (offsets, run) = iv.selection(shape: shape(name), batch: self.batch)
                let values: [Float]?
                switch iv.action {
                case .zero: values = nil
                case .mean(let t), .add(let t), .replace(let t): values = t.storage
                case .patch(let cache): values = cache[name]!.storage
                case .custom: fatalError()
                }
                for offset in offsets {
                    for i in offset..<(offset + run) {
                        let s = values.map { Double($0[i % $0.count]) } ?? 0
                        if case .add = iv.action { x[i] += s } else { x[i] = s }
                    }
                }
            }
        }
        let reference = DoubleGPT2(model)
        XCTAssertEqual(Double(value), reference.logitDifference(batch, correct: correct, wrong: wrong, edit: edit), accuracy: 1e-4)
        checkParameters(model, analytic: gradients.weights) {
            $0.logitDifference(batch, correct: correct, wrong: wrong, edit: edit)
        }
        checkActivations(model, analytic: gradients.activations, hooks: hooks, samples: 6) { twin, perturb in
            twin.logitDifference(batch, correct: correct, wrong: wrong) { name, x in
                edit(name, &x)
                perturb?(name, &x)
            }
        }
        // Head 1 of layer 0 is zeroed: nothing reaches its queries, keys or values.
        let dq = gradients.activations[.q(0)]!
        for row in 0..<(2 * 5) {
            for c in 0..<config.dHead { XCTAssertEqual(dq.storage[(row * config.heads + 1) * config.dHead + c], 0) }
        }
    }
}
