import MechanicModel
import MechanicTensor

/// AdamW (Loshchilov & Hutter): Adam moments with decoupled weight decay, as PyTorch's `torch.optim.AdamW`.
///
/// Moments share the weights' structure, so one walk over ``TransformerWeights/parameterKeyPaths(for:)``
/// updates everything. Following GPT-2/nanoGPT practice, weight decay applies to matrices and
/// embeddings only, never to biases or layer-norm gains.
public struct AdamW: Sendable {
    public struct Hyperparameters: Codable, Equatable, Sendable {
        public var beta1: Float = 0.9
        public var beta2: Float = 0.95
        public var epsilon: Float = 1e-8
        public var weightDecay: Float = 0.1

        public init(beta1: Float = 0.9, beta2: Float = 0.95, epsilon: Float = 1e-8, weightDecay: Float = 0.1) {
            self.beta1 = beta1
            self.beta2 = beta2
            self.epsilon = epsilon
            self.weightDecay = weightDecay
        }
    }

    public let config: TransformerConfig
    public var hyperparameters: Hyperparameters
    /// First and second moment estimates, shaped like the weights.
    public var firstMoment: TransformerWeights
    public var secondMoment: TransformerWeights
    /// Number of updates taken so far (bias correction uses it).
    public var step: Int

    public init(config: TransformerConfig, hyperparameters: Hyperparameters = .init()) {
        self.config = config
        self.hyperparameters = hyperparameters
        self.firstMoment = .zeros(config: config)
        self.secondMoment = .zeros(config: config)
        self.step = 0
    }

    /// Whether a parameter is decayed: 2-D tensors (matrices and embeddings).
    public static func isDecayed(_ path: String, shape: [Int]) -> Bool {
        shape.count >= 2
    }

    /// One update of `weights` with `gradients` at `learningRate`.
    public mutating func update(_ weights: inout TransformerWeights, gradients: TransformerWeights, learningRate: Float) {
        step += 1
        let h = hyperparameters
        let correction1 = 1 - Float(Double(h.beta1).power(step))
        let correction2 = 1 - Float(Double(h.beta2).power(step))
        for (path, keyPath) in TransformerWeights.parameterKeyPaths(for: config) {
            let decay = AdamW.isDecayed(path, shape: weights[keyPath: keyPath].shape) ? h.weightDecay : 0
            let g = gradients[keyPath: keyPath]
            weights[keyPath: keyPath].storage.withUnsafeMutableBufferPointer { p in
                firstMoment[keyPath: keyPath].storage.withUnsafeMutableBufferPointer { m in
                    secondMoment[keyPath: keyPath].storage.withUnsafeMutableBufferPointer { v in
                        g.storage.withUnsafeBufferPointer { g in
                            for i in 0..<p.count {
                                m[i] = h.beta1 * m[i] + (1 - h.beta1) * g[i]
                                v[i] = h.beta2 * v[i] + (1 - h.beta2) * g[i] * g[i]
                                let mHat = m[i] / correction1
                                let vHat = v[i] / correction2
                                p[i] -= learningRate * (mHat / (vHat.squareRoot() + h.epsilon) + decay * p[i])
                            }
                        }
                    }
                }
            }
        }
    }
}

extension Double {
    func power(_ n: Int) -> Double {
        var result = 1.0
        for _ in 0..<n { result *= self }
        return result
    }
}
