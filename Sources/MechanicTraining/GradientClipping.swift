import MechanicModel
import MechanicTensor

/// Global-norm gradient clipping, as `torch.nn.utils.clip_grad_norm_`.
public enum GradientClipping {
    /// The L2 norm of all gradients together.
    public static func globalNorm(_ gradients: TransformerWeights, config: TransformerConfig) -> Float {
        var sum = 0.0
        for (_, keyPath) in TransformerWeights.parameterKeyPaths(for: config) {
            for g in gradients[keyPath: keyPath].storage { sum += Double(g) * Double(g) }
        }
        return Float(sum.squareRoot())
    }

    /// Scales the gradients so their global norm is at most `maxNorm`; returns the norm before clipping.
    @discardableResult
    public static func clip(_ gradients: inout TransformerWeights, config: TransformerConfig, maxNorm: Float) -> Float {
        let norm = globalNorm(gradients, config: config)
        guard norm > maxNorm, norm.isFinite else { return norm }
        let factor = maxNorm / (norm + 1e-6)
        for (_, keyPath) in TransformerWeights.parameterKeyPaths(for: config) {
            gradients[keyPath: keyPath].storage.withUnsafeMutableBufferPointer { g in
                Kernels.scale(g.baseAddress!, by: factor, count: g.count)
            }
        }
        return norm
    }
}
