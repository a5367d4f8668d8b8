/// How a discrete sparse autoencoder is shaped and trained.
///
/// Defaults are the protocol of O'Neill & Bui (2024)'s reference code (charlieoneill11/sae-circuits
/// at 10fd2e7): a 200-unit bottleneck shared by all heads, ReLU, MSE + λ·L1 with λ = 0.02, Adam at
/// 1e-3 for 500 full-batch epochs, a pre-encoder bias that starts at zero.
public struct SAEConfiguration: Codable, Equatable, Sendable {
    /// Where the tied pre-encoder / decoder bias starts.
    public enum PreBiasStart: String, Codable, Equatable, Sendable, CaseIterable {
        /// At zero: the reference code (it is given no geometric median, so its tied bias is zeros).
        case zero
        /// At the mean of the training rows. A departure from the reference, kept as an option
        /// because it matters: on the v1 reference models it moves node AUC by about ±0.15.
        case trainingMean = "training-mean"
    }

    /// How hidden activations are made sparse.
    public enum Activation: Codable, Equatable, Sendable {
        /// ReLU, sparsity from the L1 penalty.
        case relu
        /// ReLU, then only the `k` largest activations of each example are kept.
        case topK(Int)
    }

    /// Width of the input vectors (d_model for per-head results).
    public var inputDimension: Int
    /// Hidden units: the size of the code alphabet.
    public var hiddenUnits: Int = 200
    public var activation: Activation = .relu
    /// λ of the L1 penalty on hidden activations.
    public var l1Coefficient: Float = 0.02
    /// Adam learning rate.
    public var learningRate: Float = 1e-3
    /// Full-batch epochs.
    public var epochs: Int = 500
    /// Seed of the initial weights.
    public var seed: UInt64 = 0
    /// Where the pre-encoder bias starts (reference: zero).
    public var preBiasStart: PreBiasStart = .zero

    public init(inputDimension: Int, hiddenUnits: Int = 200, activation: Activation = .relu, l1Coefficient: Float = 0.02,
                learningRate: Float = 1e-3, epochs: Int = 500, seed: UInt64 = 0, preBiasStart: PreBiasStart = .zero) {
        self.preBiasStart = preBiasStart
        self.inputDimension = inputDimension
        self.hiddenUnits = hiddenUnits
        self.activation = activation
        self.l1Coefficient = l1Coefficient
        self.learningRate = learningRate
        self.epochs = epochs
        self.seed = seed
    }

    private enum CodingKeys: String, CodingKey {
        case inputDimension, hiddenUnits, activation, l1Coefficient, learningRate, epochs, seed, preBiasStart
    }

    /// Decodes a configuration; one saved before `preBiasStart` existed started at the training
    /// mean, and says so when read back.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        inputDimension = try c.decode(Int.self, forKey: .inputDimension)
        hiddenUnits = try c.decode(Int.self, forKey: .hiddenUnits)
        activation = try c.decode(Activation.self, forKey: .activation)
        l1Coefficient = try c.decode(Float.self, forKey: .l1Coefficient)
        learningRate = try c.decode(Float.self, forKey: .learningRate)
        epochs = try c.decode(Int.self, forKey: .epochs)
        seed = try c.decode(UInt64.self, forKey: .seed)
        preBiasStart = try c.decodeIfPresent(PreBiasStart.self, forKey: .preBiasStart) ?? .trainingMean
    }

    /// Why the configuration cannot be used, or `nil`.
    public func problem() -> String? {
        if inputDimension < 1 { return "input dimension must be positive" }
        if hiddenUnits < 1 { return "hidden units must be positive" }
        if case .topK(let k) = activation, k < 1 || k > hiddenUnits { return "top-k must be between 1 and the hidden units" }
        if !(l1Coefficient >= 0) { return "the L1 coefficient must be zero or positive" }
        if !(learningRate > 0) { return "the learning rate must be positive" }
        if epochs < 0 { return "epochs must not be negative" }
        return nil
    }
}

/// What went wrong with a sparse autoencoder: each case says what to do.
public enum SAEError: Error, CustomStringConvertible, Equatable {
    case invalidConfiguration(String)
    case wrongInputWidth(expected: Int, found: Int)
    case emptyData
    case nonFiniteData
    case unreadable(path: String, reason: String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let reason): return "invalid SAE configuration: \(reason)"
        case .wrongInputWidth(let expected, let found):
            return "the SAE takes \(expected)-wide inputs, got \(found)-wide ones. Train it on activations of this model."
        case .emptyData: return "no training data: capture some activations first"
        case .nonFiniteData: return "the training data contains NaN or infinity"
        case .unreadable(let path, let reason): return "\(path): \(reason). Point at a folder written by SparseAutoencoder.save(to:)."
        }
    }
}
