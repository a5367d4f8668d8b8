import MechanicTensor

extension Transformer {
    /// The MLP sub-block with TransformerLens hooks.
    ///
    /// Plain (GPT-2, NeoX): `out(act(in(x)))`, `hook_pre` = `in(x)`. Gated (SwiGLU, GeGLU):
    /// `out(act(gate(x)) · up(x))`, `hook_pre` = `gate(x)` and `hook_pre_linear` = `up(x)`, as
    /// TransformerLens's `GatedMLP` names them. `hook_post` is the input of the output projection.
    ///
    /// - Parameter x: the normed residual `[batch, pos, dModel]`.
    /// - Returns: the MLP output before any post-norm, `[batch, pos, dModel]`.
    func mlpForward(_ layer: Int, _ w: MLPWeights, _ x: Tensor, hooks: inout HookRunner) throws -> Tensor {
        var hidden: Tensor                                                   // [batch, pos, dMLP]
        var linear: Tensor? = nil                                            // [batch, pos, dMLP], gated MLPs
        if let gate = w.gateWeight {
            hidden = linearForward(x, gate, w.gateBias)
            try hooks.visit(.mlpPre(layer), &hidden)
            var up = linearForward(x, w.inWeight, w.inBias)
            try hooks.visit(.mlpPreLinear(layer), &up)
            linear = up
        } else {
            hidden = linearForward(x, w.inWeight, w.inBias)
            try hooks.visit(.mlpPre(layer), &hidden)
        }
        let activation = config.activation
        hidden.storage.withUnsafeMutableBufferPointer { h in
            let base = h.baseAddress!
            Kernels.parallelFor(h.count, minimumChunk: 1 << 15) { range in
                activation.apply(base + range.lowerBound, count: range.count)
            }
            if let linear {
                linear.storage.withUnsafeBufferPointer { l in Kernels.multiply(l.baseAddress!, into: base, count: h.count) }
            }
        }
        try hooks.visit(.mlpPost(layer), &hidden)
        return linearForward(hidden, w.outWeight, w.outBias)                 // [batch, pos, dModel]
    }
}

extension TransformerConfig.Activation {
    /// The nonlinearity in place on `count` values (the forward pass and gradient runs share it).
    public func apply(_ x: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .geluTanh: Kernels.geluNew(x, count: count)
        case .geluExact: Kernels.geluExactVector(x, count: count)
        case .silu: Kernels.silu(x, count: count)
        case .relu: Kernels.relu(x, count: count)
        }
    }
}
