import MechanicTensor

extension Backprop {
    /// Bidirectional multi-head self-attention from a fused `qkv` buffer, keeping the pattern for
    /// the backward pass: the model's bidirectional arithmetic call for call (every query sees the
    /// keys before its row's length), so `z` is bit-identical to `Transformer.run`'s.
    ///
    /// - Parameters:
    ///   - qkv: `[batch, pos, 3·dModel]`; pattern: `[batch, head, queryPos, keyPos]`, written
    ///     (padded keys 0); z: `[batch, pos, head·dHead]`, written.
    ///   - lengths: `[batch]`, each row's real length.
    ///   - softcap, capped: as in ``attentionForward(qkv:batch:positions:heads:dHead:scale:pattern:z:smallLimit:window:softcap:capped:)``.
    public static func bidirectionalAttentionForward(
        qkv: UnsafePointer<Float>, batch b: Int, positions t: Int, heads h: Int, dHead dh: Int, scale: Float,
        lengths: [Int], pattern: UnsafeMutablePointer<Float>, z: UnsafeMutablePointer<Float>,
        softcap: Float? = nil, capped: UnsafeMutablePointer<Float>? = nil
    ) {
        Kernels.bidirectionalAttentionScores(qkv: qkv, batch: b, positions: t, heads: h, dHead: dh, scale: scale,
                                             lengths: lengths, scores: pattern)
        if softcap != nil {
            for m in 0..<(b * h) {
                Kernels.maskScores(pattern + m * t * t, queries: t, keys: lengths[m / h], ld: t, queryOffset: t,
                                   window: nil, softcap: softcap)
            }
            if let capped { capped.update(from: pattern, count: b * h * t * t) }
        }
        Kernels.parallelFor(b * h, minimumChunk: max(1, 4096 / (t * t))) { range in
            for m in range { Kernels.keyMaskedSoftmax(pattern + m * t * t, queries: t, positions: t, length: lengths[m / h]) }
        }
        Kernels.attentionValues(qkv: qkv, pattern: pattern, batch: b, positions: t, heads: h, dHead: dh, z: z,
                                small: t <= attentionTile, tile: attentionTile, causal: false)
    }

    /// Backward of ``bidirectionalAttentionForward(qkv:batch:positions:heads:dHead:scale:lengths:pattern:z:softcap:capped:)``,
    /// per batch row and head over every key: `dP = dz · vᵀ`, `dv += Pᵀ · dz`,
    /// `dS = P ∘ (dP − rowsum(P ∘ dP))` (zero at padded keys, whose weight is zero), through the
    /// soft-cap if any, then `dq += scale · dS · k`, `dk += scale · dSᵀ · q`.
    ///
    /// Heads run one after another through BLAS: bidirectional models here are compiled programs
    /// and small encoders, not the long-context hot path.
    ///
    /// - Parameters: as ``attentionBackward(dz:qkv:pattern:batch:positions:heads:dHead:scale:dqkv:dPattern:dScores:smallLimit:inlineLimit:capped:softcap:)``.
    public static func bidirectionalAttentionBackward(
        dz: UnsafePointer<Float>, qkv: UnsafePointer<Float>, pattern: UnsafePointer<Float>,
        batch b: Int, positions t: Int, heads h: Int, dHead dh: Int, scale: Float,
        dqkv: UnsafeMutablePointer<Float>,
        dPattern: UnsafeMutablePointer<Float>? = nil, dScores: UnsafeMutablePointer<Float>? = nil,
        capped: UnsafePointer<Float>? = nil, softcap: Float? = nil
    ) {
        let d = h * dh, ld = 3 * d
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 3 * t * t)     // dP, dS, dS through the cap
        defer { scratch.deallocate() }
        for m in 0..<(b * h) {
            let (bi, hi) = m.quotientAndRemainder(dividingBy: h)
            let offset = bi * t * ld + hi * dh
            let (q, k, v) = (qkv + offset, qkv + offset + d, qkv + offset + 2 * d)
            let (dq, dk, dv) = (dqkv + offset, dqkv + offset + d, dqkv + offset + 2 * d)
            let p = pattern + m * t * t, dzh = dz + bi * t * d + hi * dh
            let dP = dPattern.map { $0 + m * t * t } ?? scratch
            let dS = dScores.map { $0 + m * t * t } ?? scratch + t * t
            // dP[t, t] = dz · vᵀ;  dv += Pᵀ · dz.
            Kernels.gemm(transB: true, m: t, n: t, k: dh, a: dzh, lda: d, b: v, ldb: ld, c: dP, ldc: t)
            Kernels.gemm(transA: true, m: t, n: dh, k: t, a: p, lda: t, b: dzh, ldb: d, beta: 1, c: dv, ldc: ld)
            // Softmax backward over every key (queryOffset past the end: all keys visible).
            causalSoftmaxBackward(dProbabilities: dP, probabilities: p, queries: t, keys: t, ld: t, queryOffset: t, dScores: dS)
            var g = UnsafePointer(dS)
            if let capped, let softcap {
                let through = scratch + 2 * t * t, inverse = 1 / softcap
                for i in 0..<(t * t) {
                    let y = capped[m * t * t + i], u = y * inverse
                    through[i] = y.isFinite ? dS[i] * (1 - u * u) : 0
                }
                g = UnsafePointer(through)
            }
            // dq += scale · dS · k;  dk += scale · dSᵀ · q.
            Kernels.gemm(m: t, n: dh, k: t, alpha: scale, a: g, lda: t, b: k, ldb: ld, beta: 1, c: dq, ldc: ld)
            Kernels.gemm(transA: true, m: t, n: dh, k: t, alpha: scale, a: g, lda: t, b: q, ldb: ld, beta: 1, c: dk, ldc: ld)
        }
    }
}
