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
    ///   - window: a sliding window: each query sees itself and the `window − 1` keys before it
    ///     (the keys before get `-inf` scores and exactly zero weight).
    ///   - softcap: `scores = cap · tanh(scores / cap)` before the mask (Gemma 2).
    ///   - capped: `[batch, head, queryPos, keyPos]`, the soft-capped, masked scores (TransformerLens
    ///     `hook_attn_scores`) that the soft-cap's backward reads; written only with a soft-cap.
    public static func attentionForward(
        qkv: UnsafePointer<Float>, batch b: Int, positions t: Int, heads h: Int, dHead dh: Int, scale: Float,
        pattern: UnsafeMutablePointer<Float>, z: UnsafeMutablePointer<Float>, smallLimit: Int = attentionTile,
        window: Int? = nil, softcap: Float? = nil, capped: UnsafeMutablePointer<Float>? = nil
    ) {
        let small = t <= smallLimit
        Kernels.causalAttentionScores(qkv: qkv, batch: b, positions: t, heads: h, dHead: dh, scale: scale,
                                      scores: pattern, small: small, tile: attentionTile)
        if window != nil || softcap != nil {
            // The model's masking, matrix by matrix (element-wise, so any split gives the same bits).
            Kernels.parallelFor(b * h, minimumChunk: max(1, 4096 / (t * t))) { range in
                for m in range {
                    Kernels.maskScores(pattern + m * t * t, queries: t, keys: t, ld: t, window: window, softcap: softcap)
                }
            }
            if softcap != nil, let capped { capped.update(from: pattern, count: b * h * t * t) }
        }
        Kernels.parallelFor(b * h, minimumChunk: max(1, 4096 / (t * t))) { range in
            for m in range { Kernels.causalSoftmax(pattern + m * t * t, queries: t, keys: t, ld: t, window: window) }
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
    ///   - capped, softcap: the soft-capped scores saved by the forward pass and the cap: `dS` is
    ///     multiplied by `1 − (capped / cap)²` before it reaches `dq` and `dk` (`dScores` stays the
    ///     gradient of the capped scores, `hook_attn_scores`). A sliding window needs nothing here:
    ///     its masked keys have zero weight, so their `dS` is zero.
    public static func attentionBackward(
        dz: UnsafePointer<Float>, qkv: UnsafePointer<Float>, pattern: UnsafePointer<Float>,
        batch b: Int, positions t: Int, heads h: Int, dHead dh: Int, scale: Float,
        dqkv: UnsafeMutablePointer<Float>,
        dPattern: UnsafeMutablePointer<Float>? = nil, dScores: UnsafeMutablePointer<Float>? = nil,
        smallLimit: Int = attentionTile, inlineLimit: Int = 24,
        capped: UnsafePointer<Float>? = nil, softcap: Float? = nil
    ) {
        let d = h * dh
        let capped = softcap == nil ? nil : capped
        let inverseCap = softcap.map { 1 / $0 } ?? 0
        func buffers(_ m: Int) -> AttentionHeadBuffers {
            let (bi, hi) = m.quotientAndRemainder(dividingBy: h)
            let offset = bi * t * 3 * d + hi * dh
            return AttentionHeadBuffers(
                q: qkv + offset, k: qkv + offset + d, v: qkv + offset + 2 * d,
                dq: dqkv + offset, dk: dqkv + offset + d, dv: dqkv + offset + 2 * d,
                pattern: pattern + m * t * t, dz: dz + bi * t * d + hi * dh,
                capped: capped.map { $0 + m * t * t }, inverseCap: inverseCap)
        }
        let scratchSize = (capped == nil ? 2 : 3) * t * t
        // OpenBLAS runs products of at most 4·65536 multiply-adds on the calling thread, so
        // workers can call it side by side; larger heads go one at a time below.
        if t <= smallLimit && (t <= inlineLimit || t * t * dh <= 262_144) {
            // Heads spread over the cores; each writes its own columns of dqkv.
            Kernels.parallelFor(b * h) { range in
                // Scratch per worker, not per head: dP and dS [queryPos, keyPos].
                let scratch = UnsafeMutablePointer<Float>.allocate(capacity: scratchSize)
                defer { scratch.deallocate() }
                for m in range {
                    let dP = dPattern.map { $0 + m * t * t } ?? scratch
                    if t <= inlineLimit {
                        smallHeadBackward(buffers(m), positions: t, dHead: dh, dModel: d, scale: scale, dP: dP,
                                          fullDP: dPattern != nil, dS: dScores.map { $0 + m * t * t }, dSRow: scratch + t * t)
                    } else {
                        tiledHeadBackward(buffers(m), positions: t, dHead: dh, dModel: d, scale: scale, dP: dP,
                                          fullDP: dPattern != nil, dS: dScores.map { $0 + m * t * t } ?? scratch + t * t,
                                          rowsInParallel: false, dSCapped: capped == nil ? nil : scratch + 2 * t * t)
                    }
                }
            }
            return
        }
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: scratchSize)
        defer { scratch.deallocate() }
        for m in 0..<(b * h) {
            tiledHeadBackward(buffers(m), positions: t, dHead: dh, dModel: d, scale: scale,
                              dP: dPattern.map { $0 + m * t * t } ?? scratch, fullDP: dPattern != nil,
                              dS: dScores.map { $0 + m * t * t } ?? scratch + t * t, rowsInParallel: true,
                              dSCapped: capped == nil ? nil : scratch + 2 * t * t)
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
    /// The soft-capped scores `[queryPos, keyPos]` (`nil` without a soft-cap) and `1 / cap`.
    var capped: UnsafePointer<Float>? = nil
    var inverseCap: Float = 0

    /// The soft-cap's derivative at one score, `1 − (capped / cap)²`; 0 at masked (`-inf`) scores.
    func softcapSlope(_ index: Int) -> Float {
        let y = capped![index]
        guard y.isFinite else { return 0 }
        let u = y * inverseCap
        return 1 - u * u
    }
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
                var g = scale * ds[j]
                if x.capped != nil { g = scale * (ds[j] * x.softcapSlope(i * t + j)) }
                Kernels.axpy(g, x.k + j * ld, x.dq + i * ld, count: dh)
                Kernels.axpy(g, x.q + i * ld, x.dk + j * ld, count: dh)
            }
        }
    }

    /// One head through BLAS, on query tiles that stop at the diagonal (one tile up to 64 tokens).
    ///
    /// - Parameters:
    ///   - rowsInParallel: spread the softmax backward's rows over the cores (when heads run one
    ///     after another).
    ///   - dSCapped: `[queryPos, keyPos]` scratch for `dS` through the soft-cap (used only with one).
    static func tiledHeadBackward(
        _ x: AttentionHeadBuffers, positions t: Int, dHead dh: Int, dModel d: Int, scale: Float,
        dP: UnsafeMutablePointer<Float>, fullDP: Bool, dS: UnsafeMutablePointer<Float>, rowsInParallel: Bool,
        dSCapped: UnsafeMutablePointer<Float>? = nil
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
        var dS = dS
        if x.capped != nil, let dSCapped {
            // Through the soft-cap: dS stays the gradient of the capped scores (hook_attn_scores).
            for i in 0..<t {
                for j in 0...i { dSCapped[i * t + j] = dS[i * t + j] * x.softcapSlope(i * t + j) }
                if i + 1 < t { (dSCapped + i * t + i + 1).update(repeating: 0, count: t - i - 1) }
            }
            dS = dSCapped
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
