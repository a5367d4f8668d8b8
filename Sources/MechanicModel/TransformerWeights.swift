import MechanicTensor

/// The parameters of a GPT-2-family model, under Swift names.
///
/// Linear weights keep the checkpoint's Conv1D layout `[in, out]`, so `y = x · W + b` and
/// loading a Hugging Face GPT-2 is a name-by-name copy with no transposes
/// (``CheckpointLoader`` holds the mapping). The unembedding is tied to ``tokenEmbedding``.
public struct GPT2Weights: Sendable {
    /// `wte` `[vocab, dModel]`; also the (tied) unembedding.
    public var tokenEmbedding: Tensor
    /// `wpe` `[context, dModel]`.
    public var positionEmbedding: Tensor
    public var blocks: [BlockWeights]
    /// `ln_f` gain and bias `[dModel]`.
    public var finalNormGain: Tensor
    public var finalNormBias: Tensor

    public init(tokenEmbedding: Tensor, positionEmbedding: Tensor, blocks: [BlockWeights], finalNormGain: Tensor, finalNormBias: Tensor) {
        self.tokenEmbedding = tokenEmbedding
        self.positionEmbedding = positionEmbedding
        self.blocks = blocks
        self.finalNormGain = finalNormGain
        self.finalNormBias = finalNormBias
    }
}

/// One transformer block's parameters.
public struct BlockWeights: Sendable {
    /// `ln_1` gain and bias `[dModel]`.
    public var ln1Gain: Tensor
    public var ln1Bias: Tensor
    /// Fused query/key/value projection `c_attn` `[dModel, 3·dModel]` and bias `[3·dModel]`.
    public var qkvWeight: Tensor
    public var qkvBias: Tensor
    /// Attention output projection `c_proj` (W_O) `[dModel, dModel]` and bias `[dModel]`.
    public var attnOutWeight: Tensor
    public var attnOutBias: Tensor
    /// The MLP sub-block; `nil` in attention-only models.
    public var mlp: MLPWeights?

    public init(ln1Gain: Tensor, ln1Bias: Tensor, qkvWeight: Tensor, qkvBias: Tensor,
                attnOutWeight: Tensor, attnOutBias: Tensor, mlp: MLPWeights?) {
        self.ln1Gain = ln1Gain
        self.ln1Bias = ln1Bias
        self.qkvWeight = qkvWeight
        self.qkvBias = qkvBias
        self.attnOutWeight = attnOutWeight
        self.attnOutBias = attnOutBias
        self.mlp = mlp
    }
}

/// An MLP sub-block's parameters, with the layer norm in front of it.
public struct MLPWeights: Sendable {
    /// `ln_2` gain and bias `[dModel]`.
    public var ln2Gain: Tensor
    public var ln2Bias: Tensor
    /// `mlp.c_fc` `[dModel, dMLP]` and bias `[dMLP]`.
    public var inWeight: Tensor
    public var inBias: Tensor
    /// `mlp.c_proj` `[dMLP, dModel]` and bias `[dModel]`.
    public var outWeight: Tensor
    public var outBias: Tensor

    public init(ln2Gain: Tensor, ln2Bias: Tensor, inWeight: Tensor, inBias: Tensor, outWeight: Tensor, outBias: Tensor) {
        self.ln2Gain = ln2Gain
        self.ln2Bias = ln2Bias
        self.inWeight = inWeight
        self.inBias = inBias
        self.outWeight = outWeight
        self.outBias = outBias
    }
}

extension GPT2Weights {
    /// Every parameter with its expected shape, under the Swift path used in errors and by the loader.
    ///
    /// The order is fixed (embeddings, blocks in order, final norm) so the list doubles as a
    /// serialisation order.
    public static func expectedShapes(for config: GPT2Config) -> [(path: String, shape: [Int])] {
        let (d, v, c, m) = (config.dModel, config.vocabSize, config.contextLength, config.dMLP)
        var shapes: [(String, [Int])] = [("tokenEmbedding", [v, d]), ("positionEmbedding", [c, d])]
        for l in 0..<config.layers {
            shapes += [
                ("blocks.\(l).ln1Gain", [d]), ("blocks.\(l).ln1Bias", [d]),
                ("blocks.\(l).qkvWeight", [d, 3 * d]), ("blocks.\(l).qkvBias", [3 * d]),
                ("blocks.\(l).attnOutWeight", [d, d]), ("blocks.\(l).attnOutBias", [d]),
            ]
            if !config.attentionOnly {
                shapes += [
                    ("blocks.\(l).ln2Gain", [d]), ("blocks.\(l).ln2Bias", [d]),
                    ("blocks.\(l).mlpInWeight", [d, m]), ("blocks.\(l).mlpInBias", [m]),
                    ("blocks.\(l).mlpOutWeight", [m, d]), ("blocks.\(l).mlpOutBias", [d]),
                ]
            }
        }
        return shapes + [("finalNormGain", [d]), ("finalNormBias", [d])]
    }

    /// Assembles weights from tensors keyed by Swift path (see ``expectedShapes(for:)``).
    ///
    /// - Parameter lookup: returns the tensor for a path; it is called once per path, in order.
    public init(config: GPT2Config, lookup: (String, [Int]) throws -> Tensor) throws {
        let shapes = Dictionary(uniqueKeysWithValues: GPT2Weights.expectedShapes(for: config).map { ($0.path, $0.shape) })
        func t(_ path: String) throws -> Tensor {
            try lookup(path, shapes[path]!)
        }
        var blocks: [BlockWeights] = []
        for l in 0..<config.layers {
            let p = "blocks.\(l)."
            let mlp = config.attentionOnly ? nil : try MLPWeights(
                ln2Gain: t(p + "ln2Gain"), ln2Bias: t(p + "ln2Bias"),
                inWeight: t(p + "mlpInWeight"), inBias: t(p + "mlpInBias"),
                outWeight: t(p + "mlpOutWeight"), outBias: t(p + "mlpOutBias"))
            blocks.append(try BlockWeights(
                ln1Gain: t(p + "ln1Gain"), ln1Bias: t(p + "ln1Bias"),
                qkvWeight: t(p + "qkvWeight"), qkvBias: t(p + "qkvBias"),
                attnOutWeight: t(p + "attnOutWeight"), attnOutBias: t(p + "attnOutBias"), mlp: mlp))
        }
        self.init(tokenEmbedding: try t("tokenEmbedding"), positionEmbedding: try t("positionEmbedding"),
                  blocks: blocks, finalNormGain: try t("finalNormGain"), finalNormBias: try t("finalNormBias"))
    }

    /// The tensor at a Swift path (see ``expectedShapes(for:)``), `nil` when the model has no such parameter.
    public func tensor(at path: String) -> Tensor? {
        switch path {
        case "tokenEmbedding": return tokenEmbedding
        case "positionEmbedding": return positionEmbedding
        case "finalNormGain": return finalNormGain
        case "finalNormBias": return finalNormBias
        default: break
        }
        let parts = path.split(separator: ".")
        guard parts.count == 3, parts[0] == "blocks", let l = Int(parts[1]), blocks.indices.contains(l) else { return nil }
        let b = blocks[l]
        switch parts[2] {
        case "ln1Gain": return b.ln1Gain
        case "ln1Bias": return b.ln1Bias
        case "qkvWeight": return b.qkvWeight
        case "qkvBias": return b.qkvBias
        case "attnOutWeight": return b.attnOutWeight
        case "attnOutBias": return b.attnOutBias
        case "ln2Gain": return b.mlp?.ln2Gain
        case "ln2Bias": return b.mlp?.ln2Bias
        case "mlpInWeight": return b.mlp?.inWeight
        case "mlpInBias": return b.mlp?.inBias
        case "mlpOutWeight": return b.mlp?.outWeight
        case "mlpOutBias": return b.mlp?.outBias
        default: return nil
        }
    }

    /// GPT-2's initialisation (HF `_init_weights`): normal(0, 0.02) weights, zero biases, unit
    /// norm gains, and output projections scaled by 1/√(2·layers). Seeded.
    public static func random(config: GPT2Config, seed: UInt64, std: Float = 0.02) -> GPT2Weights {
        var rng = SeededRandom(seed: seed)
        let projectionStd = std / (2 * Float(config.layers)).squareRoot()
        // The closure cannot throw, so neither can the initialiser here.
        return try! GPT2Weights(config: config) { path, shape in
            if path.hasSuffix("Gain") { return Tensor(shape: shape, repeating: 1) }
            if path.hasSuffix("Bias") { return Tensor(shape: shape) }
            let s = path.hasSuffix("attnOutWeight") || path.hasSuffix("mlpOutWeight") ? projectionStd : std
            return Tensor.randomNormal(shape, std: s, using: &rng)
        }
    }
}

extension GPT2Weights {
    /// Every parameter's Swift path and key path, in ``expectedShapes(for:)`` order.
    ///
    /// Optimisers walk these to update weights, gradients and moment estimates that share
    /// this structure. MLP key paths appear only for configurations that have MLPs.
    public static func parameterKeyPaths(for config: GPT2Config) -> [(path: String, keyPath: WritableKeyPath<GPT2Weights, Tensor>)] {
        var paths: [(String, WritableKeyPath<GPT2Weights, Tensor>)] = [
            ("tokenEmbedding", \.tokenEmbedding), ("positionEmbedding", \.positionEmbedding),
        ]
        for l in 0..<config.layers {
            let p = "blocks.\(l)."
            paths += [
                (p + "ln1Gain", \.blocks[l].ln1Gain), (p + "ln1Bias", \.blocks[l].ln1Bias),
                (p + "qkvWeight", \.blocks[l].qkvWeight), (p + "qkvBias", \.blocks[l].qkvBias),
                (p + "attnOutWeight", \.blocks[l].attnOutWeight), (p + "attnOutBias", \.blocks[l].attnOutBias),
            ]
            if !config.attentionOnly {
                paths += [
                    (p + "ln2Gain", \.blocks[l].mlp!.ln2Gain), (p + "ln2Bias", \.blocks[l].mlp!.ln2Bias),
                    (p + "mlpInWeight", \.blocks[l].mlp!.inWeight), (p + "mlpInBias", \.blocks[l].mlp!.inBias),
                    (p + "mlpOutWeight", \.blocks[l].mlp!.outWeight), (p + "mlpOutBias", \.blocks[l].mlp!.outBias),
                ]
            }
        }
        return paths + [("finalNormGain", \.finalNormGain), ("finalNormBias", \.finalNormBias)]
    }

    /// Weights of the same structure with every tensor zero (gradient accumulators, moments).
    public static func zeros(config: GPT2Config) -> GPT2Weights {
        // The closure cannot throw, so neither can the initialiser here.
        try! GPT2Weights(config: config) { _, shape in Tensor(shape: shape) }
    }
}
