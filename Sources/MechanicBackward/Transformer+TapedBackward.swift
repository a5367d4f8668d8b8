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

        // Final soft-cap (Gemma 2): logits = cap · tanh(raw / cap).
        var dLogits = dLogits                                                // [batch, pos, vocab]
        if let cap = config.finalSoftcap, let capped = tape.cappedLogits {
            dLogits.storage.withUnsafeMutableBufferPointer { g in
                Backprop.softcapBackward(g.baseAddress!, capped: capped.storage, count: g.count, cap: cap)
            }
        }

        // Unembedding: logits = ln_f · W_Uᵀ, W_U the token embedding when tied.
        var dLnFinalOut = Tensor(shape: [b, t, d])                           // [batch, pos, dModel]
        var dTokenTable: Tensor? = parameters ? Tensor(shape: [v, d]) : nil  // [vocab, dModel]
        var dUnembedding: Tensor? = parameters && weights.unembedding != nil ? Tensor(shape: [v, d]) : nil  // [vocab, dModel]
        if let unembedding = weights.unembedding {
            dUnembedding.withOptionalBase { dTable in
                Backprop.unembedBackward(dLogits: dLogits.storage, x: tape.lnFinalOut.storage, table: unembedding.storage,
                                         rows: b * t, dim: d, vocab: v, dx: &dLnFinalOut.storage, dTable: dTable)
            }
        } else {
            dTokenTable.withOptionalBase { dTable in
                Backprop.unembedBackward(dLogits: dLogits.storage, x: tape.lnFinalOut.storage, table: weights.tokenEmbedding.storage,
                                         rows: b * t, dim: d, vocab: v, dx: &dLnFinalOut.storage, dTable: dTable)
            }
        }

        var dResidual = Tensor(shape: [b, t, d])                             // [batch, pos, dModel]
        var dFinalGain: Tensor? = parameters ? Tensor(shape: [d]) : nil
        var dFinalBias: Tensor? = parameters && weights.finalNormBias != nil ? Tensor(shape: [d]) : nil
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
        guard let positionTable = weights.positionEmbedding else {
            // Rotary models: hook_embed alone, scaled by √dModel in Gemma.
            var dTokens = hooks.upstream(.embed, dResidual)                   // [batch, pos, dModel]
            if let scale = config.embeddingScale {
                dTokens.storage.withUnsafeMutableBufferPointer { Kernels.scale($0.baseAddress!, by: scale, count: $0.count) }
            }
            Backprop.embeddingBackward(dTokens: dTokens.storage, dPositions: dTokens.storage, ids: batch.ids,
                                       batch: b, positions: t, dim: d, dTokenTable: &dTokenTable.storage, dPositionTable: nil)
            return TransformerWeights(tokenEmbedding: dTokenTable, positionEmbedding: nil, unembedding: dUnembedding,
                                      blocks: blockGradients.reversed(), finalNormGain: dFinalGain!, finalNormBias: dFinalBias)
        }
        var dPositionTable = Tensor(shape: positionTable.shape)              // [context, dModel]
        var dTokens = hooks.upstream(.embed, dResidual), dPositions = hooks.upstream(.posEmbed, dResidual)
        if let scale = config.embeddingScale {
            dTokens.storage.withUnsafeMutableBufferPointer { Kernels.scale($0.baseAddress!, by: scale, count: $0.count) }
        }
        Backprop.embeddingBackward(dTokens: dTokens.storage, dPositions: dPositions.storage, ids: batch.ids,
                                   batch: b, positions: t, dim: d,
                                   dTokenTable: &dTokenTable.storage, dPositionTable: &dPositionTable.storage)
        return TransformerWeights(tokenEmbedding: dTokenTable, positionEmbedding: dPositionTable, unembedding: dUnembedding,
                                  blocks: blockGradients.reversed(), finalNormGain: dFinalGain!, finalNormBias: dFinalBias)
    }

    /// One block backward. On entry `dResidual` is the gradient of `hook_resid_post`; on exit, of
    /// the block's input (before the interventions at `hook_resid_pre`).
    ///
    /// Sequential blocks pass `resid_mid`'s gradient to the attention; parallel blocks (GPT-NeoX)
    /// pass `resid_post`'s to both sub-blocks, and both norms' backward add into `dResidual`.
    func tapedBlockBackward(_ layer: Int, _ tape: ForwardTape.Block, _ dResidual: inout Tensor,
                            hooks: inout GradientHooks, parameters: Bool) -> BlockWeights? {
        let w = weights.blocks[layer]
        hooks.record(.residPost(layer), dResidual)
        hooks.blockOverwritten(.residPost(layer), in: &dResidual)
        let dResidPost: Tensor? = config.parallelBlocks ? dResidual : nil    // [batch, pos, dModel]

        var mlpGradients: MLPWeights?
        if let mlpTape = tape.mlp, let mlp = w.mlp {
            // resid_post = resid_mid + mlp_out (parallel: resid_pre + attn_out + mlp_out)
            let (dLn2Out, linears) = tapedMLPBackward(layer, mlpTape, mlp, dOut: dResidual, hooks: &hooks, parameters: parameters)
            var dGain: Tensor? = parameters ? Tensor(shape: mlp.ln2Gain.shape) : nil
            var dBias: Tensor? = parameters && mlp.ln2Bias != nil ? Tensor(shape: mlp.ln2Gain.shape) : nil
            taped(layerNormBackward: dLn2Out, mlpTape.ln2, gain: mlp.ln2Gain, dx: &dResidual, dGain: &dGain, dBias: &dBias,
                  hooks: &hooks, normalizedHook: .ln2Normalized(layer), scaleHook: .ln2Scale(layer))
            if let linears, let dGain {
                mlpGradients = MLPWeights(ln2Gain: dGain, ln2Bias: dBias, inWeight: linears.inWeight, inBias: linears.inBias,
                                          gateWeight: linears.gateWeight, gateBias: linears.gateBias,
                                          outWeight: linears.outWeight, outBias: linears.outBias, postNormGain: linears.postNormGain)
            }
            if dResidPost == nil {
                hooks.record(.residMid(layer), dResidual)
                hooks.blockOverwritten(.residMid(layer), in: &dResidual)
            }
        }

        // resid_mid (or resid_post) = resid_pre + attn_out
        let (dLn1Out, attention) = tapedAttentionBackward(layer, tape, w, dOut: dResidPost ?? dResidual, hooks: &hooks,
                                                          parameters: parameters)
        var dGain: Tensor? = parameters ? Tensor(shape: w.ln1Gain.shape) : nil
        var dBias: Tensor? = parameters && w.ln1Bias != nil ? Tensor(shape: w.ln1Gain.shape) : nil
        taped(layerNormBackward: dLn1Out, tape.ln1, gain: w.ln1Gain, dx: &dResidual, dGain: &dGain, dBias: &dBias,
              hooks: &hooks, normalizedHook: .ln1Normalized(layer), scaleHook: .ln1Scale(layer))
        hooks.record(.residPre(layer), dResidual)
        hooks.blockOverwritten(.residPre(layer), in: &dResidual)

        guard parameters, let attention, let dGain else { return nil }
        return BlockWeights(ln1Gain: dGain, ln1Bias: dBias, qkvWeight: attention.qkvWeight, qkvBias: attention.qkvBias,
                            qNormGain: attention.qNormGain, kNormGain: attention.kNormGain,
                            attnOutWeight: attention.outWeight, attnOutBias: attention.outBias,
                            attnPostNormGain: attention.postNormGain, mlp: mlpGradients)
    }

    /// The attention sub-block's parameter gradients (its `ln_1`'s are computed by the caller).
    struct AttentionGradients {
        var qkvWeight, outWeight: Tensor
        var qkvBias, outBias, qNormGain, kNormGain, postNormGain: Tensor?
    }

    /// Attention backward from `dOut`, the gradient of `hook_attn_out` (before its interventions).
    ///
    /// In reverse forward order: Gemma's post-norm, W_O (per head when `hook_result` is edited),
    /// the attention (soft-cap and window included), the rotary embedding (rotation by the
    /// negative angle), QK-norm, and the fused q/k/v projection, whose key and value columns
    /// collect the gradients of every query head of their group.
    ///
    /// - Returns: the gradient of `ln_1`'s output `[batch, pos, dModel]` and the parameter gradients.
    func tapedAttentionBackward(_ layer: Int, _ tape: ForwardTape.Block, _ w: BlockWeights, dOut: Tensor,
                                hooks: inout GradientHooks, parameters: Bool) -> (Tensor, AttentionGradients?) {
        let (b, t, h, dh, d) = (dOut.shape[0], dOut.shape[1], config.heads, config.dHead, config.dModel)
        let kv = config.kvHeads
        hooks.record(.attnOut(layer), dOut)
        var dAttnOut = hooks.upstream(.attnOut(layer), dOut)                 // [batch, pos, dModel]

        // Gemma's post-norm: attn_out = norm(W_O z).
        var dPostGain: Tensor? = parameters && w.attnPostNormGain != nil ? Tensor(shape: [d]) : nil
        if let gain = w.attnPostNormGain, let postTape = tape.attnPostNorm {
            var dRaw = Tensor(shape: dAttnOut.shape)                         // [batch, pos, dModel]
            var noBias: Tensor? = nil
            taped(layerNormBackward: dAttnOut, postTape, gain: gain, dx: &dRaw, dGain: &dPostGain, dBias: &noBias,
                  hooks: &hooks, normalizedHook: .ln1PostNormalized(layer), scaleHook: .ln1PostScale(layer))
            dAttnOut = dRaw
        }

        // Output projection W_O: per head when hook_result is edited or asked for.
        var dz = Tensor(shape: [b, t, h, dh])                                // [batch, pos, head, dHead]
        var dOutWeight: Tensor? = parameters ? Tensor(shape: w.attnOutWeight.shape) : nil
        var dOutBias: Tensor? = parameters && w.attnOutBias != nil ? Tensor(shape: [d]) : nil
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

        // Causal attention (soft-capped scores, sliding window).
        var dqkv = Tensor(shape: [b, t, 3 * h * dh])                         // [batch, pos, 3·head·dHead]
        var dPattern: Tensor? = hooks.wants(.pattern(layer)) ? Tensor(shape: [b, h, t, t]) : nil
        var dScores: Tensor? = hooks.wants(.attnScores(layer)) ? Tensor(shape: [b, h, t, t]) : nil
        let (scale, softcap) = (config.attentionScale, config.attentionSoftcap)
        let capped = tape.cappedScores ?? Tensor(shape: [0])                 // [batch, head, queryPos, keyPos]
        dPattern.withOptionalBase { dP in
            dScores.withOptionalBase { dS in
                if config.causal {
                    Backprop.attentionBackward(dz: dz.storage, qkv: tape.qkv.storage, pattern: tape.pattern.storage,
                                               batch: b, positions: t, heads: h, dHead: dh, scale: scale,
                                               dqkv: &dqkv.storage, dPattern: dP, dScores: dS,
                                               capped: capped.storage, softcap: tape.cappedScores == nil ? nil : softcap)
                } else {
                    Backprop.bidirectionalAttentionBackward(dz: dz.storage, qkv: tape.qkv.storage, pattern: tape.pattern.storage,
                                                            batch: b, positions: t, heads: h, dHead: dh, scale: scale,
                                                            dqkv: &dqkv.storage, dPattern: dP, dScores: dS,
                                                            capped: capped.storage, softcap: tape.cappedScores == nil ? nil : softcap)
                }
            }
        }
        if let dPattern { hooks.record(.pattern(layer), dPattern) }
        if let dScores { hooks.record(.attnScores(layer), dScores) }

        // Rotary embedding: the rotation's transpose.
        if let rotary = config.rotary(layer: layer) {
            blockAndRecord([(0, .rotQ(layer)), (1, .rotK(layer))], in: &dqkv, hooks: &hooks)
            let angles = RotaryTable(rotary, positions: t)
            dqkv.storage.withUnsafeMutableBufferPointer { g in
                Backprop.rotaryBackward(g.baseAddress!, batch: b, positions: t, heads: h, dHead: dh, rotary: rotary, angles: angles)
            }
        }

        // QK-norm of each query and key head.
        var dNormGains: [Tensor?] = [nil, nil]
        if let qNorm = tape.qNorm, let kNorm = tape.kNorm, let qGain = w.qNormGain, let kGain = w.kNormGain {
            for (part, norm, gain, scaleHook, normalizedHook) in [(0, qNorm, qGain, HookName.qNormScale(layer), HookName.qNormNormalized(layer)),
                                                                 (1, kNorm, kGain, .kNormScale(layer), .kNormNormalized(layer))] {
                let dOutHeads = dqkv.headSplit(part: part, heads: h)         // [batch, pos, head, dHead]
                var dHeads = Tensor(shape: dOutHeads.shape)                  // [batch, pos, head, dHead]
                var dGain: Tensor? = parameters ? Tensor(shape: [dh]) : nil
                var noBias: Tensor? = nil
                taped(layerNormBackward: dOutHeads, norm, gain: gain, dx: &dHeads, dGain: &dGain, dBias: &noBias,
                      hooks: &hooks, normalizedHook: normalizedHook, scaleHook: scaleHook)
                dqkv.headMerge(dHeads, part: part)
                dNormGains[part] = dGain
            }
        }
        blockAndRecord([(0, .q(layer)), (1, .k(layer)), (2, .v(layer))], in: &dqkv, hooks: &hooks)

        // Grouped keys and values: each kv head's columns sum its query heads' gradients.
        if kv != h {
            let ungrouped = dqkv
            dqkv = Tensor(shape: [b, t, (h + 2 * kv) * dh])                  // [batch, pos, (head + 2·kvHead)·dHead]
            dqkv.storage.withUnsafeMutableBufferPointer { g in
                Backprop.regroupKeysValues(ungrouped.storage, rows: b * t, heads: h, kvHeads: kv, dHead: dh, dGrouped: g.baseAddress!)
            }
        }

        // Fused qkv projection.
        var dLn1Out = Tensor(shape: [b, t, d])                               // [batch, pos, dModel]
        var dQKVWeight: Tensor? = parameters ? Tensor(shape: w.qkvWeight.shape) : nil
        var dQKVBias: Tensor? = parameters && w.qkvBias != nil ? Tensor(shape: [w.qkvWeight.shape[1]]) : nil
        taped(linearBackward: dqkv, x: tape.ln1Out, weight: w.qkvWeight, dx: &dLn1Out, dWeight: &dQKVWeight, dBias: &dQKVBias)
        guard parameters, let dQKVWeight, let dOutWeight else { return (dLn1Out, nil) }
        return (dLn1Out, AttentionGradients(qkvWeight: dQKVWeight, outWeight: dOutWeight, qkvBias: dQKVBias, outBias: dOutBias,
                                            qNormGain: dNormGains[0], kNormGain: dNormGains[1], postNormGain: dPostGain))
    }

    /// Records the gradients of head-split hooks on a fused `[batch, pos, 3·head·dHead]` gradient,
    /// then blocks what their interventions overwrote.
    func blockAndRecord(_ parts: [(Int, HookName)], in dqkv: inout Tensor, hooks: inout GradientHooks) {
        let h = config.heads
        for (part, name) in parts {
            hooks.record(name, dqkv.headSplit(part: part, heads: h))
            if hooks.isEdited(name) {
                var split = dqkv.headSplit(part: part, heads: h)
                hooks.blockOverwritten(name, in: &split)
                dqkv.headMerge(split, part: part)
            }
        }
    }

    /// The MLP sub-block's parameter gradients (its `ln_2`'s are computed by the caller).
    struct MLPLinearGradients {
        var inWeight, outWeight: Tensor
        var inBias, gateWeight, gateBias, outBias, postNormGain: Tensor?
    }

    /// MLP backward from `dOut`, the gradient of `hook_mlp_out` (before its interventions).
    ///
    /// - Returns: the gradient of `ln_2`'s output `[batch, pos, dModel]` and the parameter gradients.
    func tapedMLPBackward(_ layer: Int, _ tape: ForwardTape.MLP, _ w: MLPWeights, dOut: Tensor,
                          hooks: inout GradientHooks, parameters: Bool) -> (Tensor, MLPLinearGradients?) {
        hooks.record(.mlpOut(layer), dOut)
        var dMLPOut = hooks.upstream(.mlpOut(layer), dOut)                   // [batch, pos, dModel]

        // Gemma's post-norm: mlp_out = norm(down(post)).
        var dPostNormGain: Tensor? = parameters && w.postNormGain != nil ? Tensor(shape: [config.dModel]) : nil
        if let gain = w.postNormGain, let postTape = tape.postNorm {
            var dRaw = Tensor(shape: dMLPOut.shape)                          // [batch, pos, dModel]
            var noBias: Tensor? = nil
            taped(layerNormBackward: dMLPOut, postTape, gain: gain, dx: &dRaw, dGain: &dPostNormGain, dBias: &noBias,
                  hooks: &hooks, normalizedHook: .ln2PostNormalized(layer), scaleHook: .ln2PostScale(layer))
            dMLPOut = dRaw
        }

        var dPost = Tensor(shape: tape.post.shape)                           // [batch, pos, dMLP]
        var dOutWeight: Tensor? = parameters ? Tensor(shape: w.outWeight.shape) : nil
        var dOutBias: Tensor? = parameters && w.outBias != nil ? Tensor(shape: [w.outWeight.shape[1]]) : nil
        taped(linearBackward: dMLPOut, x: tape.post, weight: w.outWeight, dx: &dPost, dWeight: &dOutWeight, dBias: &dOutBias)
        hooks.record(.mlpPost(layer), dPost)
        hooks.blockOverwritten(.mlpPost(layer), in: &dPost)

        var dPre = Tensor(shape: tape.pre.shape)                             // [batch, pos, dMLP]
        var dLn2Out = Tensor(shape: dOut.shape)                              // [batch, pos, dModel]
        var dGateWeight: Tensor?, dGateBias: Tensor?
        if let up = tape.preLinear, let gate = w.gateWeight {
            // post = act(gate) · up: hook_pre is the gate, hook_pre_linear the up branch.
            var dUp = Tensor(shape: up.shape)                                // [batch, pos, dMLP]
            Backprop.gatedActivationBackward(config.activation, dOut: dPost.storage, gate: tape.pre.storage, up: up.storage,
                                             dGate: &dPre.storage, dUp: &dUp.storage, count: dPre.count)
            hooks.record(.mlpPre(layer), dPre)
            hooks.blockOverwritten(.mlpPre(layer), in: &dPre)
            hooks.record(.mlpPreLinear(layer), dUp)
            hooks.blockOverwritten(.mlpPreLinear(layer), in: &dUp)
            dGateWeight = parameters ? Tensor(shape: gate.shape) : nil
            dGateBias = parameters && w.gateBias != nil ? Tensor(shape: [gate.shape[1]]) : nil
            taped(linearBackward: dPre, x: tape.ln2Out, weight: gate, dx: &dLn2Out, dWeight: &dGateWeight, dBias: &dGateBias)
            dPre = dUp  // the up branch reaches ln_2 through W_in, below
        } else {
            Backprop.activationBackward(config.activation, dOut: dPost.storage, x: tape.pre.storage, dx: &dPre.storage, count: dPre.count)
            hooks.record(.mlpPre(layer), dPre)
            hooks.blockOverwritten(.mlpPre(layer), in: &dPre)
        }

        var dInWeight: Tensor? = parameters ? Tensor(shape: w.inWeight.shape) : nil
        var dInBias: Tensor? = parameters && w.inBias != nil ? Tensor(shape: [w.inWeight.shape[1]]) : nil
        taped(linearBackward: dPre, x: tape.ln2Out, weight: w.inWeight, dx: &dLn2Out, dWeight: &dInWeight, dBias: &dInBias)
        guard parameters, let dInWeight, let dOutWeight else { return (dLn2Out, nil) }
        return (dLn2Out, MLPLinearGradients(inWeight: dInWeight, outWeight: dOutWeight, inBias: dInBias, gateWeight: dGateWeight,
                                            gateBias: dGateBias, outBias: dOutBias, postNormGain: dPostNormGain))
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
    ///
    /// The same for RMS norms (the tape says which), over the residual or over each head (QK-norm).
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
        if tape.identity {
            // No normalisation: the gradient passes through (the gains are ones, not parameters).
            Kernels.add(dOut.storage, into: &dx.storage, count: dOut.count)
            return
        }
        if tape.rms {
            return dGain.withOptionalBase { dG in
                Backprop.rmsNormBackward(dOut: dOut.storage, normalized: tape.normalized.storage, scale: tape.scale.storage,
                                         gain: gain.storage, rows: rows, dim: d, dx: &dx.storage, dGain: dG)
            }
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
