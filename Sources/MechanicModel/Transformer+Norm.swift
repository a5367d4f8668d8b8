import MechanicTensor

extension GPT2Model {
    /// Layer norm with TransformerLens's two hooks: `hook_scale` `[batch, pos, 1]` and
    /// `hook_normalized` `[batch, pos, dModel]` (before the gain and bias).
    ///
    /// When neither hook is active this is one fused kernel; otherwise the intermediates are
    /// materialised, edited, and the output recomputed from the (possibly edited) values.
    func layerNormForward(_ x: Tensor, gain: Tensor, bias: Tensor, scaleHook: HookName, normalizedHook: HookName,
                          hooks: inout HookRunner) throws -> Tensor {
        let d = x.shape[x.rank - 1]
        let rows = x.count / d
        let eps = config.layerNormEpsilon
        var shape = x.shape
        shape[shape.count - 1] = 1
        guard hooks.isActive(scaleHook) || hooks.isActive(normalizedHook) else {
            return Tensor(shape: x.shape) { out in
                x.storage.withUnsafeBufferPointer { xs in
                    gain.storage.withUnsafeBufferPointer { g in
                        bias.storage.withUnsafeBufferPointer { bs in
                            let (src, dst, gp, bp) = (xs.baseAddress!, out.baseAddress!, g.baseAddress!, bs.baseAddress!)
                            Kernels.parallelFor(rows, minimumChunk: 64) { range in
                                Kernels.layerNorm(src + range.lowerBound * d, rows: range.count, dim: d, eps: eps,
                                                  gain: gp, bias: bp, out: dst + range.lowerBound * d)
                            }
                        }
                    }
                }
            }
        }
        var scale = Tensor(shape: shape)                                     // [batch, pos, 1]
        var normalized = Tensor(shape: x.shape)                              // [batch, pos, dModel]
        var out = Tensor(shape: x.shape)
        x.storage.withUnsafeBufferPointer { xs in
            Kernels.layerNorm(xs.baseAddress!, rows: rows, dim: d, eps: eps, gain: gain.storage, bias: bias.storage,
                              scale: &scale.storage, normalized: &normalized.storage, out: &out.storage)
        }
        if try hooks.visit(scaleHook, &scale) {
            // Recompute `normalized = (x − mean) / scale` with the edited scale.
            // Same arithmetic as the kernel, so re-writing an unchanged scale is bit-exact.
            let invDim = 1 / Float(d)
            for r in 0..<rows {
                var sum: Float = 0
                for i in 0..<d { sum += x.storage[r * d + i] }
                let mean = sum * invDim
                let inv = 1 / scale.storage[r]
                for i in 0..<d { normalized.storage[r * d + i] = (x.storage[r * d + i] - mean) * inv }
            }
        }
        let scaleEdited = hooks.isEdited(scaleHook)
        if try hooks.visit(normalizedHook, &normalized) || scaleEdited {
            for r in 0..<rows {
                for i in 0..<d { out.storage[r * d + i] = normalized.storage[r * d + i] * gain.storage[i] + bias.storage[i] }
            }
        }
        return out
    }
}
