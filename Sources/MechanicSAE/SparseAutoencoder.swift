import MechanicTensor

/// A sparse autoencoder that turns activation vectors into integer codes.
///
/// `h = act((x − b_pre)·W_encᵀ + b_enc)`, `x̂ = h·W_dec + b_pre`, with the pre-encoder bias tied to
/// the decoder bias. As in the reference code (charlieoneill11/sae-circuits, `src/sae.py`), each
/// weight is kept at unit norm along the last axis of its PyTorch `[out, in]` layout: every
/// encoder row (one per hidden unit) and, for the decoder, whose PyTorch weight is
/// `[input, hidden]`, every input dimension's weights over the hidden units, i.e. every *column*
/// of ``decoderWeight`` as stored here. The code of an input is the index of its largest hidden
/// activation (O'Neill & Bui 2024): discrete, so heads can be compared by the sets of codes they
/// produce on positive and negative prompts.
public struct SparseAutoencoder: Sendable, Equatable {
    public let configuration: SAEConfiguration
    /// Encoder rows `[hidden, input]`, each row unit norm.
    public internal(set) var encoderWeight: Tensor
    /// Encoder bias `[hidden]`.
    public internal(set) var encoderBias: Tensor
    /// Decoder `[hidden, input]` (row j is hidden unit j's dictionary atom); each *column* unit norm,
    /// as the reference normalises its `[input, hidden]` weight along the hidden axis.
    public internal(set) var decoderWeight: Tensor
    /// Tied pre-encoder / decoder bias `[input]`.
    public internal(set) var preBias: Tensor

    /// A seeded, untrained autoencoder started as the reference starts one: encoder rows drawn
    /// normal then scaled to unit norm, encoder bias uniform in ±1/√input (PyTorch's `Linear`
    /// default), an independent normal decoder scaled to unit columns, and the pre-bias at zero, or
    /// at `mean` when the configuration's ``SAEConfiguration/preBiasStart`` is `.trainingMean`.
    public init(configuration: SAEConfiguration, mean: Tensor? = nil) throws {
        if let problem = configuration.problem() { throw SAEError.invalidConfiguration(problem) }
        let (h, d) = (configuration.hiddenUnits, configuration.inputDimension)
        var rng = SeededRandom(seed: configuration.seed)
        encoderWeight = Tensor.randomNormal([h, d], std: 1, using: &rng)
        SparseAutoencoder.normalizeRows(&encoderWeight)
        let bound = 1 / Float(d).squareRoot()
        encoderBias = Tensor(shape: [h]) { b in for j in 0..<h { b[j] = (2 * rng.nextUniform() - 1) * bound } }
        decoderWeight = Tensor.randomNormal([h, d], std: 1, using: &rng)
        SparseAutoencoder.normalizeColumns(&decoderWeight)
        preBias = configuration.preBiasStart == .trainingMean ? (mean ?? Tensor(shape: [d])) : Tensor(shape: [d])
        self.configuration = configuration
    }

    /// An autoencoder with the given weights (encoder `[hidden, input]`, bias `[hidden]`, decoder
    /// `[hidden, input]`, pre-bias `[input]`), e.g. the starting point of another implementation.
    public init(configuration: SAEConfiguration, encoderWeight: Tensor, encoderBias: Tensor, decoderWeight: Tensor,
                preBias: Tensor, validating: Bool) throws {
        if let problem = configuration.problem() { throw SAEError.invalidConfiguration(problem) }
        let (h, d) = (configuration.hiddenUnits, configuration.inputDimension)
        for (name, t, shape) in [("encoder weight", encoderWeight, [h, d]), ("encoder bias", encoderBias, [h]),
                                 ("decoder weight", decoderWeight, [h, d]), ("pre-bias", preBias, [d])] where t.shape != shape {
            throw SAEError.invalidConfiguration("\(name) has shape \(t.shape), the configuration implies \(shape)")
        }
        self.init(configuration: configuration, encoderWeight: encoderWeight, encoderBias: encoderBias,
                  decoderWeight: decoderWeight, preBias: preBias)
    }

    init(configuration: SAEConfiguration, encoderWeight: Tensor, encoderBias: Tensor, decoderWeight: Tensor, preBias: Tensor) {
        self.configuration = configuration
        self.encoderWeight = encoderWeight
        self.encoderBias = encoderBias
        self.decoderWeight = decoderWeight
        self.preBias = preBias
    }

    /// Hidden activations `[n, hidden]` of inputs `[n, input]`.
    public func encode(_ x: Tensor) throws -> Tensor {
        try check(x)
        return encodeForward(x).hidden
    }

    /// Reconstructions `[n, input]` of hidden activations `[n, hidden]`.
    public func decode(_ hidden: Tensor) -> Tensor {
        var out = hidden.matmul(decoderWeight)                              // [n, input]
        out.addRowVector(preBias)
        return out
    }

    /// The code of each input: the index of its largest hidden activation (ties: the lowest index).
    public func codes(_ x: Tensor) throws -> [Int] {
        try check(x)
        return argmaxCodes(x)
    }

    /// Mean squared error per element and mean L1 norm of the hidden activations per example.
    public func losses(_ x: Tensor) throws -> (mse: Float, l1: Float) {
        try check(x)
        let forward = encodeForward(x)
        let reconstruction = decode(forward.hidden)
        var squared = 0.0
        for i in 0..<x.count { let e = Double(reconstruction.storage[i] - x.storage[i]); squared += e * e }
        let l1 = forward.hidden.storage.reduce(0.0) { $0 + Double(abs($1)) }
        return (Float(squared / Double(x.count)), Float(l1 / Double(x.shape[0])))
    }

    func check(_ x: Tensor) throws {
        guard x.rank == 2, x.shape[1] == configuration.inputDimension else {
            throw SAEError.wrongInputWidth(expected: configuration.inputDimension, found: x.shape.last ?? 0)
        }
    }

    /// Scales each column of a `[rows, cols]` tensor to unit L2 norm (zero columns stay zero).
    static func normalizeColumns(_ t: inout Tensor) {
        let (rows, cols) = (t.shape[0], t.shape[1])
        var sums = [Float](repeating: 0, count: cols)
        t.storage.withUnsafeMutableBufferPointer { ts in
            for r in 0..<rows { for c in 0..<cols { sums[c] += ts[r * cols + c] * ts[r * cols + c] } }
            let norms = sums.map { $0 > 0 ? $0.squareRoot() : 1 }
            for r in 0..<rows { for c in 0..<cols { ts[r * cols + c] /= norms[c] } }
        }
    }

    /// Scales each row of a `[rows, cols]` tensor to unit L2 norm (zero rows stay zero).
    static func normalizeRows(_ t: inout Tensor) {
        let (rows, cols) = (t.shape[0], t.shape[1])
        t.storage.withUnsafeMutableBufferPointer { ts in
            for r in 0..<rows {
                let row = ts.baseAddress! + r * cols
                var sum: Float = 0
                for c in 0..<cols { sum += row[c] * row[c] }
                guard sum > 0 else { continue }
                let norm = sum.squareRoot()
                for c in 0..<cols { row[c] /= norm }
            }
        }
    }
}
