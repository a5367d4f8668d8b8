import MechanicModel
import MechanicTensor

/// Gemma 2/3's post-norm on the attention output, and what a change of one head's output becomes
/// after it.
///
/// In a post-norm model layer l's attention joins the residual as `post_l(A_l)`, where
/// `A_l = Σ_h head_h + b_O` `[rows, dModel]` is the sum of the heads' outputs (the senders of the
/// ``ComputationalGraph``) and `post_l(a) = a / √(mean(a²) + eps) · g_l` is an RMS norm (the model
/// runs every bias-free norm as RMS). Heads are then not additive on their own: patching the heads
/// H of layer l changes the residual by `post_l(A_l + Σ_{h∈H} δ_h) − post_l(A_l)`, which is how
/// EAP-IG's `evaluate_graph` treats Gemma (it keeps clean and corrupted head outputs apart and
/// puts both sums through `ln1_post`). MLPs and the input stay additive (`hook_mlp_out` is after
/// Gemma's MLP post-norm). Attribution uses the same map to first order: `J_l(A_l)·δ`.
struct AttentionPostNorm: Sendable {
    let model: Transformer

    /// `nil` for models whose attention output joins the residual as it is.
    init?(model: Transformer) {
        guard model.config.postNorms else { return nil }
        self.model = model
    }

    var dModel: Int { model.config.dModel }

    private func gain(_ layer: Int) -> [Float] { model.weights.blocks[layer].attnPostNormGain!.storage }

    /// `A_l` `[rows, dModel]` from the layer's `hook_z` `[batch, pos, head, dHead]`: `z · W_O + b_O`.
    func preNormSum(layer: Int, z: Tensor) -> [Float] {
        let c = model.config, d = c.dModel
        let rows = z.count / (c.heads * c.dHead)
        let w = model.weights.blocks[layer]
        var out = [Float](repeating: 0, count: rows * d)
        if let bias = w.attnOutBias { for row in 0..<rows { for i in 0..<d { out[row * d + i] = bias.storage[i] } } }
        z.storage.withUnsafeBufferPointer { zs in
            w.attnOutWeight.storage.withUnsafeBufferPointer { wo in
                out.withUnsafeMutableBufferPointer { o in
                    Kernels.gemm(m: rows, n: d, k: c.heads * c.dHead, a: zs.baseAddress!, lda: c.heads * c.dHead,
                                 b: wo.baseAddress!, ldb: d, beta: 1, c: o.baseAddress!, ldc: d)
                }
            }
        }
        return out
    }

    /// `A_l` `[rows, dModel]` from the heads' outputs in `outputs`: their sum plus `b_O`.
    func preNormSum(layer: Int, outputs: SenderOutputs, graph: ComputationalGraph) -> [Float] {
        let d = dModel, rows = outputs.rows
        var out = [Float](repeating: 0, count: rows * d)
        if let bias = model.weights.blocks[layer].attnOutBias { for row in 0..<rows { for i in 0..<d { out[row * d + i] = bias.storage[i] } } }
        for (s, sender) in graph.senders.enumerated() {
            guard case .head(let h) = sender, h.layer == layer else { continue }
            let o = outputs.output(s)
            for (i, v) in zip(out.indices, o) { out[i] += v }
        }
        return out
    }

    /// `post_l(a)` `[rows, dModel]`, with the model's own norm kernel.
    func normed(layer: Int, _ a: [Float]) -> [Float] {
        let d = dModel, rows = a.count / d
        var out = [Float](repeating: 0, count: a.count)
        a.withUnsafeBufferPointer { x in
            gain(layer).withUnsafeBufferPointer { g in
                out.withUnsafeMutableBufferPointer { o in
                    Kernels.rmsNorm(x.baseAddress!, rows: rows, dim: d, eps: model.config.layerNormEpsilon, gain: g.baseAddress!,
                                    out: o.baseAddress!)
                }
            }
        }
        return out
    }

    /// A layer's attention sum `A_l` and what it adds to the residual, `post_l(A_l)` (both
    /// `[rows, dModel]`), normed once per run however many receivers patch its heads.
    struct Output {
        let sum: [Float]
        let normed: [Float]
    }

    func output(layer: Int, sum: [Float]) -> Output {
        Output(sum: sum, normed: normed(layer: layer, sum))
    }

    /// `post_l(A_l + delta) − post_l(A_l)` `[rows, dModel]`: what the residual gains when the
    /// layer's heads change by `delta` (`[rows, dModel]`).
    func shift(layer: Int, from output: Output, delta: [Float]) -> [Float] {
        precondition(output.sum.count == delta.count)
        let moved = normed(layer: layer, zip(output.sum, delta).map { $0.0 + $0.1 })
        return zip(moved, output.normed).map { $0.0 - $0.1 }
    }

    /// The same to first order, `J_l(A) · δ = g ⊙ (δ − n · mean(n ⊙ δ)) / s`, for `δ` `[rows, dModel]`
    /// given `A`'s normalised value `n` `[rows, dModel]` and scale `s` `[rows]` (`ln1_post`'s
    /// `hook_normalized` and `hook_scale`).
    func tangent(layer: Int, delta: ArraySlice<Float>, normalized n: [Float], scale: [Float]) -> [Float] {
        let d = dModel, rows = delta.count / d, g = gain(layer)
        var out = [Float](repeating: 0, count: delta.count)
        let from = delta.startIndex
        for row in 0..<rows {
            let base = row * d
            var dot: Float = 0
            for i in 0..<d { dot += n[base + i] * delta[from + base + i] }
            dot /= Float(d)
            let inv = 1 / scale[row]
            for i in 0..<d { out[base + i] = g[i] * (delta[from + base + i] - n[base + i] * dot) * inv }
        }
        return out
    }
}
