import MechanicTensor

extension Backprop {
    /// Prompts up to this many tokens run attention through inline SIMD products with heads spread
    /// over the cores; longer ones through BLAS on 64-row query tiles that stop at the diagonal.
    /// The same split, and the same tile, as the model's forward pass.
    public static let attentionTile = 64

    /// Causal multi-head self-attention from a fused `qkv` buffer, keeping the pattern for the backward pass.
    ///
    /// `pattern = causalSoftmax(scale · q·kᵀ)` and `z = pattern · v`, per batch row and head, with
    /// the arithmetic of the model's materialised attention call for call, so `z` is bit-identical
    /// to ``Transformer/run(_:logits:capture:interventions:)``.
    ///
    /// - Parameters:
    ///   - qkv: `[batch, pos, 3·dModel]`: queries, keys and values side by side, heads inside each.
    ///   - scale: `1/√dHead` (or 1 when the config turns scaling off).
    ///   - pattern: `[batch, head, queryPos, keyPos]` (TransformerLens `hook_pattern`); masked keys are 0.
    ///   - z: `[batch, pos, head·dHead]` (TransformerLens `hook_z`).
    ///   - smallLimit: longest prompt for the inline path (tests force both paths).
    public static func attentionForward(
        qkv: UnsafePointer<Float>, batch b: Int, positions t: Int, heads h: Int, dHead dh: Int, scale: Float,
        pattern: UnsafeMutablePointer<Float>, z: UnsafeMutablePointer<Float>, smallLimit: Int = attentionTile
    ) {
        let small = t <= smallLimit
        Kernels.causalAttentionScores(qkv: qkv, batch: b, positions: t, heads: h, dHead: dh, scale: scale,
                                      scores: pattern, small: small, tile: attentionTile)
        Kernels.parallelFor(b * h, minimumChunk: max(1, 4096 / (t * t))) { range in
            for m in range { Kernels.causalSoftmax(pattern + m * t * t, queries: t, keys: t, ld: t) }
        }
        Kernels.attentionValues(qkv: qkv, pattern: pattern, batch: b, positions: t, heads: h, dHead: dh, z: z,
                                small: small, tile: attentionTile)
    }

    /// Backward of ``attentionForward(qkv:batch:positions:heads:dHead:scale:pattern:z:smallLimit:)``.
    ///
    /// Per batch row and head, with `P` the pattern:
    /// `dP = dz · vᵀ`, `dv += Pᵀ · dz`, `dS = causalSoftmaxBackward(dP, P)`,
    /// `dq += scale · dS · k`, `dk += scale · dSᵀ · q`. Only the causal half of `dP` is needed;
    /// the full matrix is computed when `dPattern` is asked for, since the pattern's gradient at
    /// a masked key (`dz_q · v_k`) is not zero even though the pattern there is.
    ///
    /// - Parameters:
    ///   - dz: `[batch, pos, head·dHead]`.
    ///   - qkv: `[batch, pos, 3·dModel]`; pattern: `[batch, head, queryPos, keyPos]`: saved by the forward pass.
    ///   - dqkv: `[batch, pos, 3·dModel]`, accumulated.
    ///   - dPattern: `[batch, head, queryPos, keyPos]`, written (every key); `nil` to skip.
    ///   - dScores: `[batch, head, queryPos, keyPos]`, written (masked keys 0); `nil` to skip.
    ///   - smallLimit: prompts up to this length spread heads over the cores (each head's products
    ///     single-threaded), longer ones run heads in turn with multi-threaded BLAS on query tiles.
    ///   - inlineLimit: prompts up to this length use inline SIMD products instead of BLAS calls,
    ///     whose setup costs more than such tiny products. Tests force each path with the limits.
    public static func attentionBackward(
        dz: UnsafePointer<Float>, qkv: UnsafePointer<Float>, pattern: UnsafePointer<Float>,
        batch b: Int, positions t: Int, heads h: Int, dHead dh: Int, scale: Float,
        dqkv: UnsafeMutablePointer<Float>,
        dPattern: UnsafeMutablePointer<Float>? = nil, dScores: UnsafeMutablePointer<Float>? = nil,
        smallLimit: Int = attentionTile, inlineLimit: Int = 24
    ) {
        let d = h * dh
        func buffers(_ m: Int) -> AttentionHeadBuffers {
            let (bi, hi) = m.quotientAndRemainder(dividingBy: h)
            let offset = bi * t * 3 * d + hi * dh
            return AttentionHeadBuffers(
                q: qkv + offset, k: qkv + offset + d, v: qkv + offset + 2 * d,
                dq: dqkv + offset, dk: dqkv + offset + d, dv: dqkv + offset + 2 * d,
                pattern: pattern + m * t * t, dz: dz + bi * t * d + hi * dh)
        }
        // OpenBLAS runs products of at most 4·65536 multiply-adds on the calling thread, so
        // workers can call it side by side; larger heads go one at a time below.
        if t <= smallLimit && (t <= inlineLimit || t * t * dh <= 262_144) {
            // Heads spread over the cores; each writes its own columns of dqkv.
            Kernels.parallelFor(b * h) { range in
                // Scratch per worker, not per head: dP and dS [queryPos, keyPos].
                let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 2 * t * t)
                defer { scratch.deallocate() }
                for m in range {
                    let dP = dPattern.map { $0 + m * t * t } ?? scratch
                    if t <= inlineLimit {
                        smallHeadBackward(buffers(m), positions: t, dHead: dh, dModel: d, scale: scale, dP: dP,
                                          fullDP: dPattern != nil, dS: dScores.map { $0 + m * t * t }, dSRow: scratch + t * t)
                    } else {
                        tiledHeadBackward(buffers(m), positions: t, dHead: dh, dModel: d, scale: scale, dP: dP,
                                          fullDP: dPattern != nil, dS: dScores.map { $0 + m * t * t } ?? scratch + t * t,
                                          rowsInParallel: false)
                    }
                }
            }
            return
        }
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 2 * t * t)
        defer { scratch.deallocate() }
        for m in 0..<(b * h) {
            tiledHeadBackward(buffers(m), positions: t, dHead: dh, dModel: d, scale: scale,
                              dP: dPattern.map { $0 + m * t * t } ?? scratch, fullDP: dPattern != nil,
                              dS: dScores.map { $0 + m * t * t } ?? scratch + t * t, rowsInParallel: true)
        }
    }

    /// Backward of a causal softmax, row by row: `dS[q, k] = P[q, k] · (dP[q, k] − Σ_j P[q, j] · dP[q, j])`
    /// over the visible keys `k ≤ q + queryOffset`; the masked keys of `dS` are set to 0.
    ///
    /// - Parameters:
    ///   - dProbabilities: `[queries, keys]`, row stride `ld` (only visible keys are read).
    ///   - probabilities: `[queries, keys]`, row stride `ld`: the forward output.
    ///   - dScores: `[queries, keys]`, row stride `ld`, written.
    public static func causalSoftmaxBackward(
        dProbabilities: UnsafePointer<Float>, probabilities: UnsafePointer<Float>, queries: Int, keys: Int, ld: Int,
        queryOffset: Int = 0, dScores: UnsafeMutablePointer<Float>
    ) {
        for q in 0..<queries {
            let p = probabilities + q * ld, dp = dProbabilities + q * ld, ds = dScores + q * ld
            let visible = min(keys, q + queryOffset + 1)
            let s = Kernels.dot(p, dp, count: visible)
            for j in 0..<visible { ds[j] = p[j] * (dp[j] - s) }
            if visible < keys { (ds + visible).update(repeating: 0, count: keys - visible) }
        }
    }
}

/// One head's slices of the attention buffers (row strides: `3·dModel` for q/k/v, `dModel` for `dz`).
struct AttentionHeadBuffers {
    let q, k, v: UnsafePointer<Float>
    let dq, dk, dv: UnsafeMutablePointer<Float>
    /// `[queryPos, keyPos]`.
    let pattern: UnsafePointer<Float>
    let dz: UnsafePointer<Float>
}

extension Backprop {
    /// One head on a short prompt: SIMD dot products and AXPYs, causal half only.
    static func smallHeadBackward(
        _ x: AttentionHeadBuffers, positions t: Int, dHead dh: Int, dModel d: Int, scale: Float,
        dP: UnsafeMutablePointer<Float>, fullDP: Bool, dS: UnsafeMutablePointer<Float>?, dSRow: UnsafeMutablePointer<Float>
    ) {
        let ld = 3 * d
        for i in 0..<t {
            let dzi = x.dz + i * d
            // dP[i, j] = dz_i · v_j; dv_j += P[i, j] · dz_i.
            for j in 0..<(fullDP ? t : i + 1) { dP[i * t + j] = Kernels.dot(dzi, x.v + j * ld, count: dh) }
            for j in 0...i { Kernels.axpy(x.pattern[i * t + j], dzi, x.dv + j * ld, count: dh) }
            // dS row i, then dq_i += scale · Σ_j dS[i, j] k_j and dk_j += scale · dS[i, j] q_i.
            let ds = dS.map { $0 + i * t } ?? dSRow
            causalSoftmaxBackward(dProbabilities: dP + i * t, probabilities: x.pattern + i * t, queries: 1,
                                  keys: dS == nil ? i + 1 : t, ld: t, queryOffset: i, dScores: ds)
            for j in 0...i {
                let g = scale * ds[j]
                Kernels.axpy(g, x.k + j * ld, x.dq + i * ld, count: dh)
                Kernels.axpy(g, x.q + i * ld, x.dk + j * ld, count: dh)
            }
        }
    }

    /// One head through BLAS, on query tiles that stop at the diagonal (one tile up to 64 tokens).
    ///
    /// - Parameter rowsInParallel: spread the softmax backward's rows over the cores (when heads
    ///   run one after another).
    static func tiledHeadBackward(
        _ x: AttentionHeadBuffers, positions t: Int, dHead dh: Int, dModel d: Int, scale: Float,
        dP: UnsafeMutablePointer<Float>, fullDP: Bool, dS: UnsafeMutablePointer<Float>, rowsInParallel: Bool
    ) {
        let ld = 3 * d, tile = attentionTile
        for start in stride(from: 0, to: t, by: tile) {
            let rows = min(tile, t - start), keys = start + rows
            // dP[tile, keys] = dz[tile] · v[keys]ᵀ;  dv[keys] += P[tile, keys]ᵀ · dz[tile].
            Kernels.gemm(transB: true, m: rows, n: fullDP ? t : keys, k: dh, a: x.dz + start * d, lda: d,
                         b: x.v, ldb: ld, c: dP + start * t, ldc: t)
            Kernels.gemm(transA: true, m: keys, n: dh, k: rows, a: x.pattern + start * t, lda: t,
                         b: x.dz + start * d, ldb: d, beta: 1, c: x.dv, ldc: ld)
        }
        Kernels.parallelFor(rowsInParallel ? t : 1, minimumChunk: 16) { range in
            let range = rowsInParallel ? range : 0..<t
            causalSoftmaxBackward(dProbabilities: dP + range.lowerBound * t, probabilities: x.pattern + range.lowerBound * t,
                                  queries: range.count, keys: t, ld: t, queryOffset: range.lowerBound,
                                  dScores: dS + range.lowerBound * t)
        }
        for start in stride(from: 0, to: t, by: tile) {
            let rows = min(tile, t - start), keys = start + rows
            // dq[tile] += scale · dS[tile, keys] · k[keys];  dk[keys] += scale · dS[tile, keys]ᵀ · q[tile].
            Kernels.gemm(m: rows, n: dh, k: keys, alpha: scale, a: dS + start * t, lda: t, b: x.k, ldb: ld,
                         beta: 1, c: x.dq + start * ld, ldc: ld)
            Kernels.gemm(transA: true, m: keys, n: dh, k: rows, alpha: scale, a: dS + start * t, lda: t,
                         b: x.q + start * ld, ldb: ld, beta: 1, c: x.dk, ldc: ld)
        }
    }
}
