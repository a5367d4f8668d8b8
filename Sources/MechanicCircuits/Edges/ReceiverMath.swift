import MechanicModel
import MechanicTensor

/// How each receiver of the ``ComputationalGraph`` turns its own copy of the residual stream into
/// the activation the model goes on with, and how a gradient flows back the same way.
///
/// The model computes every receiver of a layer from one residual (all heads' queries, keys and
/// values from `ln1(resid_pre)`). An edge intervention gives a receiver a residual of its own
/// (the clean one minus, for each patched sender, that sender's clean output plus its
/// counterfactual one). This type recomputes what that receiver would make of it and where the
/// result goes, so an edge patch is an edit of one existing hook, not a second model:
///
/// | receiver | reads | writes |
/// |---|---|---|
/// | query of head h, layer l | `blocks.l.hook_resid_pre` | head h of `blocks.l.attn.hook_q`: `(norm(x)·g + b) · W_Q[h] + b_Q[h]` |
/// | key / value of group g | `hook_resid_pre` | every head of group g in `hook_k` / `hook_v` |
/// | MLP of layer l | `hook_resid_mid` (`hook_resid_pre` with parallel blocks) | `blocks.l.ln2.hook_normalized`: `norm(x)` before the gain |
/// | logits | the last block's `hook_resid_post` | `ln_final.hook_normalized` |
///
/// Arithmetic is plain loops plus BLAS products on `[rows, …]` buffers (`rows = batch·pos`); the
/// tests compare it with the model's own forward pass and with finite differences.
///
/// With Gemma's post-norms a head's contribution to the residual is part of a normed sum;
/// ``postNorm`` says how a change of some heads' outputs reaches the residual.
struct ReceiverMath: Sendable {
    let model: Transformer
    /// The attention post-norm of Gemma 2/3, `nil` where each sender's output joins the residual as it is.
    let postNorm: AttentionPostNorm?
    var config: TransformerConfig { model.config }

    init(model: Transformer) throws {
        guard model.config.layers > 0 else { throw EdgeError.unsupportedModel("the model has no layers") }
        self.model = model
        postNorm = AttentionPostNorm(model: model)
    }

    /// The hook whose activation `[batch, pos, dModel]` is the residual the receiver reads.
    func inputHook(_ r: ComputationalGraph.Receiver) -> HookName {
        switch r {
        case .query(let h): return .residPre(h.layer)
        case .key(let layer, _), .value(let layer, _): return .residPre(layer)
        case .mlp(let layer): return config.parallelBlocks ? .residPre(layer) : .residMid(layer)
        case .logits: return .residPost(config.layers - 1)
        }
    }

    /// The norm hooks holding the receiver's normalised input and its scale: `ln1` for attention
    /// inputs, `ln2` for an MLP, `ln_final` for the logits. They are what ``normalize(_:rows:)`` gives
    /// for ``inputHook(_:)``'s residual, so a gradient run's tape can supply them.
    func normHooks(_ r: ComputationalGraph.Receiver) -> (normalized: HookName, scale: HookName) {
        switch r {
        case .query(let h): return (.ln1Normalized(h.layer), .ln1Scale(h.layer))
        case .key(let layer, _), .value(let layer, _): return (.ln1Normalized(layer), .ln1Scale(layer))
        case .mlp(let layer): return (.ln2Normalized(layer), .ln2Scale(layer))
        case .logits: return (.lnFinalNormalized, .lnFinalScale)
        }
    }

    /// The hook the receiver's value is written to.
    func valueHook(_ r: ComputationalGraph.Receiver) -> HookName {
        switch r {
        case .query(let h): return .q(h.layer)
        case .key(let layer, _): return .k(layer)
        case .value(let layer, _): return .v(layer)
        case .mlp(let layer): return .ln2Normalized(layer)
        case .logits: return .lnFinalNormalized
        }
    }

    /// The query heads whose slot in the value hook the receiver fills (one head, or a GQA group).
    func heads(_ r: ComputationalGraph.Receiver) -> [Int] {
        let size = config.heads / config.kvHeads
        switch r {
        case .query(let h): return [h.head]
        case .key(_, let g), .value(_, let g): return Array((g * size)..<((g + 1) * size))
        case .mlp, .logits: return []
        }
    }

    /// Column of the fused `[dModel, (heads + 2·kvHeads)·dHead]` projection where the receiver's block starts.
    private func projectionColumn(_ r: ComputationalGraph.Receiver) -> Int {
        let (h, kv, dh) = (config.heads, config.kvHeads, config.dHead)
        switch r {
        case .query(let head): return head.head * dh
        case .key(_, let g): return (h + g) * dh
        case .value(_, let g): return (h + kv + g) * dh
        case .mlp, .logits: return 0
        }
    }

    /// Normalises rows of `x` `[rows, dModel]`: `(x − mean)/scale` (LayerNorm) or `x/scale` (RMS),
    /// `scale = √(var + eps)` or `√(mean(x²) + eps)`, as the model's norm kernels compute them.
    ///
    /// - Returns: `normalized [rows, dModel]` and `scale [rows]`.
    func normalize(_ x: [Float], rows: Int) -> (normalized: [Float], scale: [Float]) {
        let d = config.dModel
        var normalized = [Float](repeating: 0, count: rows * d), scale = [Float](repeating: 0, count: rows)
        let ones = [Float](repeating: 1, count: d), zeros = [Float](repeating: 0, count: d)
        if config.norm == .none { return (x, [Float](repeating: 1, count: rows)) }   // the identity "norm"
        x.withUnsafeBufferPointer { xs in
            normalized.withUnsafeMutableBufferPointer { n in
                scale.withUnsafeMutableBufferPointer { s in
                    var out = [Float](repeating: 0, count: rows * d)
                    out.withUnsafeMutableBufferPointer { o in
                        if config.norm == .rmsNorm {
                            Kernels.rmsNorm(xs.baseAddress!, rows: rows, dim: d, eps: config.layerNormEpsilon, gain: ones,
                                            scale: s.baseAddress!, normalized: n.baseAddress!, out: o.baseAddress!)
                        } else {
                            Kernels.layerNorm(xs.baseAddress!, rows: rows, dim: d, eps: config.layerNormEpsilon, gain: ones,
                                              bias: zeros, scale: s.baseAddress!, normalized: n.baseAddress!, out: o.baseAddress!)
                        }
                    }
                }
            }
        }
        return (normalized, scale)
    }

    /// What the receiver computes from its residual `x` `[rows, dModel]`: `[rows, dHead]` for an
    /// attention input (before QK-norm and rotary, as `hook_q/k/v` hold it), `[rows, dModel]`
    /// normalised (before the gain) for an MLP or the logits.
    func value(_ r: ComputationalGraph.Receiver, input x: [Float], rows: Int) -> [Float] {
        let (normalized, _) = normalize(x, rows: rows)
        guard case let layer? = attentionLayer(r) else { return normalized }
        let (d, dh) = (config.dModel, config.dHead)
        let w = model.weights.blocks[layer]
        // u = normalized · gain + bias  [rows, dModel]
        var u = normalized
        for row in 0..<rows {
            for i in 0..<d { u[row * d + i] = normalized[row * d + i] * w.ln1Gain.storage[i] + (w.ln1Bias?.storage[i] ?? 0) }
        }
        let column = projectionColumn(r), width = w.qkvWeight.shape[1]
        var out = [Float](repeating: 0, count: rows * dh)                   // [rows, dHead]
        if let bias = w.qkvBias { for row in 0..<rows { for j in 0..<dh { out[row * dh + j] = bias.storage[column + j] } } }
        u.withUnsafeBufferPointer { a in
            w.qkvWeight.storage.withUnsafeBufferPointer { b in
                out.withUnsafeMutableBufferPointer { c in
                    Kernels.gemm(m: rows, n: dh, k: d, a: a.baseAddress!, lda: d, b: b.baseAddress! + column, ldb: width,
                                 beta: 1, c: c.baseAddress!, ldc: dh)
                }
            }
        }
        return out
    }

    /// The gradient with respect to the receiver's residual `x` `[rows, dModel]`, from the gradient
    /// of its value (`[rows, dHead]` or `[rows, dModel]`, as ``value(_:input:rows:)`` returns),
    /// given `x` normalised (``normalize(_:rows:)``, or a gradient run's norm intermediates:
    /// receivers that read the same residual share one normalisation).
    func inputGradient(_ r: ComputationalGraph.Receiver, valueGradient g: [Float],
                       normalizedInput: (normalized: [Float], scale: [Float]), rows: Int) -> [Float] {
        let d = config.dModel
        var gNormalized: [Float]                                              // [rows, dModel]
        if case let layer? = attentionLayer(r) {
            let dh = config.dHead
            let w = model.weights.blocks[layer]
            let column = projectionColumn(r), width = w.qkvWeight.shape[1]
            gNormalized = [Float](repeating: 0, count: rows * d)
            // ∂u = ∂value · W[:, block]ᵀ, then through the gain.
            g.withUnsafeBufferPointer { a in
                w.qkvWeight.storage.withUnsafeBufferPointer { b in
                    gNormalized.withUnsafeMutableBufferPointer { c in
                        Kernels.gemm(transB: true, m: rows, n: d, k: dh, a: a.baseAddress!, lda: dh, b: b.baseAddress! + column,
                                     ldb: width, c: c.baseAddress!, ldc: d)
                    }
                }
            }
            for row in 0..<rows { for i in 0..<d { gNormalized[row * d + i] *= w.ln1Gain.storage[i] } }
        } else {
            gNormalized = g
        }
        return normBackward(gNormalized, normalized: normalizedInput.normalized, scale: normalizedInput.scale, rows: rows)
    }

    /// Backward of ``normalize(_:rows:)``: `∂x = (∂n − mean(∂n) − n·mean(∂n·n)) / scale` for
    /// LayerNorm, without the `mean(∂n)` term for RMS norm.
    func normBackward(_ gNormalized: [Float], normalized n: [Float], scale: [Float], rows: Int) -> [Float] {
        let d = config.dModel
        if config.norm == .none { return gNormalized }                        // the identity "norm"
        let centred = config.norm != .rmsNorm
        var dx = [Float](repeating: 0, count: rows * d)
        for row in 0..<rows {
            let base = row * d
            var meanG: Float = 0, meanGN: Float = 0
            for i in 0..<d {
                meanG += gNormalized[base + i]
                meanGN += gNormalized[base + i] * n[base + i]
            }
            meanG /= Float(d)
            meanGN /= Float(d)
            let inv = 1 / scale[row]
            for i in 0..<d {
                dx[base + i] = (gNormalized[base + i] - (centred ? meanG : 0) - n[base + i] * meanGN) * inv
            }
        }
        return dx
    }

    /// Reads the receiver's value gradient `[rows, width]` out of its hook's gradient: one head of
    /// `hook_q`, the sum over a GQA group's heads of `hook_k`/`hook_v` (each head holds a copy of
    /// the group's keys), or the whole normalised gradient.
    func valueGradient(_ r: ComputationalGraph.Receiver, fromHook grad: Tensor) -> [Float] {
        let heads = self.heads(r)
        guard !heads.isEmpty else { return grad.storage }
        return gatherHeads(grad, heads: heads)
    }

    /// Writes the receiver's value `[rows, width]` into its hook's activation (every head it feeds).
    func write(_ r: ComputationalGraph.Receiver, value: [Float], into hook: inout Tensor) {
        let heads = self.heads(r)
        guard !heads.isEmpty else {
            hook.storage.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: value, count: value.count) }
            return
        }
        let (h, dh) = (config.heads, config.dHead)
        for row in 0..<(hook.count / (h * dh)) {
            for head in heads { hook.storage.replaceSubrange(((row * h + head) * dh)..<((row * h + head + 1) * dh), with: value[(row * dh)..<((row + 1) * dh)]) }
        }
    }

    /// `[rows, dHead]` from `[batch, pos, head, dHead]`: the sum over the given heads.
    private func gatherHeads(_ t: Tensor, heads: [Int]) -> [Float] {
        let (h, dh) = (config.heads, config.dHead)
        let rows = t.count / (h * dh)
        var out = [Float](repeating: 0, count: rows * dh)
        for row in 0..<rows {
            for head in heads {
                let base = (row * h + head) * dh
                for j in 0..<dh { out[row * dh + j] += t.storage[base + j] }
            }
        }
        return out
    }

    private func attentionLayer(_ r: ComputationalGraph.Receiver) -> Int? {
        switch r {
        case .query(let h): return h.layer
        case .key(let layer, _), .value(let layer, _): return layer
        case .mlp, .logits: return nil
        }
    }
}

/// Why an edge-level method cannot run.
public enum EdgeError: Error, CustomStringConvertible, Equatable {
    case unsupportedModel(String)
    case invalidOption(String)
    case noPrompts(String)

    public var description: String {
        switch self {
        case .unsupportedModel(let why): return "edge-level circuits are not available for this model: \(why)"
        case .invalidOption(let why): return why
        case .noPrompts(let method): return "\(method) needs at least one prompt"
        }
    }
}
