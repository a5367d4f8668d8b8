import Foundation
import MechanicModel
import MechanicTensor
import MechanicTokenizer

/// Gradients of a scalar (a loss, a logit difference) with respect to a model's parameters and
/// chosen activations.
public struct GPT2Gradients: Sendable {
    /// `∂value/∂parameter`, in the weights' own structure (so an optimiser walks both with
    /// `TransformerWeights.parameterKeyPaths(for:)`), in Mechanic's layout (`[in, out]` weights,
    /// fused q/k/v columns with grouped keys and values, Gemma's norm gains as `1 + w`, whose
    /// gradient is that of `w`). A tied unembedding's gradient is in `tokenEmbedding` (gather and
    /// unembedding both contribute), an untied one's in `unembedding`; `positionEmbedding` rows
    /// past the batch's length are zero.
    public var weights: TransformerWeights
    /// `∂value/∂activation` at each requested hook, in the hook's TransformerLens shape
    /// (`HookPoint.shape(batch:positions:config:)`), every position of the padded batch.
    public var activations: [HookName: Tensor]

    public init(weights: TransformerWeights, activations: [HookName: Tensor]) {
        self.weights = weights
        self.activations = activations
    }
}

extension Transformer {
    /// Mean cross-entropy of next-token prediction over the real (unmasked) targets, and its
    /// gradient with respect to every parameter.
    ///
    /// This is the training step's forward and backward pass. The forward pass is
    /// ``Transformer/run(_:logits:capture:interventions:)``'s arithmetic, kernel for kernel.
    ///
    /// - Parameters:
    ///   - batch: right-padded token ids.
    ///   - targets: the id each position should predict, one row per prompt, `−1` to mask a
    ///     position; rows may be shorter than the padded batch (the rest is masked), and
    ///     padding positions are always masked. `nil` means the next input token
    ///     (``MechanicTokenizer/TokenBatch/nextTokenTargets``).
    ///   - activationGradients: hooks whose gradient to return as well.
    /// - Throws: `ModelError` for a batch the model cannot run or an unknown hook;
    ///   ``GradientError`` for bad targets or when every target is masked.
    public func languageModelLoss(
        _ batch: TokenBatch, targets: [[Int]]? = nil, activationGradients: [HookName] = []
    ) throws -> (loss: Float, gradients: GPT2Gradients) {
        let (ids, count) = try targetIDs(batch, targets)
        var hooks = try GradientHooks(batch: batch, config: config, requested: activationGradients, interventions: [])
        var forward = try tapedForward(batch, hooks: hooks)
        // The logits become their own gradient in place: [batch, pos, vocab] is never held twice.
        let loss = meanCrossEntropy(&forward.logits, targets: ids, count: count, gradient: true)
        let weights = tapedBackward(forward.tape, dLogits: forward.logits, hooks: &hooks, parameters: true)!
        return (loss, GPT2Gradients(weights: weights, activations: hooks.gradients))
    }

    /// The mean next-token cross-entropy alone (an evaluation pass: no tape, no gradients).
    ///
    /// Same targets and masking as ``languageModelLoss(_:targets:activationGradients:)``, whose loss it equals.
    public func evaluateLanguageModelLoss(_ batch: TokenBatch, targets: [[Int]]? = nil) throws -> Float {
        let (ids, count) = try targetIDs(batch, targets)
        guard var logits = try run(batch, logits: .all).logits else { return .nan }
        return meanCrossEntropy(&logits, targets: ids, count: count, gradient: false)
    }

    /// Gradients of an arbitrary scalar function of the logits, with respect to every parameter
    /// and to the chosen activations.
    ///
    /// Attribution patching and gradient × activation use this with a metric such as a logit
    /// difference (``LogitObjective``); ``activationGradients(_:at:interventions:objective:)``
    /// skips the parameter gradients.
    ///
    /// - Parameters:
    ///   - batch: right-padded token ids.
    ///   - activations: hooks whose gradient to return. Every hook of the model is supported.
    ///   - interventions: edits applied in the forward pass, as in ``Transformer/run(_:logits:capture:interventions:)``.
    ///     Supported: `replace`, `add`, `zero`, `mean` and `patch` on the embeddings, the residual
    ///     stream, `hook_q/k/v`, `hook_rot_q/k`, `hook_z`, `hook_result`, `hook_attn_out` and the
    ///     MLP hooks (`hook_pre`, `hook_pre_linear`, `hook_post`, `hook_mlp_out`), optionally
    ///     restricted to heads and positions. An overwritten element passes no gradient upstream.
    ///   - objective: returns the scalar and its gradient with respect to the logits
    ///     `[batch, pos, vocab]` (every position of the padded batch), same shape.
    /// - Returns: the objective's value and the gradients.
    /// - Throws: `ModelError` as `run` does; ``GradientError`` for unsupported interventions or a
    ///   gradient of the wrong shape; whatever the objective throws.
    public func gradients(
        _ batch: TokenBatch, activations: [HookName] = [], interventions: [Intervention] = [],
        objective: (Tensor) throws -> (Float, Tensor)
    ) throws -> (value: Float, gradients: GPT2Gradients) {
        let (value, weights, activationGradients, _) = try objectiveGradients(
            batch, activations: activations, interventions: interventions, parameters: true, objective: objective)
        return (value, GPT2Gradients(weights: weights!, activations: activationGradients))
    }

    /// Gradients of a scalar function of the logits with respect to chosen activations only.
    ///
    /// Skips every parameter gradient, and stops the backward pass at the lowest block holding a
    /// requested hook, so asking for the last layers' `hook_z` costs little more than the forward pass.
    /// Same arguments as ``gradients(_:activations:interventions:objective:)``.
    public func activationGradients(
        _ batch: TokenBatch, at hooks: [HookName], interventions: [Intervention] = [],
        objective: (Tensor) throws -> (Float, Tensor)
    ) throws -> (value: Float, gradients: [HookName: Tensor]) {
        let (value, _, activationGradients, _) = try objectiveGradients(
            batch, activations: hooks, interventions: interventions, parameters: false, objective: objective)
        return (value, activationGradients)
    }

    /// ``activationGradients(_:at:interventions:objective:)``, also returning activations the
    /// gradient run's forward pass saved anyway, so a caller that needs both runs the model once.
    ///
    /// - Parameter capture: hooks to return, from ``tapeHooks``: the norms' `hook_normalized` and
    ///   `hook_scale` (`ln1`, `ln2`, `ln_final`, Gemma's `ln1_post`), `hook_z`, `hook_pattern`, `mlp.hook_pre` and
    ///   `mlp.hook_post`, after the run's interventions, in their TransformerLens shapes.
    /// - Throws: as the plain variant, and `ModelError.unknownHook` for a hook outside ``tapeHooks``.
    public func activationGradients(
        _ batch: TokenBatch, at hooks: [HookName], interventions: [Intervention] = [], capture: [HookName],
        objective: (Tensor) throws -> (Float, Tensor)
    ) throws -> (value: Float, gradients: [HookName: Tensor], cache: ActivationCache) {
        let known = Set(HookName.all(for: config))
        if let bad = capture.first(where: { !known.contains($0) || !Self.tapeHooks.contains($0.point) }) {
            throw ModelError.unknownHook("\(bad) (a gradient run returns only what its tape holds: "
                                         + Self.tapeHooks.map(\.rawValue).sorted().joined(separator: ", ") + ")")
        }
        let (value, _, activationGradients, cache) = try objectiveGradients(
            batch, activations: hooks, interventions: interventions, parameters: false, capture: capture, objective: objective)
        return (value, activationGradients, cache)
    }

    /// Hook points whose activations a gradient run's tape holds.
    public static let tapeHooks: Set<HookPoint> = [
        .ln1Normalized, .ln1Scale, .ln2Normalized, .ln2Scale, .lnFinalNormalized, .lnFinalScale, .z, .pattern, .mlpPre, .mlpPost,
        .ln1PostNormalized, .ln1PostScale,
    ]

    /// Forward, objective, backward.
    func objectiveGradients(
        _ batch: TokenBatch, activations: [HookName], interventions: [Intervention], parameters: Bool, capture: [HookName] = [],
        objective: (Tensor) throws -> (Float, Tensor)
    ) throws -> (Float, TransformerWeights?, [HookName: Tensor], ActivationCache) {
        var hooks = try GradientHooks(batch: batch, config: config, requested: activations, interventions: interventions)
        let (tape, logits) = try tapedForward(batch, hooks: hooks)
        var cache = ActivationCache()
        for name in capture { cache[name] = tape.activation(name, config: config) }
        let (value, dLogits) = try objective(logits)
        guard dLogits.shape == logits.shape else {
            throw GradientError.objectiveGradientShape(expected: logits.shape, found: dLogits.shape)
        }
        let weights = tapedBackward(tape, dLogits: dLogits, hooks: &hooks, parameters: parameters)
        return (value, weights, hooks.gradients, cache)
    }

    /// Targets as `[batch·pos]` ids with `−1` for masked positions, and the number of real ones.
    func targetIDs(_ batch: TokenBatch, _ targets: [[Int]]?) throws -> (ids: [Int32], count: Int) {
        let rows = targets ?? batch.nextTokenTargets
        guard rows.count == batch.batch else { throw GradientError.targetRowCount(expected: batch.batch, found: rows.count) }
        var ids = [Int32](repeating: -1, count: batch.batch * batch.positions)
        var count = 0
        for (r, row) in rows.enumerated() {
            guard row.count <= batch.positions else {
                throw GradientError.targetRowTooLong(row: r, length: row.count, positions: batch.positions)
            }
            for (p, id) in row.enumerated() {
                guard id >= -1 && id < config.vocabSize else {
                    throw GradientError.targetOutOfRange(row: r, position: p, id: id, vocabSize: config.vocabSize)
                }
                if id >= 0 && p < batch.lengths[r] {
                    ids[r * batch.positions + p] = Int32(id)
                    count += 1
                }
            }
        }
        guard count > 0 else { throw GradientError.noTargets }
        return (ids, count)
    }

    /// Mean cross-entropy over the real targets.
    ///
    /// - Parameter gradient: turn `logits` into the loss's gradient, in place (otherwise they
    ///   are left as probabilities).
    func meanCrossEntropy(_ logits: inout Tensor, targets: [Int32], count: Int, gradient: Bool) -> Float {
        let v = config.vocabSize, rows = logits.count / v
        var losses = [Float](repeating: 0, count: rows)
        let dLosses = [Float](repeating: 1 / Float(count), count: rows)
        logits.storage.withUnsafeMutableBufferPointer { l in
            Backprop.crossEntropyForward(logits: l.baseAddress!, targets: targets, rows: rows, vocab: v,
                                         probabilities: l.baseAddress!, losses: &losses)
            if gradient {
                Backprop.crossEntropyBackward(probabilities: l.baseAddress!, targets: targets, dLosses: dLosses, rows: rows, vocab: v)
            }
        }
        return Float(losses.reduce(0.0) { $0 + Double($1) } / Double(count))
    }
}

extension TokenBatch {
    /// Next-token targets: each row's ids shifted left by one, the last real position masked (`−1`).
    public var nextTokenTargets: [[Int]] {
        (0..<batch).map { r in
            let row = self.row(r)
            return Array(row.dropFirst()) + [-1]
        }
    }
}
