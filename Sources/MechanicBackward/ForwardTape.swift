import MechanicModel
import MechanicTensor
import MechanicTokenizer

/// What the training forward pass saves for the backward pass (llm.c's `ActivationTensors`).
///
/// Every activation is stored after the interventions at its hook, since that is the value the
/// rest of the model saw. The residual stream itself is not needed: each operation's backward
/// reads only its own inputs and outputs below. The logits are the forward pass's result, not
/// part of the tape: the loss turns them into their own gradient in place.
struct ForwardTape {
    /// One block's saved activations.
    struct Block {
        var ln1: LayerNormTape
        /// `ln_1` output `[batch, pos, dModel]`: the input of the `qkv` projection.
        var ln1Out: Tensor
        /// `[batch, pos, 3·head·dHead]` (keys and values ungrouped to one per query head), what the
        /// attention reads: after edits of `hook_q/k/v`, QK-norm, the rotary embedding and edits of
        /// `hook_rot_q/k`.
        var qkv: Tensor
        /// `[batch, head, queryPos, keyPos]`.
        var pattern: Tensor
        /// `[batch, pos, head, dHead]`, after edits of `hook_z`: the input of `W_O`.
        var z: Tensor
        /// `nil` in attention-only models.
        var mlp: MLP?
        /// QK-norm of the query and key heads (Qwen3, Gemma 3), rows `[batch, pos, head]`.
        var qNorm: LayerNormTape? = nil
        var kNorm: LayerNormTape? = nil
        /// The soft-capped, masked scores `[batch, head, queryPos, keyPos]` (Gemma 2).
        var cappedScores: Tensor? = nil
        /// The norm of the attention output before it joins the residual (Gemma's `ln1_post`).
        var attnPostNorm: LayerNormTape? = nil
    }

    /// An MLP sub-block's saved activations.
    struct MLP {
        var ln2: LayerNormTape
        /// `ln_2` output `[batch, pos, dModel]`: the input of `c_fc`.
        var ln2Out: Tensor
        /// `mlp.hook_pre` `[batch, pos, dMLP]`, after its edits: the input of the GELU.
        var pre: Tensor
        /// `mlp.hook_post` `[batch, pos, dMLP]`, after its edits: the input of `c_proj`.
        var post: Tensor
        /// Gated MLPs: `mlp.hook_pre_linear` `[batch, pos, dMLP]` (the `up` branch), after its
        /// edits; `pre` is then the gate.
        var preLinear: Tensor? = nil
        /// The norm of the MLP output before it joins the residual (Gemma's `ln2_post`).
        var postNorm: LayerNormTape? = nil
    }

    /// The token ids `[batch, pos]`.
    var batch: TokenBatch
    var blocks: [Block]
    var lnFinal: LayerNormTape
    /// `ln_f` output `[batch, pos, dModel]`: the input of the unembedding.
    var lnFinalOut: Tensor
    /// The soft-capped logits `[batch, pos, vocab]` (Gemma 2), which the loss overwrites with
    /// their gradient: the soft-cap's backward reads this copy.
    var cappedLogits: Tensor? = nil
}

/// A norm's saved intermediates (TransformerLens `hook_normalized` and `hook_scale`): layer norm
/// or RMS norm, over the residual (`[batch, pos, dModel]`) or over each head (`[batch, pos, head, dHead]`).
struct LayerNormTape {
    /// `(x − mean) / scale` (RMS norm: `x / scale`) `[batch, pos, dModel]`.
    var normalized: Tensor
    /// `√(var + eps)` (RMS norm: `√(mean(x²) + eps)`) `[batch, pos]`.
    var scale: Tensor
    /// Whether this is an RMS norm (no centring, no bias).
    var rms: Bool
    /// Whether the model has no normalisation: the norm is the identity (scale 1, normalized = input).
    var identity = false
}

extension ForwardTape {
    /// A saved activation by hook name, in its TransformerLens shape, or `nil` when the tape does
    /// not hold it (see `Transformer.tapeHooks`).
    func activation(_ name: HookName, config: TransformerConfig) -> Tensor? {
        let (b, t) = (batch.batch, batch.positions)
        let shape = name.point.shape(batch: b, positions: t, config: config)
        func norm(_ tape: LayerNormTape?, scale: Bool) -> Tensor? {
            guard let tape else { return nil }
            return (scale ? tape.scale : tape.normalized).reshaped(shape)
        }
        let block = name.layer.flatMap { $0 < blocks.count ? blocks[$0] : nil }
        switch name.point {
        case .lnFinalNormalized: return norm(lnFinal, scale: false)
        case .lnFinalScale: return norm(lnFinal, scale: true)
        case .ln1Normalized: return norm(block?.ln1, scale: false)
        case .ln1Scale: return norm(block?.ln1, scale: true)
        case .ln2Normalized: return norm(block?.mlp?.ln2, scale: false)
        case .ln2Scale: return norm(block?.mlp?.ln2, scale: true)
        case .ln1PostNormalized: return norm(block?.attnPostNorm, scale: false)
        case .ln1PostScale: return norm(block?.attnPostNorm, scale: true)
        case .z: return block?.z.reshaped(shape)
        case .pattern: return block?.pattern.reshaped(shape)
        case .mlpPre: return block?.mlp?.pre.reshaped(shape)
        case .mlpPost: return block?.mlp?.post.reshaped(shape)
        default: return nil
        }
    }
}
