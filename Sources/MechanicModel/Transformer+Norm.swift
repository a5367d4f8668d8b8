import MechanicTensor

extension Transformer {
    /// The model's normalisation (LayerNorm or RMS norm) over the last axis, with
    /// TransformerLens's two hooks: `hook_scale` `[…, 1]` and `hook_normalized` (before the gain
    /// and bias).
    ///
    /// When neither hook is active this is one fused kernel; otherwise the intermediates are
    /// materialised, edited, and the output recomputed from the (possibly edited) values.
    ///
    /// - Parameters:
    ///   - x: `[…, dim]`: the residual `[batch, pos, dModel]`, or heads `[batch, pos, head, dHead]` (QK-norm).
    ///   - bias: LayerNorm's bias, `nil` for RMS norm.
    func normForward(_ x: Tensor, gain: Tensor, bias: Tensor?, scaleHook: HookName, normalizedHook: HookName,
                     hooks: inout HookRunner) throws -> Tensor {
        let d = x.shape[x.rank - 1]
        let rows = x.count / d
        let eps = config.layerNormEpsilon
        let rms = config.norm == .rmsNorm
        var shape = x.shape
        shape[shape.count - 1] = 1
        if config.norm == .none {
            return try identityNormForward(x, scaleShape: shape, scaleHook: scaleHook, normalizedHook: normalizedHook, hooks: &hooks)
        }
        guard hooks.isActive(scaleHook) || hooks.isActive(normalizedHook) else {
            return Tensor(shape: x.shape) { out in
                x.storage.withUnsafeBufferPointer { xs in
                    gain.storage.withUnsafeBufferPointer { g in
                        let (src, dst, gp) = (xs.baseAddress!, out.baseAddress!, g.baseAddress!)
                        Kernels.parallelFor(rows, minimumChunk: 64) { range in
                            let (from, to) = (src + range.lowerBound * d, dst + range.lowerBound * d)
                            if rms || bias == nil {
                                Kernels.rmsNorm(from, rows: range.count, dim: d, eps: eps, gain: gp, out: to)
                            } else {
                                bias!.storage.withUnsafeBufferPointer { bs in
                                    Kernels.layerNorm(from, rows: range.count, dim: d, eps: eps, gain: gp, bias: bs.baseAddress!, out: to)
                                }
                            }
                        }
                    }
                }
            }
        }
        var scale = Tensor(shape: shape)                                     // [batch, pos, 1] (or [batch, pos, head, 1])
        var normalized = Tensor(shape: x.shape)                              // [batch, pos, dModel] (or per head)
        var out = Tensor(shape: x.shape)
        x.storage.withUnsafeBufferPointer { xs in
            scale.storage.withUnsafeMutableBufferPointer { sp in
                normalized.storage.withUnsafeMutableBufferPointer { np in
                    out.storage.withUnsafeMutableBufferPointer { op in
                        gain.storage.withUnsafeBufferPointer { g in
                            if rms {
                                Kernels.rmsNorm(xs.baseAddress!, rows: rows, dim: d, eps: eps, gain: g.baseAddress!,
                                                scale: sp.baseAddress!, normalized: np.baseAddress!, out: op.baseAddress!)
                            } else {
                                bias!.storage.withUnsafeBufferPointer { bs in
                                    Kernels.layerNorm(xs.baseAddress!, rows: rows, dim: d, eps: eps, gain: g.baseAddress!,
                                                      bias: bs.baseAddress!, scale: sp.baseAddress!,
                                                      normalized: np.baseAddress!, out: op.baseAddress!)
                                }
                            }
                        }
                    }
                }
            }
        }
        if try hooks.visit(scaleHook, &scale) {
            // Recompute `normalized` with the edited scale: `(x − mean) / scale`, or `x / scale` for
            // RMS norm. Same arithmetic as the kernels, so re-writing an unchanged scale is bit-exact.
            let invDim = 1 / Float(d)
            for r in 0..<rows {
                var mean: Float = 0
                if !rms {
                    var sum: Float = 0
                    for i in 0..<d { sum += x.storage[r * d + i] }
                    mean = sum * invDim
                }
                let inv = 1 / scale.storage[r]
                for i in 0..<d { normalized.storage[r * d + i] = (x.storage[r * d + i] - mean) * inv }
            }
        }
        let scaleEdited = hooks.isEdited(scaleHook)
        if try hooks.visit(normalizedHook, &normalized) || scaleEdited {
            for r in 0..<rows {
                for i in 0..<d {
                    out.storage[r * d + i] = normalized.storage[r * d + i] * gain.storage[i] + (bias?.storage[i] ?? 0)
                }
            }
        }
        return out
    }

    /// The "norm" of a model without normalisation: the identity, with its hooks kept so methods
    /// that read or edit them run unchanged. `hook_scale` is 1; `hook_normalized` is `x / scale`
    /// (so an edited scale divides, as in a real norm) and is the output.
    ///
    /// - Parameters:
    ///   - x: `[…, dim]`; scaleShape: `[…, 1]`.
    func identityNormForward(_ x: Tensor, scaleShape: [Int], scaleHook: HookName, normalizedHook: HookName,
                             hooks: inout HookRunner) throws -> Tensor {
        guard hooks.isActive(scaleHook) || hooks.isActive(normalizedHook) else { return x }
        let d = x.shape[x.rank - 1]
        var scale = Tensor(shape: scaleShape, repeating: 1)                 // [batch, pos, 1]
        var normalized = x                                                   // [batch, pos, dModel]
        if try hooks.visit(scaleHook, &scale) {
            for r in 0..<(x.count / d) {
                let inv = 1 / scale.storage[r]
                for i in 0..<d { normalized.storage[r * d + i] = x.storage[r * d + i] * inv }
            }
        }
        try hooks.visit(normalizedHook, &normalized)
        return normalized
    }
}
