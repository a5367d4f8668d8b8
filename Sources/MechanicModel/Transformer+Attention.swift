import MechanicTensor

extension Transformer {
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
        let normed = try normForward(residual, gain: w.ln1Gain, bias: w.ln1Bias,
                                     scaleHook: .ln1Scale(layer), normalizedHook: .ln1Normalized(layer), hooks: &hooks)
        return try attentionForward(layer, normed, hooks: &hooks)
    }

    /// Whether an intervention overwrites all of this layer's `hook_z` and no hook before it in the
    /// attention (ln_1, q, k, v, scores, pattern) is active.
    func zIsReplaced(_ layer: Int, hooks: HookRunner) -> Bool {
        guard hooks.replacesEntirely(.z(layer)) else { return false }
        return !HookPoint.allCases.contains { point in
            point.isPerBlock && point.order > HookPoint.residPre.order && point.order < HookPoint.z.order
                && hooks.isActive(HookName(point, layer: layer))
        }
    }

    /// `hook_z` of a layer whose z is replaced entirely: zeros through the hook's edits.
    ///
    /// - Returns: `[batch, pos, head, dHead]`.
    func replacedZ(_ layer: Int, batch b: Int, positions t: Int, hooks: inout HookRunner) throws -> Tensor {
        var z = Tensor(shape: [b, t, config.heads, config.dHead])       // [batch, pos, head, dHead]
        try hooks.visit(.z(layer), &z)
        return z
    }

    /// Multi-head self-attention, HF `GPT2Attention` (eager), with TransformerLens hooks: causal,
    /// or bidirectional with right padding masked when the config says so.
    ///
    /// - Parameter x: the layer-normed residual `[batch, pos, dModel]`.
    /// - Returns: `hook_attn_out` before its hook, `[batch, pos, dModel]`.
    func attentionForward(_ layer: Int, _ x: Tensor, hooks: inout HookRunner) throws -> Tensor {
        let z = try attentionZ(layer, x, hooks: &hooks)                     // [batch, pos, head, dHead]
        return try attentionOutput(layer, z, hooks: &hooks)
    }

    /// The attention up to `hook_z`: qkv, scores, pattern, and `z = pattern · v` per head.
    ///
    /// - Parameter x: the normed residual `[batch, pos, dModel]`.
    /// - Returns: `z` after its hook, `[batch, pos, head, dHead]`.
    func attentionZ(_ layer: Int, _ x: Tensor, hooks: inout HookRunner) throws -> Tensor {
        let (b, t) = (x.shape[0], x.shape[1])
        let h = config.heads
        let qkv = try queriesKeysValues(layer, x, hooks: &hooks)            // [batch, pos, 3·head·dHead]
        let window = config.window(layer: layer)
        let softcap = config.attentionSoftcap
        var z: Tensor                                                        // [batch, pos, head, dHead]
        if t > Transformer.attentionTile && config.causal && !hooks.isActive(.attnScores(layer)) && !hooks.isActive(.pattern(layer)) {
            z = streamedAttention(qkv, batch: b, positions: t, heads: h, scale: config.attentionScale, window: window, softcap: softcap)
        } else {
            z = try materialisedAttention(layer, qkv, batch: b, positions: t, heads: h, scale: config.attentionScale,
                                          window: window, softcap: softcap, hooks: &hooks)
        }
        try hooks.visit(.z(layer), &z)
        return z
    }

    /// Queries, keys and values of every query head, through their hooks, QK-norm and the rotary
    /// embedding.
    ///
    /// Grouped keys and values are repeated to one per query head first (TransformerLens's
    /// `ungroup_grouped_query_attention`), so `hook_k`/`hook_v` are `[batch, pos, head, dHead]`
    /// and an edit of one query head's keys reaches that head only.
    ///
    /// - Parameter x: the normed residual `[batch, pos, dModel]`.
    /// - Returns: `[batch, pos, 3·head·dHead]`: all queries, then all keys, then all values.
    func queriesKeysValues(_ layer: Int, _ x: Tensor, hooks: inout HookRunner) throws -> Tensor {
        let h = config.heads
        let w = weights.blocks[layer]
        // [batch, pos, (head + 2·kvHead)·dHead], the checkpoint's fused projection.
        var qkv = linearForward(x, w.qkvWeight, w.qkvBias)
        if config.kvHeads != h { qkv = qkv.ungroupedKeysValues(heads: h, kvHeads: config.kvHeads, dHead: config.dHead) }
        for (part, name) in [(0, HookName.q(layer)), (1, .k(layer)), (2, .v(layer))] where hooks.isActive(name) {
            var split = qkv.headSplit(part: part, heads: h)                 // [batch, pos, head, dHead]
            if try hooks.visit(name, &split) { qkv.headMerge(split, part: part) }
        }
        if config.qkNorm, let qGain = w.qNormGain, let kGain = w.kNormGain {
            for (part, gain, scale, normalized) in [(0, qGain, HookName.qNormScale(layer), HookName.qNormNormalized(layer)),
                                                    (1, kGain, .kNormScale(layer), .kNormNormalized(layer))] {
                let heads = qkv.headSplit(part: part, heads: h)             // [batch, pos, head, dHead]
                qkv.headMerge(try normForward(heads, gain: gain, bias: nil, scaleHook: scale, normalizedHook: normalized,
                                              hooks: &hooks), part: part)
            }
        }
        if let rotary = config.rotary(layer: layer) {
            applyRotary(rotary, to: &qkv)
            for (part, name) in [(0, HookName.rotQ(layer)), (1, .rotK(layer))] where hooks.isActive(name) {
                var split = qkv.headSplit(part: part, heads: h)             // [batch, pos, head, dHead]
                if try hooks.visit(name, &split) { qkv.headMerge(split, part: part) }
            }
        }
        return qkv
    }

    /// Rotates the queries and keys of a fused `[batch, pos, 3·head·dHead]` buffer in place.
    func applyRotary(_ rotary: Rotary, to qkv: inout Tensor) {
        let (b, t, h, dh) = (qkv.shape[0], qkv.shape[1], config.heads, config.dHead)
        let table = rotaryTables[rotary].flatMap { $0.positions >= t ? $0 : nil } ?? RotaryTable(rotary, positions: t)
        let width = 3 * h * dh
        qkv.storage.withUnsafeMutableBufferPointer { buffer in
            table.cos.withUnsafeBufferPointer { cos in
                table.sin.withUnsafeBufferPointer { sin in
                    for part in 0..<2 {
                        Kernels.rotary(buffer.baseAddress! + part * h * dh, batch: b, positions: t, heads: h, dHead: dh,
                                       stride: width, half: rotary.dims / 2, cos: cos.baseAddress!, sin: sin.baseAddress!,
                                       interleaved: rotary.style == .interleaved)
                    }
                }
            }
        }
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
            return linearForward(z.reshaped([b, t, h * dh]), w.attnOutWeight, w.attnOutBias)
        }
        var result = Tensor(shape: [b, t, h, d]) { r in
            z.storage.withUnsafeBufferPointer { z in
                w.attnOutWeight.storage.withUnsafeBufferPointer { wo in
                    for hi in 0..<h {
                        Kernels.gemm(m: b * t, n: d, k: dh, a: z.baseAddress! + hi * dh, lda: h * dh,
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
                    if let bias = w.attnOutBias { o.update(from: bias.storage, count: d) } else { o.update(repeating: 0, count: d) }
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
                               window: Int? = nil, softcap: Float? = nil, hooks: inout HookRunner) throws -> Tensor {
        let dh = config.dHead
        // pattern [batch, head, queryPos, keyPos]: scores, then (in place) their causal softmax.
        let tile = Transformer.attentionTile
        let small = t <= tile
        let causal = config.causal
        // Bidirectional models mask right padding by each row's length instead of the diagonal.
        let lengths = (0..<b).map { causal ? t : hooks.batch.lengths[$0] }   // [batch]
        var pattern = Tensor(shape: [b, h, t, t]) { scores in
            qkv.storage.withUnsafeBufferPointer { qkv in
                if causal {
                    Kernels.causalAttentionScores(qkv: qkv.baseAddress!, batch: b, positions: t, heads: h, dHead: dh, scale: scale,
                                                  scores: scores.baseAddress!, small: small, tile: tile)
                } else {
                    Kernels.bidirectionalAttentionScores(qkv: qkv.baseAddress!, batch: b, positions: t, heads: h, dHead: dh,
                                                         scale: scale, lengths: lengths, scores: scores.baseAddress!)
                }
            }
        }
        if softcap != nil || window != nil {
            pattern.storage.withUnsafeMutableBufferPointer { p in
                for m in 0..<(b * h) {
                    // Bidirectional: every query sees keys 0..<length (queryOffset past the end).
                    Kernels.maskScores(p.baseAddress! + m * t * t, queries: t, keys: causal ? t : lengths[m / h], ld: t,
                                       queryOffset: causal ? 0 : t, window: window, softcap: softcap)
                }
            }
        }
        try hooks.visit(.attnScores(layer), &pattern)
        pattern.storage.withUnsafeMutableBufferPointer { p in
            let base = p.baseAddress!
            Kernels.parallelFor(b * h, minimumChunk: max(1, 4096 / (t * t))) { range in
                for m in range {
                    if causal {
                        Kernels.causalSoftmax(base + m * t * t, queries: t, keys: t, ld: t, window: window)
                    } else {
                        Kernels.keyMaskedSoftmax(base + m * t * t, queries: t, positions: t, length: lengths[m / h])
                    }
                }
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
                                            dHead: dh, z: z.baseAddress!, small: small, tile: tile, causal: causal && !patternEdited)
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
    func streamedAttention(_ qkv: Tensor, batch b: Int, positions t: Int, heads h: Int, scale: Float,
                           window: Int? = nil, softcap: Float? = nil) -> Tensor {
        let dh = config.dHead
        let d = h * dh
        let tile = Transformer.attentionTile
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
                                let first = tileBase + part.lowerBound * t, offset = start + part.lowerBound
                                if softcap != nil || window != nil {
                                    Kernels.maskScores(first, queries: part.count, keys: keys, ld: t, queryOffset: offset,
                                                       window: window, softcap: softcap)
                                }
                                Kernels.causalSoftmax(first, queries: part.count, keys: keys, ld: t, queryOffset: offset, window: window)
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
    func linearForward(_ x: Tensor, _ weight: Tensor, _ bias: Tensor?) -> Tensor {
        let k = weight.shape[0], n = weight.shape[1]
        let rows = x.count / k
        var shape = x.shape
        shape[shape.count - 1] = n
        return Tensor(shape: shape) { out in
            x.storage.withUnsafeBufferPointer { xs in
                weight.storage.withUnsafeBufferPointer { ws in
                    guard let bias else {
                        Kernels.linear(xs.baseAddress!, rows: rows, inFeatures: k, weight: ws.baseAddress!,
                                       bias: nil, outFeatures: n, out: out.baseAddress!)
                        return
                    }
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
    /// A grouped `[batch, pos, (head + 2·kvHead)·dHead]` projection with its keys and values
    /// repeated to one per query head: `[batch, pos, 3·head·dHead]` (query head `i` reads kv head
    /// `i / (head / kvHead)`, as `repeat_interleave` in HF's `repeat_kv`).
    func ungroupedKeysValues(heads h: Int, kvHeads kv: Int, dHead dh: Int) -> Tensor {
        let (b, t) = (shape[0], shape[1])
        return Tensor(shape: [b, t, 3 * h * dh]) { out in
            storage.withUnsafeBufferPointer { src in
                Kernels.ungroupKeysValues(src.baseAddress!, rows: b * t, heads: h, kvHeads: kv, dHead: dh, out: out.baseAddress!)
            }
        }
    }

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
