import Foundation
import XCTest
@testable import MechanicBackward
import MechanicModel
import MechanicSafetensors
import MechanicTensor
import MechanicTokenizer

/// Loss and every gradient of every model family against PyTorch, from the fixtures written by
/// `scripts/make_family_fixtures.py` (HF transformers' `loss.backward()` on the tiny random
/// checkpoints of `Tests/Fixtures/families`, see its README).
///
/// The fixture's gradients are in each checkpoint's own layout (`nn.Linear` `[out, in]`, separate
/// q/k/v projections, NeoX's head-major fused q/k/v); Mechanic's are converted back to it through
/// the family's own ``ModelFamily/source(of:config:)`` recipe, so the test also checks that every
/// parameter the checkpoint has gets a gradient, and lands where the loader read it from.
///
/// Tolerances, as for GPT-2 (`FixtureGradientTests`): the loss within 1e-5; every gradient within
/// `1e-5 · max|reference| + 1e-7` (the fixture author measures float32 against float64 parameter
/// gradients at ≤ 3e-6 of that scale).
final class FamilyGradientTests: XCTestCase {
    static let families = ["pythia", "neox-sequential", "llama-gqa", "llama3-mqa", "mistral-window", "qwen2", "qwen3",
                           "gemma2", "gemma3"]
    static let relative: Float = 1e-5
    static let absolute: Float = 1e-7

    static func folder(_ name: String) -> URL { TestPaths.fixtures.appendingPathComponent("families/\(name)") }

    struct Fixture {
        let model: Transformer
        let family: any ModelFamily.Type
        let file: SafetensorsFile
        let batch: TokenBatch

        /// The fixture key of a checkpoint tensor name, under the first of the family's prefixes it has.
        func key(_ name: String) -> String? {
            family.prefixes.lazy.map { "grad." + $0 + name }.first { file.contains($0) }
        }
    }

    func load(_ name: String) throws -> Fixture {
        let model = try CheckpointLoader.load(folder: Self.folder(name))
        let family = try XCTUnwrap(ModelFamilies.family(modelType: model.config.modelType), name)
        let file = try SafetensorsFile(path: Self.folder(name).appendingPathComponent("gradients.safetensors").path)
        let shape = file.info("input_ids")!.shape
        let ids = try file.int64Array("input_ids").map(Int.init)
        let rows = (0..<shape[0]).map { r in Array(ids[(r * shape[1])..<((r + 1) * shape[1])]) }
        return Fixture(model: model, family: family, file: file, batch: TokenBatch(rows: rows))
    }

    func testEveryFamilyHasABackwardPass() throws {
        for name in Self.families {
            let config = try CheckpointLoader.loadConfig(folder: Self.folder(name))
            XCTAssertNil(config.featureWithoutBackward, name)
        }
    }

    /// HF's loss is the mean next-token cross-entropy of positions 0..8 predicting 1..9 of every
    /// row: Mechanic's default targets (``MechanicTokenizer/TokenBatch/nextTokenTargets``).
    func testLossAndEveryParameterAndResidualGradientMatchPyTorch() throws {
        for name in Self.families {
            let fixture = try load(name)
            let model = fixture.model
            let hooks = (0..<model.config.layers).map { HookName.residPre($0) }
            let (loss, gradients) = try model.languageModelLoss(fixture.batch, activationGradients: hooks)
            let expectedLoss = try fixture.file.tensor("loss").storage[0]
            XCTAssertEqual(loss, expectedLoss, accuracy: 1e-5, name)

            var worst: (Float, String) = (0, "")
            var compared: Set<String> = []
            for (path, _) in TransformerWeights.expectedShapes(for: model.config) {
                let source = fixture.family.source(of: path, config: model.config)
                guard let gradient = gradients.weights.tensor(at: path) else {
                    XCTFail("\(name): no gradient for \(path)")
                    continue
                }
                let parts = checkpointLayout(gradient, source: source) { checkpointName in
                    fixture.key(checkpointName).flatMap { fixture.file.info($0)?.shape }
                }
                for (checkpointName, mine) in parts {
                    guard let key = fixture.key(checkpointName) else {
                        XCTFail("\(name): fixture lacks grad.\(checkpointName) (\(path))")
                        continue
                    }
                    compared.insert(key)
                    let ratio = assertGradientsClose(mine, try fixture.file.tensor(key), relative: Self.relative,
                                                     absolute: Self.absolute, "\(name) \(key) (\(path))")
                    if ratio > worst.0 { worst = (ratio, key) }
                }
            }
            let parameterKeys = Set(fixture.file.names.filter { $0.hasPrefix("grad.") && !$0.hasPrefix("grad.blocks.") })
            XCTAssertEqual(compared, parameterKeys, "\(name): every checkpoint parameter's gradient is compared")
            for hook in hooks {
                let ratio = assertGradientsClose(gradients.activations[hook], try fixture.file.tensor("grad." + hook.description),
                                                 relative: Self.relative, absolute: Self.absolute, "\(name) \(hook)")
                if ratio > worst.0 { worst = (ratio, hook.description) }
            }
            print("\(name): loss |Δ| \(abs(loss - expectedLoss)), worst gradient \(worst.0) of max |grad| (\(worst.1))")
        }
    }

    /// The taped forward pass computes `Transformer.run`'s logits, bit for bit, on every family:
    /// inline attention (10 tokens) and the tiled path (70 tokens, where `run` streams attention;
    /// the rotary fixtures' 64-token context is widened for it, which changes no weight).
    func testTapedForwardLogitsEqualRun() throws {
        for name in Self.families {
            let fixture = try load(name).model
            XCTAssertFalse(fixture.config.hasLearnedPositions, name)
            var config = fixture.config
            config.contextLength = max(config.contextLength, 80)
            let model = try Transformer(config: config, weights: fixture.weights)
            for lengths in [[10, 7, 3], [70, 66]] {
                let batch = randomBatch(lengths: lengths, vocab: model.config.vocabSize, seed: 9)
                var seen: Tensor?
                _ = try model.activationGradients(batch, at: []) { logits in
                    seen = logits
                    return (0, Tensor(shape: logits.shape))
                }
                XCTAssertEqual(seen, try model.run(batch).logits!, "\(name) \(lengths)")
            }
        }
    }
}

/// Mechanic's gradient of one parameter in the checkpoint's own layout: the inverse of what the
/// loader does with a ``TensorSource`` (transposes back, splits joined q|k|v columns, undoes
/// NeoX's reordering; `1 + w` has the gradient of `w`).
///
/// - Parameters:
///   - storedShape: the checkpoint shape of a tensor name (how wide each joined part is).
/// - Returns: `(checkpoint name, gradient)` pairs.
func checkpointLayout(_ gradient: Tensor, source: TensorSource, storedShape: (String) -> [Int]?) -> [(String, Tensor)] {
    switch source {
    case .tensor(let name), .plusOne(let name):
        return [(name, gradient)]
    case .transposed(let name):
        return [(name, gradient.transposedMatrix())]
    case .joined(let parts):
        let width = gradient.shape.last!, rows = gradient.count / width
        var offset = 0
        var out: [(String, Tensor)] = []
        for part in parts {
            let stored = storedShape(part.names[0]) ?? []
            var transposed = false
            if case .transposed = part { transposed = true }
            let partWidth = (transposed ? stored.first : stored.last) ?? 0
            var slice = [Float]()
            slice.reserveCapacity(rows * partWidth)
            for r in 0..<rows { slice += gradient.storage[(r * width + offset)..<(r * width + offset + partWidth)] }
            offset += partWidth
            out += checkpointLayout(Tensor(shape: Array(gradient.shape.dropLast()) + [partWidth], storage: slice),
                                    source: part, storedShape: storedShape)
        }
        return out
    case .neoxQKV(let name, let heads, let dHead):
        // Mechanic's column p·heads·dHead + h·dHead + i is the checkpoint's row h·3·dHead + p·dHead + i.
        let n = 3 * heads * dHead
        let inputs = gradient.count / n
        var stored = Tensor(shape: gradient.rank == 2 ? [n, inputs] : [n])
        for p in 0..<3 {
            for h in 0..<heads {
                for i in 0..<dHead {
                    let column = (p * heads + h) * dHead + i, row = (h * 3 + p) * dHead + i
                    for c in 0..<inputs { stored.storage[row * inputs + c] = gradient.storage[c * n + column] }
                }
            }
        }
        return [(name, stored)]
    }
}

extension Tensor {
    /// `[rows, columns]` → `[columns, rows]`.
    func transposedMatrix() -> Tensor {
        let (r, c) = (shape[0], shape[1])
        var out = Tensor(shape: [c, r])
        for i in 0..<r { for j in 0..<c { out.storage[j * r + i] = storage[i * c + j] } }
        return out
    }
}
