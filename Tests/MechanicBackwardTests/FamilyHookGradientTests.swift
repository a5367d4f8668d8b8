import Foundation
import XCTest
@testable import MechanicBackward
import MechanicModel
import MechanicTensor
import MechanicTokenizer

/// Activation gradients at every hook of every family, and the interventions gradient runs follow,
/// against finite differences of `Transformer.run` (the forward pass the fixtures check against HF).
///
/// Each check is a directional derivative: `Σ gradient · u` for a random direction `u` against a
/// central difference of `f(a + εu)`, where `f` is a logit difference of `run`'s logits with `εu`
/// added at the hook, Richardson-extrapolated from steps ε and ε/2 (the tiny random models are
/// strongly curved: a plain central difference with ε = 1e-2 is off by up to 50% at the
/// embedding). In float32, ε = 2e-3 balances curvature against rounding: measured worst error
/// 1.1% of the slope over 466 hooks, hence the 2% (+ 3e-3 absolute, the rounding noise of the
/// difference quotient) tolerance; a wrong derivative moves a slope by far more.
final class FamilyHookGradientTests: XCTestCase {
    static let epsilon: Float = 2e-3
    static let relative = 2e-2
    static let absolute = 3e-3

    func model(_ name: String) throws -> Transformer {
        try CheckpointLoader.load(folder: FamilyGradientTests.folder(name))
    }

    /// The derivative of the objective along `direction` at `hook`, through `run`: central
    /// differences at ε and ε/2, Richardson-extrapolated (error O(ε⁴) instead of O(ε²)).
    func numericSlope(_ model: Transformer, _ batch: TokenBatch, hook: HookName, direction: Tensor,
                      interventions: [Intervention] = [], objective: (Tensor) throws -> (Float, Tensor)) throws -> Double {
        func value(_ step: Float) throws -> Double {
            let shift = Tensor(shape: direction.shape, storage: direction.storage.map { $0 * step })
            let logits = try model.run(batch, interventions: interventions + [Intervention(hook, .add(shift))]).logits!
            return Double(try objective(logits).0)
        }
        let e = Double(Self.epsilon)
        let coarse = (try value(Self.epsilon) - value(-Self.epsilon)) / (2 * e)
        let fine = (try value(Self.epsilon / 2) - value(-Self.epsilon / 2)) / e
        return (4 * fine - coarse) / 3
    }

    func dot(_ a: Tensor, _ b: Tensor) -> Double {
        zip(a.storage, b.storage).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }

    /// Every hook, norm internals (`ln1_post`, `q_norm`, …), `rot_q/k`, scores and pattern included.
    func testEveryHookGradientOfEveryFamilyMatchesRun() throws {
        var worst = (0.0, "")
        for name in FamilyGradientTests.families {
            let model = try model(name)
            let batch = randomBatch(lengths: [7, 5], vocab: model.config.vocabSize, seed: 12)
            let objective = LogitObjective.logitDifference(batch, correct: [3, 4], wrong: [5, 6])
            let hooks = model.hookNames
            let (_, gradients) = try model.activationGradients(batch, at: hooks, objective: objective)
            XCTAssertEqual(Set(gradients.keys), Set(hooks), name)
            var rng = SeededRandom(seed: 31)
            for hook in hooks {
                let shape = hook.point.shape(batch: batch.batch, positions: batch.positions, config: model.config)
                guard let gradient = gradients[hook] else { continue }
                XCTAssertEqual(gradient.shape, shape, "\(name) \(hook)")
                let direction = Tensor.randomNormal(shape, std: 1, using: &rng)
                let analytic = dot(gradient, direction)
                let numeric = try numericSlope(model, batch, hook: hook, direction: direction, objective: objective)
                let error = abs(analytic - numeric)
                XCTAssertLessThanOrEqual(error, Self.relative * abs(numeric) + Self.absolute,
                                         "\(name) \(hook): analytic \(analytic), numeric \(numeric)")
                let ratio = error / max(abs(numeric), 0.1)
                if ratio > worst.0 { worst = (ratio, "\(name) \(hook)") }
            }
        }
        print("worst directional-derivative error \(worst.0) of the slope (\(worst.1))")
    }

    /// Edits of `hook_rot_q/k`, `hook_k` (one query head of a GQA group) and `mlp.hook_pre_linear`
    /// are followed: the taped forward pass equals `run` with them, and the gradients are those of
    /// the edited model (an overwritten element passes no gradient upstream).
    func testEditsAtRotaryQueriesKeysAndTheUpBranchAreFollowed() throws {
        for name in ["gemma3", "llama-gqa", "pythia"] {
            let model = try model(name)
            let c = model.config
            let batch = randomBatch(lengths: [7, 5], vocab: c.vocabSize, seed: 14)
            var rng = SeededRandom(seed: 8)
            let heads = HookPoint.rotQ.shape(batch: 2, positions: 7, config: c)
            var interventions = [
                Intervention(.rotK(0), heads: [1], .zero),
                Intervention(.rotQ(1), positions: [2], .replace(Tensor.randomNormal(heads, std: 1, using: &rng))),
                Intervention(.k(1), heads: [0], .mean(Tensor.randomNormal([c.dHead], std: 1, using: &rng))),
            ]
            if c.gatedMLP {
                interventions += [Intervention(.mlpPreLinear(0), .add(Tensor.randomNormal([c.dMLP], std: 1, using: &rng))),
                                  Intervention(.mlpPreLinear(1), positions: [1], .zero)]
            }
            let objective = LogitObjective.logitDifference(batch, correct: [3, 4], wrong: [5, 6])
            var seen: Tensor?
            let hooks: [HookName] = [.residPre(0), .k(0), .rotK(0), .q(1), .residPre(1)]
            let (_, gradients) = try model.activationGradients(batch, at: hooks, interventions: interventions) { logits in
                seen = logits
                return try objective(logits)
            }
            XCTAssertEqual(seen, try model.run(batch, interventions: interventions).logits!, "\(name): taped logits equal run's")

            // Query head 1 reads only its own (zeroed) keys in layer 0: hook_k's gradient there is 0,
            // while hook_rot_k's own gradient (recorded before the edit blocks it) is not.
            let k = gradients[.k(0)]!, rotK = gradients[.rotK(0)]!
            let head1 = { (t: Tensor) in (0..<(2 * 7)).flatMap { row in (0..<c.dHead).map { t.storage[(row * c.heads + 1) * c.dHead + $0] } } }
            XCTAssertTrue(head1(k).allSatisfy { $0 == 0 }, name)
            XCTAssertTrue(head1(rotK).contains { $0 != 0 }, name)
            XCTAssertTrue(k.storage.contains { $0 != 0 }, name)

            for hook in [HookName.residPre(0), .q(1), .residPre(1)] {
                let shape = hook.point.shape(batch: 2, positions: 7, config: c)
                let direction = Tensor.randomNormal(shape, std: 1, using: &rng)
                let analytic = dot(gradients[hook]!, direction)
                let numeric = try numericSlope(model, batch, hook: hook, direction: direction, interventions: interventions,
                                               objective: objective)
                XCTAssertEqual(analytic, numeric, accuracy: Self.relative * abs(numeric) + Self.absolute, "\(name) \(hook)")
            }
        }
    }

    /// Edits of norm intermediates (QK-norm, Gemma's post-norms) would need another forward pass:
    /// they are refused by name, before any work.
    func testEditsAtNormIntermediatesAreRejected() throws {
        let model = try model("gemma3")
        let batch = randomBatch(lengths: [5], vocab: model.config.vocabSize, seed: 2)
        for hook in [HookName.qNormScale(0), .kNormNormalized(1), .ln1PostNormalized(0), .ln2PostScale(1)] {
            XCTAssertThrowsError(try model.activationGradients(batch, at: [.residPre(0)], interventions: [Intervention(hook, .zero)],
                                                               objective: { ($0.storage[0], Tensor(shape: $0.shape)) })) { error in
                guard case GradientError.unsupportedIntervention(let name, _)? = error as? GradientError else {
                    return XCTFail("\(hook): \(error)")
                }
                XCTAssertEqual(name, hook.description)
            }
        }
    }
}
