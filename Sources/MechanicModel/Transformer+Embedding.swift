import MechanicTensor
import MechanicTokenizer

extension Transformer {
    /// The residual stream's start: token embeddings (scaled by √dModel in Gemma), plus learned
    /// position embeddings where the model has them.
    func embed(_ batch: TokenBatch, hooks: inout HookRunner) throws -> Tensor {
        let (b, t, d) = (batch.batch, batch.positions, config.dModel)
        var tokens = Tensor(shape: [b, t, d]) { out in                       // [batch, pos, dModel]
            weights.tokenEmbedding.storage.withUnsafeBufferPointer { table in
                batch.ids.withUnsafeBufferPointer { ids in
                    Kernels.gather(table: table.baseAddress!, dim: d, ids: ids.baseAddress!, count: b * t, out: out.baseAddress!)
                }
            }
        }
        if let scale = config.embeddingScale {
            tokens.storage.withUnsafeMutableBufferPointer { x in Kernels.scale(x.baseAddress!, by: scale, count: x.count) }
        }
        try hooks.visit(.embed, &tokens)
        guard let table = weights.positionEmbedding else { return tokens }
        var positions = Tensor(shape: [b, t, d]) { out in                    // [batch, pos, dModel]
            table.storage.withUnsafeBufferPointer { table in
                for r in 0..<b {
                    (out.baseAddress! + r * t * d).update(from: table.baseAddress!, count: t * d)
                }
            }
        }
        if hooks.isActive(.posEmbed) { try hooks.visit(.posEmbed, &positions) }
        tokens.add(positions)
        return tokens
    }

    /// The final norm and the unembedding of the selected positions.
    func finalForward(_ residual: Tensor, logits selection: LogitsSelection, vocabulary: [Int]? = nil,
                      hooks: inout HookRunner) throws -> Tensor? {
        let normed = try normForward(residual, gain: weights.finalNormGain, bias: weights.finalNormBias,
                                     scaleHook: .lnFinalScale, normalizedHook: .lnFinalNormalized, hooks: &hooks)
        guard let positions = selection.positionSelection else { return nil }
        let rows = positions == .all
            ? normed
            : try hooks.select(normed, point: .lnFinalNormalized, positions: positions, hook: .lnFinalNormalized)
        return unembed(rows, vocabulary: vocabulary)
    }

    /// `logits[batch, pos, vocab] = x[batch, pos, dModel] · W_Uᵀ` (the token embedding when tied),
    /// soft-capped where the model caps them, or only the `vocabulary` columns
    /// (`[batch, pos, vocabulary.count]`, same products).
    func unembed(_ x: Tensor, vocabulary: [Int]? = nil) -> Tensor {
        let (b, t, d) = (x.shape[0], x.shape[1], config.dModel)
        let full = weights.unembeddingMatrix                                 // [vocab, dModel]
        var table = full
        if let vocabulary {
            table = Tensor(shape: [vocabulary.count, d]) { out in          // [selected, dModel]
                full.storage.withUnsafeBufferPointer { wte in
                    for (i, id) in vocabulary.enumerated() { (out.baseAddress! + i * d).update(from: wte.baseAddress! + id * d, count: d) }
                }
            }
        }
        let v = table.shape[0]
        var logits = Tensor(shape: [b, t, v]) { out in
            x.storage.withUnsafeBufferPointer { xs in
                table.storage.withUnsafeBufferPointer { wte in
                    Kernels.gemm(transB: true, m: b * t, n: v, k: d, a: xs.baseAddress!, lda: d,
                                 b: wte.baseAddress!, ldb: d, c: out.baseAddress!, ldc: v)
                }
            }
        }
        if let cap = config.finalSoftcap {
            logits.storage.withUnsafeMutableBufferPointer { l in Kernels.softcap(l.baseAddress!, count: l.count, cap: cap) }
        }
        return logits
    }
}
