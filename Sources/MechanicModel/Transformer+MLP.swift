import MechanicTensor

extension GPT2Model {
    /// The MLP sub-block, HF `GPT2MLP`: `c_proj(gelu_new(c_fc(x)))`, with TransformerLens hooks.
    ///
    /// - Parameter x: the layer-normed residual `[batch, pos, dModel]`.
    /// - Returns: `hook_mlp_out` before its hook, `[batch, pos, dModel]`.
    func mlpForward(_ layer: Int, _ w: MLPWeights, _ x: Tensor, hooks: inout HookRunner) throws -> Tensor {
        var hidden = linearForward(x, w.inWeight, w.inBias)                  // [batch, pos, dMLP]
        try hooks.visit(.mlpPre(layer), &hidden)
        hidden.storage.withUnsafeMutableBufferPointer { h in
            let base = h.baseAddress!
            Kernels.parallelFor(h.count, minimumChunk: 1 << 15) { range in
                Kernels.geluNew(base + range.lowerBound, count: range.count)
            }
        }
        try hooks.visit(.mlpPost(layer), &hidden)
        return linearForward(hidden, w.outWeight, w.outBias)                 // [batch, pos, dModel]
    }
}
