import MechanicTensor

extension GPT2Model {
    /// Query rows per tile of the causal attention products: a tile needs only the keys up to its
    /// last query, which skips most of the masked half of `QKᵀ` and `PV` on long prompts.
    static let attentionTile = 64

    /// `ln_1` and the attention of a block, from `hook_resid_pre` to `hook_attn_out` before its hook.
    ///
    /// When an intervention overwrites all of `hook_z` and nothing before it in the attention is
    /// hooked, ln_1, qkv and the pattern are dead work: only W_O runs (activation patching replaces
    /// `hook_z` this way).
    func attentionSublayer(_ layer: Int, _ residual: Tensor, hooks: inout HookRunner) throws -> Tensor {
        if zIsReplaced(layer, hooks: hooks) {
            let z = try replacedZ(layer, batch: residual.shape[0], positions: residual.shape[1], hooks: &hooks)
            return try attentionOutput(layer, z, hooks: &hooks)
        }
        let w = weights.blocks[layer]
        let normed = try layerNormForward(residual, gain: w.ln1Gain, bias: w.ln1Bias,
                                          scaleHook: .ln1Scale(layer), normalizedHook: .ln1Normalized(layer), hooks: &hooks)
        return try attentionForward(layer, normed, hooks: &hooks)
    }

    /// Whether an intervention overwrites all of this layer's `hook_z` and no hook before it in the
    /// attention (ln_1, q, k, v, scores, pattern) is active.
    func zIsReplaced(_ layer: Int, hooks: HookRunner) -> Bool {
        guard hooks.replacesEntirely(.z(layer)) else { return false }
        let before: [HookName] = [.ln1Scale(layer), .ln1Normalized(layer), .q(layer), .k(layer), .v(layer),
                                  .attnScores(layer), .pattern(layer)]
        return !before.contains { hooks.isActive($0) }
    }

    /// `hook_z` of a layer whose z is replaced entirely: zeros through the hook's edits.
    ///
    /// - Returns: `[batch, pos, head, dHead]`.
    func replacedZ(_ layer: Int, batch b: Int, positions t: Int, hooks: inout HookRunner) throws -> Tensor {
        var z = Tensor(shape: [b, t, config.heads, config.dHead])
        try hooks.visit(.z(layer), &z)
        return z
    }

    /// Causal multi-head self-attention, HF `GPT2Attention` (eager), with TransformerLens hooks.
    ///
    /// - Parameter x: the layer-normed residual `[batch, pos, dModel]`.
    /// - Returns: `hook_attn_out` before its hook, `[batch, pos, dModel]`.
    func attentionForward(_ layer: Int, _ x: Tensor, hooks: inout HookRunner) throws -> Tensor {
        let z = try attentionZ(layer, x, hooks: &hooks)                     // [batch, pos, head, dHead]
        return try attentionOutput(layer, z, hooks: &hooks)
    }

    /// The attention up to `hook_z`: qkv, scores, pattern, and `z = pattern · v` per head.
    ///
    /// - Parameter x: the layer-normed residual `[batch, pos, dModel]`.
    /// - Returns: `z` after its hook, `[batch, pos, head, dHead]`.
    func attentionZ(_ layer: Int, _ x: Tensor, hooks: inout HookRunner) throws -> Tensor {
        let (b, t) = (x.shape[0], x.shape[1])
        let (h, dh) = (config.heads, config.dHead)
        let w = weights.blocks[layer]

        // qkv [batch, pos, 3·dModel]: queries, keys and values side by side (HF's fused c_attn).
        var qkv = linearForward(x, w.qkvWeight, w.qkvBias)
        for (part, name) in [(0, HookName.q(layer)), (1, .k(layer)), (2, .v(layer))] where hooks.isActive(name) {
            var split = qkv.headSplit(part: part, heads: h)                 // [batch, pos, head, dHead]
            if try hooks.visit(name, &split) { qkv.headMerge(split, part: part) }
        }

        let scale: Float = config.scaleAttentionWeights ? 1 / Float(dh).squareRoot() : 1
        var z: Tensor                                                        // [batch, pos, head, dHead]
        if t > GPT2Model.attentionTile && !hooks.isActive(.attnScores(layer)) && !hooks.isActive(.pattern(layer)) {
            z = streamedAttention(qkv, batch: b, positions: t, heads: h, scale: scale)
        } else {
            z = try materialisedAttention(layer, qkv, batch: b, positions: t, heads: h, scale: scale, hooks: &hooks)
        }
        try hooks.visit(.z(layer), &z)
        return z
    }

    /// The output projection W_O of `z` `[batch, pos, head, dHead]`, through `hook_result` when it is active.
    ///
    /// - Returns: `hook_attn_out` before its hook, `[batch, pos, dModel]`.
    func attentionOutput(_ layer: Int, _ z: Tensor, hooks: inout HookRunner) throws -> Tensor {
        let (b, t, d) = (z.shape[0], z.shape[1], config.dModel)
        let (h, dh) = (config.heads, config.dHead)
        let w = weights.blocks[layer]
        // Per-head results [batch, pos, head, dModel] only when asked for.
        guard hooks.isActive(.result(layer)) else {
            return linearForward(z.reshaped([b, t, d]), w.attnOutWeight, w.attnOutBias)
        }
        var result = Tensor(shape: [b, t, h, d]) { r in
            z.storage.withUnsafeBufferPointer { z in
                w.attnOutWeight.storage.withUnsafeBufferPointer { wo in
                    for hi in 0..<h {
                        Kernels.gemm(m: b * t, n: d, k: dh, a: z.baseAddress! + hi * dh, lda: d,
                                     b: wo.baseAddress! + hi * dh * d, ldb: d, c: r.baseAddress! + hi * d, ldc: h * d)
                    }
                }
            }
        }
        try hooks.visit(.result(layer), &result)
        return Tensor(shape: [b, t, d]) { out in
            result.storage.withUnsafeBufferPointer { r in
                for row in 0..<(b * t) {
                    let o = out.baseAddress! + row * d
                    o.update(from: w.attnOutBias.storage, count: d)
                    for hi in 0..<h { Kernels.add(r.baseAddress! + (row * h + hi) * d, into: o, count: d) }
                }
            }
        }
    }

    /// Attention with the full `[batch, head, queryPos, keyPos]` scores and pattern in memory,
    /// for short prompts and whenever `hook_attn_scores` or `hook_pattern` is captured or edited.
    ///
    /// - Returns: `z` `[batch, pos, head, dHead]`, before its hook.
    func materialisedAttention(_ layer: Int, _ qkv: Tensor, batch b: Int, positions t: Int, heads h: Int, scale: Float,
                               hooks: inout HookRunner) throws -> Tensor {
        let dh = config.dHead
        // pattern [batch, head, queryPos, keyPos]: scores, then (in place) their causal softmax.
        let tile = GPT2Model.attentionTile
        let small = t <= tile
        var pattern = Tensor(shape: [b, h, t, t]) { scores in
            qkv.storage.withUnsafeBufferPointer { qkv in
                Kernels.causalAttentionScores(qkv: qkv.baseAddress!, batch: b, positions: t, heads: h, dHead: dh, scale: scale,
                                              scores: scores.baseAddress!, small: small, tile: tile)
            }
        }
        try hooks.visit(.attnScores(layer), &pattern)
        pattern.storage.withUnsafeMutableBufferPointer { p in
            let base = p.baseAddress!
            Kernels.parallelFor(b * h, minimumChunk: max(1, 4096 / (t * t))) { range in
                for m in range { Kernels.causalSoftmax(base + m * t * t, queries: t, keys: t, ld: t) }
            }
        }
        try hooks.visit(.pattern(layer), &pattern)
        let patternEdited = hooks.isEdited(.pattern(layer)) || hooks.isEdited(.attnScores(layer))

        // z [batch, pos, head, dHead] = pattern · v, per head.
        return Tensor(shape: [b, t, h, dh]) { z in
            qkv.storage.withUnsafeBufferPointer { qkv in
                pattern.storage.withUnsafeBufferPointer { p in
                    // An edited pattern may put weight on later keys: then use them all.
                    Kernels.attentionValues(qkv: qkv.baseAddress!, pattern: p.baseAddress!, batch: b, positions: t, heads: h,
                                            dHead: dh, z: z.baseAddress!, small: small, tile: tile, causal: !patternEdited)
                }
            }
        }
    }

    /// Attention on long prompts without materialising the pattern: per head, tiles of query rows
    /// go through `QKᵀ`, softmax and `PV` in a small scratch buffer that stays in cache.
    ///
    /// Used when no hook needs the scores or the pattern; the arithmetic is the same as
    /// ``materialisedAttention(_:_:batch:positions:heads:scale:hooks:)``'s tiled path, call for call.
    ///
    /// - Returns: `z` `[batch, pos, head, dHead]`.
    func streamedAttention(_ qkv: Tensor, batch b: Int, positions t: Int, heads h: Int, scale: Float) -> Tensor {
        let (d, dh) = (config.dModel, config.dHead)
        let tile = GPT2Model.attentionTile
        var scratch = [Float](repeating: 0, count: tile * t)                // [tileRows, keyPos]
        return Tensor(shape: [b, t, h, dh]) { z in
            qkv.storage.withUnsafeBufferPointer { qkv in
                scratch.withUnsafeMutableBufferPointer { s in
                    for m in 0..<(b * h) {
                        let (bi, hi) = m.quotientAndRemainder(dividingBy: h)
                        let q = qkv.baseAddress! + bi * t * 3 * d + hi * dh
                        let zh = z.baseAddress! + bi * t * d + hi * dh
                        for start in stride(from: 0, to: t, by: tile) {
                            let rows = min(tile, t - start), keys = start + rows
                            Kernels.gemm(transB: true, m: rows, n: keys, k: dh, alpha: scale,
                                         a: q + start * 3 * d, lda: 3 * d, b: q + d, ldb: 3 * d,
                                         c: s.baseAddress!, ldc: t)
                            let tileBase = s.baseAddress!
                            Kernels.parallelFor(rows, minimumChunk: 16) { part in
                                Kernels.causalSoftmax(tileBase + part.lowerBound * t, queries: part.count, keys: keys, ld: t,
                                                      queryOffset: start + part.lowerBound)
                            }
                            Kernels.gemm(m: rows, n: dh, k: keys, a: s.baseAddress!, lda: t,
                                         b: q + 2 * d, ldb: 3 * d, c: zh + start * d, ldc: d)
                        }
                    }
                }
            }
        }
    }

    /// `y = x · W + b` over the last axis, for Conv1D-layout weights `[in, out]`.
    func linearForward(_ x: Tensor, _ weight: Tensor, _ bias: Tensor) -> Tensor {
        let k = weight.shape[0], n = weight.shape[1]
        let rows = x.count / k
        var shape = x.shape
        shape[shape.count - 1] = n
        return Tensor(shape: shape) { out in
            x.storage.withUnsafeBufferPointer { xs in
                weight.storage.withUnsafeBufferPointer { ws in
                    bias.storage.withUnsafeBufferPointer { bs in
                        Kernels.linear(xs.baseAddress!, rows: rows, inFeatures: k, weight: ws.baseAddress!,
                                       bias: bs.baseAddress!, outFeatures: n, out: out.baseAddress!)
                    }
                }
            }
        }
    }
}

extension Tensor {
    /// One of the three parts of a fused `qkv` buffer `[batch, pos, 3·dModel]`, as `[batch, pos, head, dHead]`.
    public func headSplit(part: Int, heads: Int) -> Tensor {
        let (b, t, d) = (shape[0], shape[1], shape[2] / 3)
        return Tensor(shape: [b, t, heads, d / heads]) { out in
            storage.withUnsafeBufferPointer { src in
                for row in 0..<(b * t) {
                    (out.baseAddress! + row * d).update(from: src.baseAddress! + row * 3 * d + part * d, count: d)
                }
            }
        }
    }

    /// Writes `[batch, pos, head, dHead]` back into part `part` of a fused `qkv` buffer.
    public mutating func headMerge(_ split: Tensor, part: Int) {
        let (b, t, d) = (shape[0], shape[1], shape[2] / 3)
        storage.withUnsafeMutableBufferPointer { dst in
            split.storage.withUnsafeBufferPointer { src in
                for row in 0..<(b * t) {
                    (dst.baseAddress! + row * 3 * d + part * d).update(from: src.baseAddress! + row * d, count: d)
                }
            }
        }
    }
}
