/// Bidirectional self-attention (TransformerLens `attention_dir="bidirectional"`, tracr's compiled
/// models): every query sees every real key of its row, and right padding is masked out by the
/// row's length, as HF's `attention_mask` does. Same buffers as the causal kernels in
/// `Kernels+Attention.swift`; `z = pattern · v` is ``Kernels/attentionValues`` with `causal: false`.
extension Kernels {
    /// `scores = scale · q · kᵀ` per batch row and head over all keys; keys at or after the row's
    /// length are `-inf`.
    ///
    /// - Parameters:
    ///   - qkv: `[batch, pos, 3·dModel]`; scores: `[batch, head, queryPos, keyPos]`, written.
    ///   - lengths: `[batch]`, each row's real length (1…pos).
    public static func bidirectionalAttentionScores(
        qkv: UnsafePointer<Float>, batch b: Int, positions t: Int, heads h: Int, dHead dh: Int, scale: Float,
        lengths: [Int], scores: UnsafeMutablePointer<Float>
    ) {
        let d = h * dh
        parallelFor(b * h) { range in
            for m in range {
                let (bi, hi) = m.quotientAndRemainder(dividingBy: h)
                let q = qkv + bi * t * 3 * d + hi * dh
                let s = scores + m * t * t
                if t <= 64 {
                    smallGemmNT(m: t, n: t, k: dh, alpha: scale, a: q, lda: 3 * d, b: q + d, ldb: 3 * d, c: s, ldc: t)
                } else {
                    gemm(transB: true, m: t, n: t, k: dh, alpha: scale, a: q, lda: 3 * d, b: q + d, ldb: 3 * d, c: s, ldc: t)
                }
                let length = min(t, max(1, lengths[bi]))
                if length < t { for r in 0..<t { (s + r * t + length).update(repeating: -.infinity, count: t - length) } }
            }
        }
    }

    /// Softmax of every query row over the keys before `length`, in place; the masked keys get
    /// exactly zero weight. Soft-capping, if any, has been applied to the scores before.
    ///
    /// - Parameter scores: `[queries, positions]`, row stride `positions`.
    public static func keyMaskedSoftmax(_ scores: UnsafeMutablePointer<Float>, queries: Int, positions t: Int, length: Int) {
        let length = min(t, max(1, length))
        // With queryOffset = t every query sees all `length` keys (the causal kernel's row softmax).
        causalSoftmax(scores, queries: queries, keys: length, ld: t, queryOffset: t)
        if length < t { for r in 0..<queries { (scores + r * t + length).update(repeating: 0, count: t - length) } }
    }
}
