import MechanicModel
import MechanicTensor
import MechanicTokenizer

extension TransformerConfig {
    /// The first feature of this architecture the backward pass cannot differentiate, `nil` when
    /// it differentiates them all.
    ///
    /// Every feature `TransformerConfig` describes has a backward pass (GPT-2, GPT-NeoX/Pythia,
    /// Llama/Mistral, Qwen2/3, Gemma 2/3: LayerNorm and RMS norm, learned positions, full and
    /// partial rotary embeddings in either pairing with any scaling, GQA/MQA, QK-norm, sliding
    /// windows, soft-capping, every activation, gated MLPs, parallel blocks, post-norms, scaled
    /// embeddings, untied unembeddings, optional biases), so this is `nil` for every
    /// configuration. A feature added to the forward pass before its backward names itself here,
    /// and gradient runs refuse it with ``GradientError/unsupportedArchitecture(modelType:feature:)``.
    public var featureWithoutBackward: String? {
        nil
    }
}

extension Transformer {
    /// The forward pass of a gradient run: ``run(_:logits:capture:interventions:)``'s arithmetic,
    /// kernel for kernel, saving what the backward pass reads.
    ///
    /// - Returns: the tape and the logits `[batch, pos, vocab]` of every position.
    func tapedForward(_ batch: TokenBatch, hooks: GradientHooks) throws -> (tape: ForwardTape, logits: Tensor) {
        if let feature = config.featureWithoutBackward {
            throw GradientError.unsupportedArchitecture(modelType: config.modelType, feature: feature)
        }
        try checkBatch(batch)
        let (b, t, d, v) = (batch.batch, batch.positions, config.dModel, config.vocabSize)
        var residual = tapedEmbedding(batch, hooks: hooks)                   // [batch, pos, dModel]
        var blocks: [ForwardTape.Block] = []
        blocks.reserveCapacity(config.layers)
        for layer in 0..<config.layers {
            blocks.append(tapedBlock(layer, &residual, hooks: hooks))
        }
        let (lnFinal, lnFinalOut) = tapedNorm(residual, gain: weights.finalNormGain, bias: weights.finalNormBias)
        // logits = ln_f · W_Uᵀ, W_U the token embedding when tied.
        var logits = Tensor(shape: [b, t, v]) { out in                       // [batch, pos, vocab]
            Backprop.unembedForward(lnFinalOut.storage, rows: b * t, dim: d, table: weights.unembeddingMatrix.storage,
                                    vocab: v, logits: out.baseAddress!)
        }
        var tape = ForwardTape(batch: batch, blocks: blocks, lnFinal: lnFinal, lnFinalOut: lnFinalOut)
        if let cap = config.finalSoftcap {
            logits.storage.withUnsafeMutableBufferPointer { Kernels.softcap($0.baseAddress!, count: $0.count, cap: cap) }
            tape.cappedLogits = logits
        }
        return (tape, logits)
    }

    /// Rejects prompts that do not fit the context or use ids outside the vocabulary, as `run` does.
    func checkBatch(_ batch: TokenBatch) throws {
        try validate(batch)
    }

    /// `resid_pre(0) = hook_embed + hook_pos_embed`; one fused kernel unless either hook is edited.
    /// Rotary models have no position embedding; Gemma scales the token embedding (by √dModel)
    /// before `hook_embed`.
    func tapedEmbedding(_ batch: TokenBatch, hooks: GradientHooks) -> Tensor {
        let (b, t, d) = (batch.batch, batch.positions, config.dModel)
        if let positionTable = weights.positionEmbedding, config.embeddingScale == nil,
           !hooks.isEdited(.embed), !hooks.isEdited(.posEmbed) {
            return Tensor(shape: [b, t, d]) { out in
                Backprop.embeddingForward(ids: batch.ids, batch: b, positions: t, dim: d,
                                          tokenTable: weights.tokenEmbedding.storage,
                                          positionTable: positionTable.storage, out: out.baseAddress!)
            }
        }
        var tokens = Tensor(shape: [b, t, d]) { out in                       // [batch, pos, dModel]
            Kernels.gather(table: weights.tokenEmbedding.storage, dim: d, ids: batch.ids, count: b * t, out: out.baseAddress!)
        }
        if let scale = config.embeddingScale {
            tokens.storage.withUnsafeMutableBufferPointer { Kernels.scale($0.baseAddress!, by: scale, count: $0.count) }
        }
        hooks.apply(.embed, to: &tokens)
        guard weights.positionEmbedding != nil else { return tokens }
        var positions = Tensor(shape: [b, t, d]) { out in                    // [batch, pos, dModel]
            for r in 0..<b { (out.baseAddress! + r * t * d).update(from: weights.positionEmbedding!.storage, count: t * d) }
        }
        hooks.apply(.posEmbed, to: &positions)
        tokens.addInPlace(positions)
        return tokens
    }

    /// One block, updating the residual stream in place and returning what its backward pass needs.
    ///
    /// Sequential: `resid_mid = resid_pre + attn_out`, `resid_post = resid_mid + mlp_out`; parallel
    /// (GPT-NeoX): both sub-blocks read `resid_pre` and `resid_post = resid_pre + attn_out + mlp_out`.
    func tapedBlock(_ layer: Int, _ residual: inout Tensor, hooks: GradientHooks) -> ForwardTape.Block {
        let w = weights.blocks[layer]
        hooks.apply(.residPre(layer), to: &residual)
        let (ln1, ln1Out) = tapedNorm(residual, gain: w.ln1Gain, bias: w.ln1Bias)
        var (block, attnOut) = tapedAttention(layer, ln1, ln1Out, w, hooks: hooks)  // attnOut [batch, pos, dModel]
        hooks.apply(.attnOut(layer), to: &attnOut)
        guard let mlp = w.mlp else {
            residual.addInPlace(attnOut)
            hooks.apply(.residPost(layer), to: &residual)
            return block
        }
        if !config.parallelBlocks {
            residual.addInPlace(attnOut)
            hooks.apply(.residMid(layer), to: &residual)
        }
        let (mlpTape, mlpOut) = tapedMLP(layer, residual, mlp, hooks: hooks)    // mlpOut [batch, pos, dModel]
        if config.parallelBlocks { residual.addInPlace(attnOut) }
        residual.addInPlace(mlpOut)
        hooks.apply(.residPost(layer), to: &residual)
        block.mlp = mlpTape
        return block
    }

    /// The attention sub-block from `ln_1`'s output to `hook_attn_out` (before its interventions).
    ///
    /// - Parameters:
    ///   - ln1, ln1Out: `ln_1`'s tape and output `[batch, pos, dModel]`.
    /// - Returns: the block's tape (without the MLP) and the attention output `[batch, pos, dModel]`.
    func tapedAttention(_ layer: Int, _ ln1: LayerNormTape, _ ln1Out: Tensor, _ w: BlockWeights,
                        hooks: GradientHooks) -> (ForwardTape.Block, Tensor) {
        let (b, t, d) = (ln1Out.shape[0], ln1Out.shape[1], config.dModel)
        let (h, dh) = (config.heads, config.dHead)
        let (qkv, qNorm, kNorm) = tapedQueriesKeysValues(layer, ln1Out, w, hooks: hooks)  // [batch, pos, 3·head·dHead]

        let (scale, window, softcap) = (config.attentionScale, config.window(layer: layer), config.attentionSoftcap)
        var pattern = Tensor(shape: [b, h, t, t])                            // [batch, head, queryPos, keyPos]
        var capped: Tensor? = softcap == nil ? nil : Tensor(shape: [b, h, t, t])  // [batch, head, queryPos, keyPos]
        var z = Tensor(shape: [b, t, h, dh]) { z in                          // [batch, pos, head, dHead]
            capped.withOptionalBase { c in
                if config.causal {
                    Backprop.attentionForward(qkv: qkv.storage, batch: b, positions: t, heads: h, dHead: dh, scale: scale,
                                              pattern: &pattern.storage, z: z.baseAddress!, window: window, softcap: softcap, capped: c)
                } else {
                    Backprop.bidirectionalAttentionForward(qkv: qkv.storage, batch: b, positions: t, heads: h, dHead: dh,
                                                           scale: scale, lengths: hooks.batch.lengths, pattern: &pattern.storage,
                                                           z: z.baseAddress!, softcap: softcap, capped: c)
                }
            }
        }
        hooks.apply(.z(layer), to: &z)

        var attnOut: Tensor                                                  // [batch, pos, dModel]
        if hooks.isEdited(.result(layer)) {
            var result = Tensor(shape: [b, t, h, d]) { out in               // [batch, pos, head, dModel]
                Backprop.headResultsForward(z: z.storage, weight: w.attnOutWeight.storage, rows: b * t, heads: h,
                                            dHead: dh, dModel: d, result: out.baseAddress!)
            }
            hooks.apply(.result(layer), to: &result)
            attnOut = result.sumOverHeads(bias: w.attnOutBias)
        } else {
            attnOut = tapedLinear(z.reshaped([b, t, h * dh]), w.attnOutWeight, w.attnOutBias)
        }
        var postNorm: LayerNormTape?
        if let gain = w.attnPostNormGain {
            (postNorm, attnOut) = tapedNorm(attnOut, gain: gain, bias: nil)
        }
        let block = ForwardTape.Block(ln1: ln1, ln1Out: ln1Out, qkv: qkv, pattern: pattern, z: z, mlp: nil,
                                      qNorm: qNorm, kNorm: kNorm, cappedScores: capped, attnPostNorm: postNorm)
        return (block, attnOut)
    }

    /// Queries, keys and values of every query head, as the attention reads them.
    ///
    /// The fused projection; grouped keys and values repeated to one per query head (so everything
    /// after is plain multi-head attention, as in the model); edits of `hook_q/k/v`; QK-norm of each
    /// head; the rotary embedding; edits of `hook_rot_q/k`.
    ///
    /// - Parameter x: `ln_1`'s output `[batch, pos, dModel]`.
    /// - Returns: `[batch, pos, 3·head·dHead]` and the QK-norm tapes (rows `[batch, pos, head]`).
    func tapedQueriesKeysValues(_ layer: Int, _ x: Tensor, _ w: BlockWeights,
                                hooks: GradientHooks) -> (Tensor, LayerNormTape?, LayerNormTape?) {
        let (b, t) = (x.shape[0], x.shape[1])
        let (h, kv, dh) = (config.heads, config.kvHeads, config.dHead)
        var qkv = tapedLinear(x, w.qkvWeight, w.qkvBias)                     // [batch, pos, (head + 2·kvHead)·dHead]
        if kv != h {
            let grouped = qkv
            qkv = Tensor(shape: [b, t, 3 * h * dh]) { out in                 // [batch, pos, 3·head·dHead]
                Kernels.ungroupKeysValues(grouped.storage, rows: b * t, heads: h, kvHeads: kv, dHead: dh, out: out.baseAddress!)
            }
        }
        for (part, name) in [(0, HookName.q(layer)), (1, .k(layer)), (2, .v(layer))] where hooks.isEdited(name) {
            var split = qkv.headSplit(part: part, heads: h)                         // [batch, pos, head, dHead]
            hooks.apply(name, to: &split)
            qkv.headMerge(split, part: part)
        }
        var norms: [LayerNormTape] = []
        if config.qkNorm, let qGain = w.qNormGain, let kGain = w.kNormGain {
            for (part, gain) in [(0, qGain), (1, kGain)] {
                let (tape, normed) = tapedNorm(qkv.headSplit(part: part, heads: h), gain: gain, bias: nil)  // [batch, pos, head, dHead]
                qkv.headMerge(normed, part: part)
                norms.append(tape)
            }
        }
        if let rotary = config.rotary(layer: layer) {
            let angles = RotaryTable(rotary, positions: t)
            qkv.storage.withUnsafeMutableBufferPointer { buffer in
                Backprop.rotaryForward(buffer.baseAddress!, batch: b, positions: t, heads: h, dHead: dh, rotary: rotary, angles: angles)
            }
            for (part, name) in [(0, HookName.rotQ(layer)), (1, .rotK(layer))] where hooks.isEdited(name) {
                var split = qkv.headSplit(part: part, heads: h)                     // [batch, pos, head, dHead]
                hooks.apply(name, to: &split)
                qkv.headMerge(split, part: part)
            }
        }
        return norms.count == 2 ? (qkv, norms[0], norms[1]) : (qkv, nil, nil)
    }

    /// The MLP sub-block from its input (`resid_mid`, or `resid_pre` in parallel blocks) to
    /// `hook_mlp_out` (before its interventions): `ln_2`, the projections, the nonlinearity (gated
    /// or not) and Gemma's post-norm.
    ///
    /// - Returns: the tape and the MLP output `[batch, pos, dModel]`.
    func tapedMLP(_ layer: Int, _ input: Tensor, _ mlp: MLPWeights, hooks: GradientHooks) -> (ForwardTape.MLP, Tensor) {
        let (ln2, ln2Out) = tapedNorm(input, gain: mlp.ln2Gain, bias: mlp.ln2Bias)
        var pre: Tensor                                                      // [batch, pos, dMLP]
        var preLinear: Tensor?                                               // [batch, pos, dMLP], gated MLPs
        if let gate = mlp.gateWeight {
            pre = tapedLinear(ln2Out, gate, mlp.gateBias)
            hooks.apply(.mlpPre(layer), to: &pre)
            var up = tapedLinear(ln2Out, mlp.inWeight, mlp.inBias)
            hooks.apply(.mlpPreLinear(layer), to: &up)
            preLinear = up
        } else {
            pre = tapedLinear(ln2Out, mlp.inWeight, mlp.inBias)
            hooks.apply(.mlpPre(layer), to: &pre)
        }
        var post = Tensor(shape: pre.shape) { out in                         // [batch, pos, dMLP]
            Backprop.activationForward(config.activation, pre.storage, out: out.baseAddress!, count: pre.count)
        }
        if let preLinear {
            post.storage.withUnsafeMutableBufferPointer { p in
                Kernels.multiply(preLinear.storage, into: p.baseAddress!, count: p.count)
            }
        }
        hooks.apply(.mlpPost(layer), to: &post)
        var mlpOut = tapedLinear(post, mlp.outWeight, mlp.outBias)           // [batch, pos, dModel]
        var postNorm: LayerNormTape?
        if let gain = mlp.postNormGain {
            (postNorm, mlpOut) = tapedNorm(mlpOut, gain: gain, bias: nil)
        }
        hooks.apply(.mlpOut(layer), to: &mlpOut)
        return (ForwardTape.MLP(ln2: ln2, ln2Out: ln2Out, pre: pre, post: post, preLinear: preLinear, postNorm: postNorm), mlpOut)
    }

    /// The model's norm of `[…, dim]` (the residual, or each head for QK-norm), returning its tape
    /// and output: layer norm when it has a bias, RMS norm otherwise (as `Transformer.run` chooses).
    func tapedNorm(_ x: Tensor, gain: Tensor, bias: Tensor?) -> (LayerNormTape, Tensor) {
        if config.norm == .none {
            // No normalisation: the identity, as `Transformer.run` computes it.
            return (LayerNormTape(normalized: x, scale: Tensor(shape: Array(x.shape.dropLast()), repeating: 1), rms: true,
                                  identity: true), x)
        }
        if config.norm == .layerNorm, let bias { return tapedLayerNorm(x, gain: gain, bias: bias) }
        let d = x.shape[x.rank - 1], rows = x.count / d
        var normalized = Tensor(shape: x.shape), scale = Tensor(shape: Array(x.shape.dropLast()))
        let out = Tensor(shape: x.shape) { out in
            Backprop.rmsNormForward(x.storage, rows: rows, dim: d, eps: config.layerNormEpsilon, gain: gain.storage,
                                    out: out.baseAddress!, normalized: &normalized.storage, scale: &scale.storage)
        }
        return (LayerNormTape(normalized: normalized, scale: scale, rms: true), out)
    }

    /// Layer norm of `[batch, pos, dModel]`, returning its tape and output.
    func tapedLayerNorm(_ x: Tensor, gain: Tensor, bias: Tensor) -> (LayerNormTape, Tensor) {
        let d = x.shape[x.rank - 1], rows = x.count / d
        var normalized = Tensor(shape: x.shape), scale = Tensor(shape: Array(x.shape.dropLast()))
        let out = Tensor(shape: x.shape) { out in
            Backprop.layerNormForward(x.storage, rows: rows, dim: d, eps: config.layerNormEpsilon, gain: gain.storage,
                                      bias: bias.storage, out: out.baseAddress!, normalized: &normalized.storage,
                                      scale: &scale.storage)
        }
        return (LayerNormTape(normalized: normalized, scale: scale, rms: false), out)
    }

    /// `y = x · W + b` over the last axis (Conv1D layout `[in, out]`; no bias when `bias` is `nil`).
    func tapedLinear(_ x: Tensor, _ weight: Tensor, _ bias: Tensor?) -> Tensor {
        let (k, n) = (weight.shape[0], weight.shape[1])
        var shape = x.shape
        shape[shape.count - 1] = n
        return Tensor(shape: shape) { out in
            guard let bias else {
                return Backprop.linearForward(x.storage, rows: x.count / k, inFeatures: k, weight: weight.storage, bias: nil,
                                              outFeatures: n, out: out.baseAddress!)
            }
            Backprop.linearForward(x.storage, rows: x.count / k, inFeatures: k, weight: weight.storage, bias: bias.storage,
                                   outFeatures: n, out: out.baseAddress!)
        }
    }
}

extension Tensor {
    /// `self += other`, element-wise (same element count).
    mutating func addInPlace(_ other: Tensor) {
        precondition(count == other.count, "adding \(other.shape) to \(shape)")
        Kernels.add(other.storage, into: &storage, count: count)
    }

    /// `out[row, :] = bias + Σ_h self[row, h, :]` for `[batch, pos, head, dModel]`, heads in order
    /// (the model's own summation order for an edited `hook_result`); no bias when `nil`.
    func sumOverHeads(bias: Tensor?) -> Tensor {
        let (b, t, h, d) = (shape[0], shape[1], shape[2], shape[3])
        return Tensor(shape: [b, t, d]) { out in
            storage.withUnsafeBufferPointer { r in
                for row in 0..<(b * t) {
                    let o = out.baseAddress! + row * d
                    if let bias { o.update(from: bias.storage, count: d) } else { o.update(repeating: 0, count: d) }
                    for hi in 0..<h { Kernels.add(r.baseAddress! + (row * h + hi) * d, into: o, count: d) }
                }
            }
        }
    }
}
