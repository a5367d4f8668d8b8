import MechanicTensor
import MechanicTokenizer

extension GPT2Model {
    /// Token plus learned position embeddings: `resid = wte[ids] + wpe[pos]`.
    func embed(_ batch: TokenBatch, hooks: inout HookRunner) throws -> Tensor {
        let (b, t, d) = (batch.batch, batch.positions, config.dModel)
        var tokens = Tensor(shape: [b, t, d]) { out in                       // [batch, pos, dModel]
            weights.tokenEmbedding.storage.withUnsafeBufferPointer { table in
                batch.ids.withUnsafeBufferPointer { ids in
                    Kernels.gather(table: table.baseAddress!, dim: d, ids: ids.baseAddress!, count: b * t, out: out.baseAddress!)
                }
            }
        }
        try hooks.visit(.embed, &tokens)
        var positions = Tensor(shape: [b, t, d]) { out in                    // [batch, pos, dModel]
            weights.positionEmbedding.storage.withUnsafeBufferPointer { table in
                for r in 0..<b {
                    (out.baseAddress! + r * t * d).update(from: table.baseAddress!, count: t * d)
                }
            }
        }
        if hooks.isActive(.posEmbed) { try hooks.visit(.posEmbed, &positions) }
        tokens.add(positions)
        return tokens
    }

    /// The final layer norm and the (tied) unembedding of the selected positions.
    func finalForward(_ residual: Tensor, logits selection: LogitsSelection, vocabulary: [Int]? = nil,
                      hooks: inout HookRunner) throws -> Tensor? {
        let normed = try layerNormForward(residual, gain: weights.finalNormGain, bias: weights.finalNormBias,
                                          scaleHook: .lnFinalScale, normalizedHook: .lnFinalNormalized, hooks: &hooks)
        guard let positions = selection.positionSelection else { return nil }
        let rows = positions == .all
            ? normed
            : try hooks.select(normed, point: .lnFinalNormalized, positions: positions, hook: .lnFinalNormalized)
        return unembed(rows, vocabulary: vocabulary)
    }

    /// `logits[batch, pos, vocab] = x[batch, pos, dModel] · wteᵀ`, or only the `vocabulary` columns
    /// (`[batch, pos, vocabulary.count]`, same products).
    func unembed(_ x: Tensor, vocabulary: [Int]? = nil) -> Tensor {
        let (b, t, d) = (x.shape[0], x.shape[1], config.dModel)
        var table = weights.tokenEmbedding                                   // [vocab, dModel]
        if let vocabulary {
            table = Tensor(shape: [vocabulary.count, d]) { out in          // [selected, dModel]
                weights.tokenEmbedding.storage.withUnsafeBufferPointer { wte in
                    for (i, id) in vocabulary.enumerated() { (out.baseAddress! + i * d).update(from: wte.baseAddress! + id * d, count: d) }
                }
            }
        }
        let v = table.shape[0]
        return Tensor(shape: [b, t, v]) { out in
            x.storage.withUnsafeBufferPointer { xs in
                table.storage.withUnsafeBufferPointer { wte in
                    Kernels.gemm(transB: true, m: b * t, n: v, k: d, a: xs.baseAddress!, lda: d,
                                 b: wte.baseAddress!, ldb: d, c: out.baseAddress!, ldc: v)
                }
            }
        }
    }
}
