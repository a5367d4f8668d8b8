import MechanicModel
import MechanicTensor
import MechanicTokenizer

extension TransformerConfig {
    /// The first feature of this architecture the backward pass cannot differentiate, `nil` for
    /// GPT-2-architecture models (LayerNorm, learned positions, multi-head attention with biases,
    /// a tanh-GELU MLP, sequential blocks, tied unembedding).
    public var featureWithoutBackward: String? {
        if norm != .layerNorm { return "RMS norm" }
        if !hasLearnedPositions { return "rotary embeddings" }
        if kvHeads != heads { return "grouped-query attention" }
        if qkNorm { return "QK-norm" }
        if slidingWindow != nil { return "sliding-window attention" }
        if attentionSoftcap != nil || finalSoftcap != nil { return "soft-capping" }
        if !qkvBias || !attentionOutBias || (!attentionOnly && !mlpBias) { return "bias-free projections" }
        if !attentionOnly && (gatedMLP || activation != .geluTanh) { return "the \(gatedMLP ? "gated " : "")\(activation.rawValue) MLP" }
        if parallelBlocks { return "parallel attention and MLP" }
        if postNorms { return "post-norms" }
        if embeddingScale != nil { return "embedding scaling" }
        if !tiedEmbeddings { return "an untied unembedding" }
        if dAttention != dModel { return "heads · dHead ≠ dModel" }
        return nil
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
        let (lnFinal, lnFinalOut) = tapedLayerNorm(residual, gain: weights.finalNormGain, bias: weights.finalNormBias!)
        let logits = Tensor(shape: [b, t, v]) { out in                       // [batch, pos, vocab]
            Backprop.unembedForward(lnFinalOut.storage, rows: b * t, dim: d, table: weights.tokenEmbedding.storage,
                                    vocab: v, logits: out.baseAddress!)
        }
        let tape = ForwardTape(batch: batch, blocks: blocks, lnFinal: lnFinal, lnFinalOut: lnFinalOut)
        return (tape, logits)
    }

    /// Rejects prompts that do not fit the context or use ids outside the vocabulary (as `run` does).
    func checkBatch(_ batch: TokenBatch) throws {
        for r in 0..<batch.batch {
            if batch.lengths[r] > config.contextLength {
                throw ModelError.promptTooLong(row: r, length: batch.lengths[r], contextLength: config.contextLength)
            }
            for p in 0..<batch.positions {
                let id = Int(batch.ids[r * batch.positions + p])
                if id < 0 || id >= config.vocabSize {
                    throw ModelError.tokenOutOfRange(row: r, position: p, id: id, vocabSize: config.vocabSize)
                }
            }
        }
    }

    /// `resid_pre(0) = hook_embed + hook_pos_embed`; one fused kernel unless either hook is edited.
    func tapedEmbedding(_ batch: TokenBatch, hooks: GradientHooks) -> Tensor {
        let (b, t, d) = (batch.batch, batch.positions, config.dModel)
        guard hooks.isEdited(.embed) || hooks.isEdited(.posEmbed) else {
            return Tensor(shape: [b, t, d]) { out in
                Backprop.embeddingForward(ids: batch.ids, batch: b, positions: t, dim: d,
                                          tokenTable: weights.tokenEmbedding.storage,
                                          positionTable: weights.positionEmbedding!.storage, out: out.baseAddress!)
            }
        }
        var tokens = Tensor(shape: [b, t, d]) { out in                       // [batch, pos, dModel]
            Kernels.gather(table: weights.tokenEmbedding.storage, dim: d, ids: batch.ids, count: b * t, out: out.baseAddress!)
        }
        hooks.apply(.embed, to: &tokens)
        var positions = Tensor(shape: [b, t, d]) { out in                    // [batch, pos, dModel]
            for r in 0..<b { (out.baseAddress! + r * t * d).update(from: weights.positionEmbedding!.storage, count: t * d) }
        }
        hooks.apply(.posEmbed, to: &positions)
        tokens.addInPlace(positions)
        return tokens
    }

    /// One block, updating the residual stream in place and returning what its backward pass needs.
    func tapedBlock(_ layer: Int, _ residual: inout Tensor, hooks: GradientHooks) -> ForwardTape.Block {
        let (b, t, d) = (residual.shape[0], residual.shape[1], config.dModel)
        let (h, dh) = (config.heads, config.dHead)
        let w = weights.blocks[layer]
        hooks.apply(.residPre(layer), to: &residual)
        let (ln1, ln1Out) = tapedLayerNorm(residual, gain: w.ln1Gain, bias: w.ln1Bias!)

        var qkv = tapedLinear(ln1Out, w.qkvWeight, w.qkvBias!)               // [batch, pos, 3·dModel]
        for (part, name) in [(0, HookName.q(layer)), (1, .k(layer)), (2, .v(layer))] where hooks.isEdited(name) {
            var split = qkv.headSplit(part: part, heads: h)                         // [batch, pos, head, dHead]
            hooks.apply(name, to: &split)
            qkv.headMerge(split, part: part)
        }
        let scale = config.attentionScale
        var pattern = Tensor(shape: [b, h, t, t])                            // [batch, head, queryPos, keyPos]
        var z = Tensor(shape: [b, t, h, dh]) { z in                          // [batch, pos, head, dHead]
            Backprop.attentionForward(qkv: qkv.storage, batch: b, positions: t, heads: h, dHead: dh, scale: scale,
                                      pattern: &pattern.storage, z: z.baseAddress!)
        }
        hooks.apply(.z(layer), to: &z)

        var attnOut: Tensor                                                  // [batch, pos, dModel]
        if hooks.isEdited(.result(layer)) {
            var result = Tensor(shape: [b, t, h, d]) { out in               // [batch, pos, head, dModel]
                Backprop.headResultsForward(z: z.storage, weight: w.attnOutWeight.storage, rows: b * t, heads: h,
                                            dHead: dh, dModel: d, result: out.baseAddress!)
            }
            hooks.apply(.result(layer), to: &result)
            attnOut = result.sumOverHeads(bias: w.attnOutBias!)
        } else {
            attnOut = tapedLinear(z.reshaped([b, t, d]), w.attnOutWeight, w.attnOutBias!)
        }
        hooks.apply(.attnOut(layer), to: &attnOut)
        residual.addInPlace(attnOut)
        let block = ForwardTape.Block(ln1: ln1, ln1Out: ln1Out, qkv: qkv, pattern: pattern, z: z, mlp: nil)
        guard let mlp = w.mlp else {
            hooks.apply(.residPost(layer), to: &residual)
            return block
        }

        hooks.apply(.residMid(layer), to: &residual)
        let (ln2, ln2Out) = tapedLayerNorm(residual, gain: mlp.ln2Gain, bias: mlp.ln2Bias!)
        var pre = tapedLinear(ln2Out, mlp.inWeight, mlp.inBias!)              // [batch, pos, dMLP]
        hooks.apply(.mlpPre(layer), to: &pre)
        var post = Tensor(shape: pre.shape) { out in                         // [batch, pos, dMLP]
            Backprop.geluForward(pre.storage, out: out.baseAddress!, count: pre.count)
        }
        hooks.apply(.mlpPost(layer), to: &post)
        var mlpOut = tapedLinear(post, mlp.outWeight, mlp.outBias!)           // [batch, pos, dModel]
        hooks.apply(.mlpOut(layer), to: &mlpOut)
        residual.addInPlace(mlpOut)
        hooks.apply(.residPost(layer), to: &residual)
        var taped = block
        taped.mlp = ForwardTape.MLP(ln2: ln2, ln2Out: ln2Out, pre: pre, post: post)
        return taped
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
        return (LayerNormTape(normalized: normalized, scale: scale), out)
    }

    /// `y = x · W + b` over the last axis (Conv1D layout `[in, out]`).
    func tapedLinear(_ x: Tensor, _ weight: Tensor, _ bias: Tensor) -> Tensor {
        let (k, n) = (weight.shape[0], weight.shape[1])
        var shape = x.shape
        shape[shape.count - 1] = n
        return Tensor(shape: shape) { out in
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
    /// (the model's own summation order for an edited `hook_result`).
    func sumOverHeads(bias: Tensor) -> Tensor {
        let (b, t, h, d) = (shape[0], shape[1], shape[2], shape[3])
        return Tensor(shape: [b, t, d]) { out in
            storage.withUnsafeBufferPointer { r in
                for row in 0..<(b * t) {
                    let o = out.baseAddress! + row * d
                    o.update(from: bias.storage, count: d)
                    for hi in 0..<h { Kernels.add(r.baseAddress! + (row * h + hi) * d, into: o, count: d) }
                }
            }
        }
    }
}
