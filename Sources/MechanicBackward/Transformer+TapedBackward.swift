import MechanicModel
import MechanicTensor
import MechanicTokenizer

extension Transformer {
    /// The backward pass through a tape, from the gradient of the logits.
    ///
    /// Reads top to bottom in reverse forward order: unembedding, final layer norm, blocks from
    /// last to first, embeddings. `dResidual` carries the residual stream's gradient and each
    /// layer norm's backward adds into it (llm.c's `dresidual`). Activation gradients are recorded
    /// in `hooks` on the way.
    ///
    /// - Parameters:
    ///   - dLogits: `[batch, pos, vocab]`.
    ///   - parameters: compute parameter gradients; without them the pass stops at the lowest
    ///     block whose hooks were asked for.
    /// - Returns: the parameter gradients, or `nil` when not asked for.
    func tapedBackward(_ tape: ForwardTape, dLogits: Tensor, hooks: inout GradientHooks, parameters: Bool) -> TransformerWeights? {
        let batch = tape.batch
        let (b, t, d, v) = (batch.batch, batch.positions, config.dModel, config.vocabSize)
        if !parameters && hooks.requested.isEmpty { return nil }

        // Tied unembedding: logits = ln_f · wteᵀ.
        var dLnFinalOut = Tensor(shape: [b, t, d])                           // [batch, pos, dModel]
        var dTokenTable: Tensor? = parameters ? Tensor(shape: [v, d]) : nil  // [vocab, dModel]
        dTokenTable.withOptionalBase { dTable in
            Backprop.unembedBackward(dLogits: dLogits.storage, x: tape.lnFinalOut.storage, table: weights.tokenEmbedding.storage,
                                     rows: b * t, dim: d, vocab: v, dx: &dLnFinalOut.storage, dTable: dTable)
        }

        var dResidual = Tensor(shape: [b, t, d])                             // [batch, pos, dModel]
        var dFinalGain: Tensor? = parameters ? Tensor(shape: [d]) : nil
        var dFinalBias: Tensor? = parameters ? Tensor(shape: [d]) : nil
        taped(layerNormBackward: dLnFinalOut, tape.lnFinal, gain: weights.finalNormGain, dx: &dResidual,
              dGain: &dFinalGain, dBias: &dFinalBias,
              hooks: &hooks, normalizedHook: .lnFinalNormalized, scaleHook: .lnFinalScale)

        var blockGradients: [BlockWeights] = []
        let lowest = parameters ? 0 : hooks.lowestRequestedLayer
        for layer in stride(from: config.layers - 1, through: lowest, by: -1) {
            if let g = tapedBlockBackward(layer, tape.blocks[layer], &dResidual, hooks: &hooks, parameters: parameters) {
                blockGradients.append(g)
            }
        }
        guard lowest == 0 else { return nil }

        // Embeddings: resid_pre(0) = hook_embed + hook_pos_embed.
        hooks.record(.embed, dResidual)
        hooks.record(.posEmbed, dResidual)
        guard parameters, var dTokenTable else { return nil }
        var dPositionTable = Tensor(shape: weights.positionEmbedding!.shape)  // [context, dModel]
        let dTokens = hooks.upstream(.embed, dResidual), dPositions = hooks.upstream(.posEmbed, dResidual)
        Backprop.embeddingBackward(dTokens: dTokens.storage, dPositions: dPositions.storage, ids: batch.ids,
                                   batch: b, positions: t, dim: d,
                                   dTokenTable: &dTokenTable.storage, dPositionTable: &dPositionTable.storage)
        return TransformerWeights(tokenEmbedding: dTokenTable, positionEmbedding: dPositionTable,
                           blocks: blockGradients.reversed(), finalNormGain: dFinalGain!, finalNormBias: dFinalBias!)
    }

    /// One block backward. On entry `dResidual` is the gradient of `hook_resid_post`; on exit, of
    /// the block's input (before the interventions at `hook_resid_pre`).
    func tapedBlockBackward(_ layer: Int, _ tape: ForwardTape.Block, _ dResidual: inout Tensor,
                            hooks: inout GradientHooks, parameters: Bool) -> BlockWeights? {
        let w = weights.blocks[layer]
        hooks.record(.residPost(layer), dResidual)
        hooks.blockOverwritten(.residPost(layer), in: &dResidual)

        var mlpGradients: MLPWeights?
        if let mlpTape = tape.mlp, let mlp = w.mlp {
            // resid_post = resid_mid + mlp_out
            let (dLn2Out, linears) = tapedMLPBackward(layer, mlpTape, mlp, dOut: dResidual, hooks: &hooks, parameters: parameters)
            var dGain: Tensor? = parameters ? Tensor(shape: mlp.ln2Gain.shape) : nil
            var dBias: Tensor? = parameters ? Tensor(shape: mlp.ln2Bias!.shape) : nil
            taped(layerNormBackward: dLn2Out, mlpTape.ln2, gain: mlp.ln2Gain, dx: &dResidual, dGain: &dGain, dBias: &dBias,
                  hooks: &hooks, normalizedHook: .ln2Normalized(layer), scaleHook: .ln2Scale(layer))
            if let linears, let dGain, let dBias {
                mlpGradients = MLPWeights(ln2Gain: dGain, ln2Bias: dBias, inWeight: linears.inWeight, inBias: linears.inBias,
                                          outWeight: linears.outWeight, outBias: linears.outBias)
            }
            hooks.record(.residMid(layer), dResidual)
            hooks.blockOverwritten(.residMid(layer), in: &dResidual)
        }

        // resid_mid (or resid_post) = resid_pre + attn_out
        let (dLn1Out, attention) = tapedAttentionBackward(layer, tape, w, dOut: dResidual, hooks: &hooks, parameters: parameters)
        var dGain: Tensor? = parameters ? Tensor(shape: w.ln1Gain.shape) : nil
        var dBias: Tensor? = parameters ? Tensor(shape: w.ln1Bias!.shape) : nil
        taped(layerNormBackward: dLn1Out, tape.ln1, gain: w.ln1Gain, dx: &dResidual, dGain: &dGain, dBias: &dBias,
              hooks: &hooks, normalizedHook: .ln1Normalized(layer), scaleHook: .ln1Scale(layer))
        hooks.record(.residPre(layer), dResidual)
        hooks.blockOverwritten(.residPre(layer), in: &dResidual)

        guard parameters, let attention, let dGain, let dBias else { return nil }
        return BlockWeights(ln1Gain: dGain, ln1Bias: dBias, qkvWeight: attention.qkvWeight, qkvBias: attention.qkvBias,
                            attnOutWeight: attention.outWeight, attnOutBias: attention.outBias, mlp: mlpGradients)
    }

    /// The attention sub-block's parameter gradients.
    struct AttentionGradients {
        var qkvWeight, qkvBias, outWeight, outBias: Tensor
    }

    /// Attention backward from `dOut`, the gradient of `hook_attn_out` (before its interventions).
    ///
    /// - Returns: the gradient of `ln_1`'s output `[batch, pos, dModel]` and the parameter gradients.
    func tapedAttentionBackward(_ layer: Int, _ tape: ForwardTape.Block, _ w: BlockWeights, dOut: Tensor,
                                hooks: inout GradientHooks, parameters: Bool) -> (Tensor, AttentionGradients?) {
        let (b, t, h, dh, d) = (dOut.shape[0], dOut.shape[1], config.heads, config.dHead, config.dModel)
        hooks.record(.attnOut(layer), dOut)
        let dAttnOut = hooks.upstream(.attnOut(layer), dOut)                 // [batch, pos, dModel]

        // Output projection W_O: per head when hook_result is edited or asked for.
        var dz = Tensor(shape: [b, t, h, dh])                                // [batch, pos, head, dHead]
        var dOutWeight: Tensor? = parameters ? Tensor(shape: w.attnOutWeight.shape) : nil
        var dOutBias: Tensor? = parameters ? Tensor(shape: w.attnOutBias!.shape) : nil
        if hooks.isEdited(.result(layer)) {
            let dResult = hooks.upstream(.result(layer), dAttnOut.broadcastOverHeads(h))  // [batch, pos, head, dModel]
            hooks.record(.result(layer), dAttnOut.broadcastOverHeads(h))
            dOutWeight.withOptionalBase { dW in
                Backprop.headResultsBackward(dResult: dResult.storage, z: tape.z.storage, weight: w.attnOutWeight.storage,
                                             rows: b * t, heads: h, dHead: dh, dModel: d, dz: &dz.storage, dWeight: dW)
            }
            dOutBias.withOptionalBase { dB in
                if let dB { Backprop.columnSums(dAttnOut.storage, rows: b * t, columns: d, into: dB) }
            }
        } else {
            hooks.record(.result(layer), dAttnOut.broadcastOverHeads(h))
            taped(linearBackward: dAttnOut, x: tape.z, weight: w.attnOutWeight, dx: &dz, dWeight: &dOutWeight, dBias: &dOutBias)
        }
        hooks.record(.z(layer), dz)
        hooks.blockOverwritten(.z(layer), in: &dz)

        // Causal attention.
        var dqkv = Tensor(shape: [b, t, 3 * d])                              // [batch, pos, 3·dModel]
        var dPattern: Tensor? = hooks.wants(.pattern(layer)) ? Tensor(shape: [b, h, t, t]) : nil
        var dScores: Tensor? = hooks.wants(.attnScores(layer)) ? Tensor(shape: [b, h, t, t]) : nil
        let scale = config.attentionScale
        dPattern.withOptionalBase { dP in
            dScores.withOptionalBase { dS in
                Backprop.attentionBackward(dz: dz.storage, qkv: tape.qkv.storage, pattern: tape.pattern.storage,
                                           batch: b, positions: t, heads: h, dHead: dh, scale: scale,
                                           dqkv: &dqkv.storage, dPattern: dP, dScores: dS)
            }
        }
        if let dPattern { hooks.record(.pattern(layer), dPattern) }
        if let dScores { hooks.record(.attnScores(layer), dScores) }
        for (part, name) in [(0, HookName.q(layer)), (1, .k(layer)), (2, .v(layer))] {
            hooks.record(name, dqkv.headSplit(part: part, heads: h))
            if hooks.isEdited(name) {
                var split = dqkv.headSplit(part: part, heads: h)
                hooks.blockOverwritten(name, in: &split)
                dqkv.headMerge(split, part: part)
            }
        }

        // Fused qkv projection.
        var dLn1Out = Tensor(shape: [b, t, d])                               // [batch, pos, dModel]
        var dQKVWeight: Tensor? = parameters ? Tensor(shape: w.qkvWeight.shape) : nil
        var dQKVBias: Tensor? = parameters ? Tensor(shape: w.qkvBias!.shape) : nil
        taped(linearBackward: dqkv, x: tape.ln1Out, weight: w.qkvWeight, dx: &dLn1Out, dWeight: &dQKVWeight, dBias: &dQKVBias)
        guard let dQKVWeight, let dQKVBias, let dOutWeight, let dOutBias else { return (dLn1Out, nil) }
        return (dLn1Out, AttentionGradients(qkvWeight: dQKVWeight, qkvBias: dQKVBias, outWeight: dOutWeight, outBias: dOutBias))
    }

    /// The MLP sub-block's linear-layer gradients (its layer norm's are computed by the caller).
    struct MLPLinearGradients {
        var inWeight, inBias, outWeight, outBias: Tensor
    }

    /// MLP backward from `dOut`, the gradient of `hook_mlp_out` (before its interventions).
    ///
    /// - Returns: the gradient of `ln_2`'s output `[batch, pos, dModel]` and the parameter gradients.
    func tapedMLPBackward(_ layer: Int, _ tape: ForwardTape.MLP, _ w: MLPWeights, dOut: Tensor,
                          hooks: inout GradientHooks, parameters: Bool) -> (Tensor, MLPLinearGradients?) {
        hooks.record(.mlpOut(layer), dOut)
        let dMLPOut = hooks.upstream(.mlpOut(layer), dOut)                   // [batch, pos, dModel]

        var dPost = Tensor(shape: tape.post.shape)                           // [batch, pos, dMLP]
        var dOutWeight: Tensor? = parameters ? Tensor(shape: w.outWeight.shape) : nil
        var dOutBias: Tensor? = parameters ? Tensor(shape: w.outBias!.shape) : nil
        taped(linearBackward: dMLPOut, x: tape.post, weight: w.outWeight, dx: &dPost, dWeight: &dOutWeight, dBias: &dOutBias)
        hooks.record(.mlpPost(layer), dPost)
        hooks.blockOverwritten(.mlpPost(layer), in: &dPost)

        var dPre = Tensor(shape: tape.pre.shape)                             // [batch, pos, dMLP]
        Backprop.geluBackward(dOut: dPost.storage, x: tape.pre.storage, dx: &dPre.storage, count: dPre.count)
        hooks.record(.mlpPre(layer), dPre)
        hooks.blockOverwritten(.mlpPre(layer), in: &dPre)

        var dLn2Out = Tensor(shape: dOut.shape)                              // [batch, pos, dModel]
        var dInWeight: Tensor? = parameters ? Tensor(shape: w.inWeight.shape) : nil
        var dInBias: Tensor? = parameters ? Tensor(shape: w.inBias!.shape) : nil
        taped(linearBackward: dPre, x: tape.ln2Out, weight: w.inWeight, dx: &dLn2Out, dWeight: &dInWeight, dBias: &dInBias)
        guard let dInWeight, let dInBias, let dOutWeight, let dOutBias else { return (dLn2Out, nil) }
        return (dLn2Out, MLPLinearGradients(inWeight: dInWeight, inBias: dInBias, outWeight: dOutWeight, outBias: dOutBias))
    }

    // MARK: - tensor plumbing

    /// ``Backprop/linearBackward(dOut:x:weight:rows:inFeatures:outFeatures:dx:dWeight:dBias:)`` on tensors.
    func taped(linearBackward dOut: Tensor, x: Tensor, weight: Tensor, dx: inout Tensor,
               dWeight: inout Tensor?, dBias: inout Tensor?) {
        let (k, n) = (weight.shape[0], weight.shape[1])
        dWeight.withOptionalBase { dW in
            dBias.withOptionalBase { dB in
                Backprop.linearBackward(dOut: dOut.storage, x: x.storage, weight: weight.storage, rows: x.count / k,
                                        inFeatures: k, outFeatures: n, dx: &dx.storage, dWeight: dW, dBias: dB)
            }
        }
    }

    /// Layer-norm backward on tensors, recording the gradients of its two TransformerLens hooks when asked:
    /// `hook_normalized` gets `dOut · gain`, `hook_scale` gets `−Σ_i dOut_i · gain_i · normalized_i / scale`.
    func taped(layerNormBackward dOut: Tensor, _ tape: LayerNormTape, gain: Tensor, dx: inout Tensor,
               dGain: inout Tensor?, dBias: inout Tensor?,
               hooks: inout GradientHooks, normalizedHook: HookName, scaleHook: HookName) {
        let d = gain.count, rows = dOut.count / d
        if hooks.wants(normalizedHook) || hooks.wants(scaleHook) {
            var dNormalized = dOut                                           // [batch, pos, dModel]
            var dScale = Tensor(shape: tape.scale.shape)                     // [batch, pos]
            for r in 0..<rows {
                var sum: Float = 0
                for i in 0..<d {
                    dNormalized.storage[r * d + i] *= gain.storage[i]
                    sum += dNormalized.storage[r * d + i] * tape.normalized.storage[r * d + i]
                }
                dScale.storage[r] = -sum / tape.scale.storage[r]
            }
            hooks.record(normalizedHook, dNormalized)
            hooks.record(scaleHook, dScale)
        }
        dGain.withOptionalBase { dG in
            dBias.withOptionalBase { dB in
                Backprop.layerNormBackward(dOut: dOut.storage, normalized: tape.normalized.storage, scale: tape.scale.storage,
                                           gain: gain.storage, rows: rows, dim: d, dx: &dx.storage, dGain: dG, dBias: dB)
            }
        }
    }
}

extension GradientHooks {
    /// The gradient passed upstream of a hook: `gradient` itself (no copy) unless an intervention
    /// overwrote part of the activation, in which case a copy with those elements zeroed.
    func upstream(_ name: HookName, _ gradient: Tensor) -> Tensor {
        guard isEdited(name) else { return gradient }
        var blocked = gradient
        blockOverwritten(name, in: &blocked)
        return blocked
    }
}

extension Tensor {
    /// `[batch, pos, dModel]` repeated over a head axis: `[batch, pos, head, dModel]`
    /// (the gradient of every head's `hook_result` is that of `hook_attn_out`).
    func broadcastOverHeads(_ heads: Int) -> Tensor {
        let (b, t, d) = (shape[0], shape[1], shape[2])
        return Tensor(shape: [b, t, heads, d]) { out in
            storage.withUnsafeBufferPointer { src in
                for row in 0..<(b * t) {
                    for h in 0..<heads { (out.baseAddress! + (row * heads + h) * d).update(from: src.baseAddress! + row * d, count: d) }
                }
            }
        }
    }
}

extension Optional where Wrapped == Tensor {
    /// The wrapped tensor's storage for the duration of `body`, or `nil` when there is no tensor
    /// (how an optional gradient output reaches a ``Backprop`` kernel).
    mutating func withOptionalBase<R>(_ body: (UnsafeMutablePointer<Float>?) throws -> R) rethrows -> R {
        guard self != nil else { return try body(nil) }
        return try self!.storage.withUnsafeMutableBufferPointer { try body($0.baseAddress) }
    }
}
