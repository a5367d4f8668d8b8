import MechanicTensor

/// The last block at the last real token of each row only, for runs that want last-position logits.
///
/// Why: the last block's output at other positions feeds nothing (no later block reads their keys
/// and values), so only its keys and values are needed at every position; queries, attention, W_O,
/// the MLP and the final norm run on one row per prompt. On GPT-2 small that is about a fifth of
/// the block's work, which adds up in activation patching's hundreds of resumed runs. The
/// arithmetic of each kept row is that of the full block (for prompts up to
/// ``Transformer/attentionTile`` tokens the same kernels, call for call; beyond, the full block tiles
/// its BLAS products differently); `ForwardShortcutTests` compares the two on padded batches,
/// attention-only models and prompts past the tile.
extension Transformer {
    /// Whether block `layer` may run at the last positions only: it is the last block, the run wants
    /// last-position logits, and no hook of the block or of `ln_final` is active (except an edit that
    /// replaces all of `hook_z`, which makes the attention itself unnecessary).
    func lastBlockRunsAtLastPositions(_ layer: Int, logits: LogitsSelection, hooks: HookRunner) -> Bool {
        guard config.hasPlainAttention, logits == .last, layer == config.layers - 1,
              !hooks.isActive(.lnFinalScale), !hooks.isActive(.lnFinalNormalized)
        else { return false }
        let zReplaced = zIsReplaced(layer, hooks: hooks)
        for point in HookPoint.allCases where point.isPerBlock {
            let name = HookName(point, layer: layer)
            if hooks.isActive(name) && !(point == .z && zReplaced) { return false }
        }
        return true
    }

    /// Block `layer` (the last) at each row's last real position, then `ln_final` and the unembedding.
    ///
    /// - Parameter x: `hook_resid_pre` of the block, `[batch, pos, dModel]`.
    /// - Returns: logits `[batch, 1, vocab]` (or `[batch, 1, vocabulary.count]`), as ``LogitsSelection/last`` gives them.
    func lastBlockAtLastPositions(_ layer: Int, _ x: Tensor, vocabulary: [Int]? = nil, hooks: inout HookRunner) throws -> Tensor {
        let (b, t, d) = (x.shape[0], x.shape[1], config.dModel)
        let last = (0..<b).map { hooks.batch.lengths[$0] - 1 }                // [batch]
        let w = weights.blocks[layer]
        var residual = x.rows(at: last)                                      // [batch, dModel]
        let z: Tensor                                                        // [batch, head·dHead] at the last positions
        if zIsReplaced(layer, hooks: hooks) {
            z = try replacedZ(layer, batch: b, positions: t, hooks: &hooks).reshaped([b, t, d]).rows(at: last)
        } else {
            let normed = try normForward(x, gain: w.ln1Gain, bias: w.ln1Bias,
                                         scaleHook: .ln1Scale(layer), normalizedHook: .ln1Normalized(layer), hooks: &hooks)
            z = lastQueryAttention(layer, normed, last: last)
        }
        residual.add(linearForward(z, w.attnOutWeight, w.attnOutBias))       // resid_mid [batch, dModel]
        if let mlp = w.mlp {
            let normed2 = try normForward(residual, gain: mlp.ln2Gain, bias: mlp.ln2Bias,
                                          scaleHook: .ln2Scale(layer), normalizedHook: .ln2Normalized(layer), hooks: &hooks)
            residual.add(try mlpForward(layer, mlp, normed2, hooks: &hooks))  // resid_post [batch, dModel]
        }
        let normed = try normForward(residual, gain: weights.finalNormGain, bias: weights.finalNormBias,
                                     scaleHook: .lnFinalScale, normalizedHook: .lnFinalNormalized, hooks: &hooks)
        return unembed(normed.reshaped([b, 1, d]), vocabulary: vocabulary)
    }

    /// Attention of the query at position `last[row]` of each row over its keys `0...last[row]`.
    ///
    /// - Parameter normed: ln_1 of the residual, `[batch, pos, dModel]`.
    /// - Returns: `z` at those positions, `[batch, head·dHead]`.
    func lastQueryAttention(_ layer: Int, _ normed: Tensor, last: [Int]) -> Tensor {
        let (b, t, d) = (normed.shape[0], normed.shape[1], config.dModel)
        let (h, dh) = (config.heads, config.dHead)
        let w = weights.blocks[layer]
        let scale = config.attentionScale
        let rows = normed.rows(at: last)                                     // [batch, dModel]
        var q = Tensor(shape: [b, d])                                        // [batch, dModel]
        var kv = Tensor(shape: [b, t, 2 * d])                                // [batch, pos, 2·dModel]: keys, then values
        // The shortcut runs only for GPT-2-style attention, which has q/k/v biases.
        let qkvBias = w.qkvBias ?? Tensor(shape: [3 * d])
        w.qkvWeight.storage.withUnsafeBufferPointer { wq in
            qkvBias.storage.withUnsafeBufferPointer { bias in
                q.storage.withUnsafeMutableBufferPointer { qs in
                    rows.storage.withUnsafeBufferPointer { xs in
                        for r in 0..<b { (qs.baseAddress! + r * d).update(from: bias.baseAddress!, count: d) }
                        Kernels.gemm(m: b, n: d, k: d, a: xs.baseAddress!, lda: d, b: wq.baseAddress!, ldb: 3 * d,
                                     beta: 1, c: qs.baseAddress!, ldc: d)
                    }
                }
                kv.storage.withUnsafeMutableBufferPointer { ks in
                    normed.storage.withUnsafeBufferPointer { xs in
                        for r in 0..<(b * t) { (ks.baseAddress! + r * 2 * d).update(from: bias.baseAddress! + d, count: 2 * d) }
                        Kernels.gemm(m: b * t, n: 2 * d, k: d, a: xs.baseAddress!, lda: d, b: wq.baseAddress! + d, ldb: 3 * d,
                                     beta: 1, c: ks.baseAddress!, ldc: 2 * d)
                    }
                }
            }
        }
        return Tensor(shape: [b, d]) { z in
            q.storage.withUnsafeBufferPointer { qs in
                kv.storage.withUnsafeBufferPointer { ks in
                    var scores = [Float](repeating: 0, count: t)              // [keyPos]
                    scores.withUnsafeMutableBufferPointer { s in
                        for m in 0..<(b * h) {
                            let (bi, hi) = m.quotientAndRemainder(dividingBy: h)
                            let keys = last[bi] + 1
                            let qh = qs.baseAddress! + bi * d + hi * dh
                            let kh = ks.baseAddress! + bi * t * 2 * d + hi * dh
                            let zh = z.baseAddress! + bi * d + hi * dh
                            if t <= Transformer.attentionTile {
                                Kernels.smallGemmNT(m: 1, n: keys, k: dh, alpha: scale, a: qh, lda: d, b: kh, ldb: 2 * d,
                                                    c: s.baseAddress!, ldc: t)
                            } else {
                                Kernels.gemm(transB: true, m: 1, n: keys, k: dh, alpha: scale, a: qh, lda: d, b: kh, ldb: 2 * d,
                                             c: s.baseAddress!, ldc: t)
                            }
                            Kernels.causalSoftmax(s.baseAddress!, queries: 1, keys: keys, ld: t, queryOffset: keys - 1)
                            Kernels.smallGemmNN(m: 1, n: dh, k: keys, a: s.baseAddress!, lda: t, b: kh + d, ldb: 2 * d, c: zh, ldc: d)
                        }
                    }
                }
            }
        }
    }
}

extension Tensor {
    /// Row `positions[b]` of each batch row of a `[batch, pos, width]` tensor: `[batch, width]`.
    func rows(at positions: [Int]) -> Tensor {
        let (b, t, width) = (shape[0], shape[1], shape[2])
        precondition(positions.count == b && positions.allSatisfy { $0 >= 0 && $0 < t })
        return Tensor(shape: [b, width]) { out in
            storage.withUnsafeBufferPointer { src in
                for r in 0..<b {
                    (out.baseAddress! + r * width).update(from: src.baseAddress! + (r * t + positions[r]) * width, count: width)
                }
            }
        }
    }
}
