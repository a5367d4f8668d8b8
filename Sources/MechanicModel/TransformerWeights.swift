import MechanicTensor

/// The parameters of a transformer, under Swift names, in one layout for every family.
///
/// Linear weights are `[in, out]` (GPT-2's Conv1D layout), so `y = x · W + b`. The query, key and
/// value projections are fused column-wise as `[dModel, (heads + 2·kvHeads)·dHead]`: all query
/// heads, then all key heads, then all value heads. Families that store `nn.Linear` `[out, in]`
/// or another fusion are converted once by the loader (see `Families/`). Absent parts are `nil`:
/// biases of bias-free families, learned positions of rotary models, the unembedding when tied.
public struct TransformerWeights: Sendable {
    /// Token embedding `[vocab, dModel]`; also the unembedding when ``unembedding`` is `nil`.
    public var tokenEmbedding: Tensor
    /// Learned positions `[context, dModel]`; `nil` for rotary models.
    public var positionEmbedding: Tensor?
    /// Untied unembedding `[vocab, dModel]` (rows are tokens, like the embedding).
    public var unembedding: Tensor?
    public var blocks: [BlockWeights]
    /// Final norm gain and (LayerNorm only) bias `[dModel]`.
    public var finalNormGain: Tensor
    public var finalNormBias: Tensor?

    public init(tokenEmbedding: Tensor, positionEmbedding: Tensor?, unembedding: Tensor? = nil, blocks: [BlockWeights],
                finalNormGain: Tensor, finalNormBias: Tensor?) {
        self.tokenEmbedding = tokenEmbedding
        self.positionEmbedding = positionEmbedding
        self.unembedding = unembedding
        self.blocks = blocks
        self.finalNormGain = finalNormGain
        self.finalNormBias = finalNormBias
    }

    /// The matrix whose rows are unembedded: ``unembedding`` or, when tied, the token embedding.
    public var unembeddingMatrix: Tensor { unembedding ?? tokenEmbedding }
}

/// One transformer block's parameters.
public struct BlockWeights: Sendable {
    /// Norm before attention: gain and (LayerNorm only) bias `[dModel]`.
    public var ln1Gain: Tensor
    public var ln1Bias: Tensor?
    /// Fused query/key/value projection `[dModel, (heads + 2·kvHeads)·dHead]` and bias.
    public var qkvWeight: Tensor
    public var qkvBias: Tensor?
    /// RMS-norm gains of each query and key head `[dHead]` (QK-norm models).
    public var qNormGain: Tensor?
    public var kNormGain: Tensor?
    /// Attention output projection W_O `[heads·dHead, dModel]` and bias `[dModel]`.
    public var attnOutWeight: Tensor
    public var attnOutBias: Tensor?
    /// Norm of the attention output before it joins the residual (Gemma 2/3) `[dModel]`.
    public var attnPostNormGain: Tensor?
    /// The MLP sub-block; `nil` in attention-only models.
    public var mlp: MLPWeights?

    public init(ln1Gain: Tensor, ln1Bias: Tensor?, qkvWeight: Tensor, qkvBias: Tensor?,
                qNormGain: Tensor? = nil, kNormGain: Tensor? = nil,
                attnOutWeight: Tensor, attnOutBias: Tensor?, attnPostNormGain: Tensor? = nil, mlp: MLPWeights?) {
        self.ln1Gain = ln1Gain
        self.ln1Bias = ln1Bias
        self.qkvWeight = qkvWeight
        self.qkvBias = qkvBias
        self.qNormGain = qNormGain
        self.kNormGain = kNormGain
        self.attnOutWeight = attnOutWeight
        self.attnOutBias = attnOutBias
        self.attnPostNormGain = attnPostNormGain
        self.mlp = mlp
    }
}

/// An MLP sub-block's parameters, with the norm in front of it.
public struct MLPWeights: Sendable {
    /// Norm before the MLP: gain and (LayerNorm only) bias `[dModel]`.
    public var ln2Gain: Tensor
    public var ln2Bias: Tensor?
    /// Input projection (`c_fc`, `dense_h_to_4h`, gated models' `up_proj`) `[dModel, dMLP]` and bias.
    public var inWeight: Tensor
    public var inBias: Tensor?
    /// Gate projection of gated MLPs (`gate_proj`) `[dModel, dMLP]` and bias.
    public var gateWeight: Tensor?
    public var gateBias: Tensor?
    /// Output projection (`c_proj`, `down_proj`) `[dMLP, dModel]` and bias.
    public var outWeight: Tensor
    public var outBias: Tensor?
    /// Norm of the MLP output before it joins the residual (Gemma 2/3) `[dModel]`.
    public var postNormGain: Tensor?

    public init(ln2Gain: Tensor, ln2Bias: Tensor?, inWeight: Tensor, inBias: Tensor?,
                gateWeight: Tensor? = nil, gateBias: Tensor? = nil,
                outWeight: Tensor, outBias: Tensor?, postNormGain: Tensor? = nil) {
        self.ln2Gain = ln2Gain
        self.ln2Bias = ln2Bias
        self.inWeight = inWeight
        self.inBias = inBias
        self.gateWeight = gateWeight
        self.gateBias = gateBias
        self.outWeight = outWeight
        self.outBias = outBias
        self.postNormGain = postNormGain
    }
}

extension TransformerWeights {
    /// Every parameter with its expected shape, under the Swift path used in errors and by the loader.
    ///
    /// The order is fixed (embeddings, blocks in order, final norm, unembedding) so the list
    /// doubles as a serialisation order. Only the parameters this configuration has are listed.
    public static func expectedShapes(for config: TransformerConfig) -> [(path: String, shape: [Int])] {
        let (d, v, c, m) = (config.dModel, config.vocabSize, config.contextLength, config.dMLP)
        let (qkv, a, dh) = ((config.heads + 2 * config.kvHeads) * config.dHead, config.dAttention, config.dHead)
        let (normBias, normGain) = (config.normHasBias, config.normHasGain)
        var shapes: [(String, [Int])] = [("tokenEmbedding", [v, d])]
        if config.hasLearnedPositions { shapes.append(("positionEmbedding", [c, d])) }
        for l in 0..<config.layers {
            let p = "blocks.\(l)."
            if normGain { shapes.append((p + "ln1Gain", [d])) }
            if normBias { shapes.append((p + "ln1Bias", [d])) }
            shapes.append((p + "qkvWeight", [d, qkv]))
            if config.qkvBias { shapes.append((p + "qkvBias", [qkv])) }
            if config.qkNorm { shapes += [(p + "qNormGain", [dh]), (p + "kNormGain", [dh])] }
            shapes.append((p + "attnOutWeight", [a, d]))
            if config.attentionOutBias { shapes.append((p + "attnOutBias", [d])) }
            if config.postNorms { shapes.append((p + "attnPostNormGain", [d])) }
            guard !config.attentionOnly else { continue }
            if normGain { shapes.append((p + "ln2Gain", [d])) }
            if normBias { shapes.append((p + "ln2Bias", [d])) }
            shapes.append((p + "mlpInWeight", [d, m]))
            if config.mlpBias { shapes.append((p + "mlpInBias", [m])) }
            if config.gatedMLP {
                shapes.append((p + "mlpGateWeight", [d, m]))
                if config.mlpBias { shapes.append((p + "mlpGateBias", [m])) }
            }
            shapes.append((p + "mlpOutWeight", [m, d]))
            if config.mlpBias { shapes.append((p + "mlpOutBias", [d])) }
            if config.postNorms { shapes.append((p + "mlpPostNormGain", [d])) }
        }
        if normGain { shapes.append(("finalNormGain", [d])) }
        if normBias { shapes.append(("finalNormBias", [d])) }
        if !config.tiedEmbeddings { shapes.append(("unembedding", [v, d])) }
        return shapes
    }

    /// Assembles weights from tensors keyed by Swift path (see ``expectedShapes(for:)``).
    ///
    /// - Parameter lookup: returns the tensor for a path; it is called once per path, in
    ///   ``constructionOrder(for:)``.
    public init(config: TransformerConfig, lookup: (String, [Int]) throws -> Tensor) throws {
        var tensors: [String: Tensor] = [:]
        for (path, shape) in TransformerWeights.constructionOrder(for: config) { tensors[path] = try lookup(path, shape) }
        // Without normalisation the norms are identities: their gains are ones, not parameters.
        func t(_ path: String) -> Tensor {
            if !config.normHasGain && path.hasSuffix("Gain") { return Tensor(shape: [config.dModel], repeating: 1) }
            return tensors[path]!
        }
        var blocks: [BlockWeights] = []
        for l in 0..<config.layers {
            let p = "blocks.\(l)."
            let mlp = config.attentionOnly ? nil : MLPWeights(
                ln2Gain: t(p + "ln2Gain"), ln2Bias: tensors[p + "ln2Bias"],
                inWeight: t(p + "mlpInWeight"), inBias: tensors[p + "mlpInBias"],
                gateWeight: tensors[p + "mlpGateWeight"], gateBias: tensors[p + "mlpGateBias"],
                outWeight: t(p + "mlpOutWeight"), outBias: tensors[p + "mlpOutBias"],
                postNormGain: tensors[p + "mlpPostNormGain"])
            blocks.append(BlockWeights(
                ln1Gain: t(p + "ln1Gain"), ln1Bias: tensors[p + "ln1Bias"],
                qkvWeight: t(p + "qkvWeight"), qkvBias: tensors[p + "qkvBias"],
                qNormGain: tensors[p + "qNormGain"], kNormGain: tensors[p + "kNormGain"],
                attnOutWeight: t(p + "attnOutWeight"), attnOutBias: tensors[p + "attnOutBias"],
                attnPostNormGain: tensors[p + "attnPostNormGain"], mlp: mlp))
        }
        self.init(tokenEmbedding: t("tokenEmbedding"), positionEmbedding: tensors["positionEmbedding"],
                  unembedding: tensors["unembedding"], blocks: blocks,
                  finalNormGain: t("finalNormGain"), finalNormBias: tensors["finalNormBias"])
    }

    /// The order in which ``init(config:lookup:)`` asks for parameters: each block's MLP, then its
    /// attention, then the embeddings, final norm and unembedding.
    ///
    /// Seeded initialisation (``random(config:seed:std:)``) draws in this order, so it is frozen:
    /// it is the order Mechanic has always drawn GPT-2 weights in, and changing it would change
    /// every seeded model, the trained reference models' initialisation included.
    public static func constructionOrder(for config: TransformerConfig) -> [(path: String, shape: [Int])] {
        let all = expectedShapes(for: config)
        var order: [(path: String, shape: [Int])] = []
        for l in 0..<config.layers {
            let block = all.filter { $0.path.hasPrefix("blocks.\(l).") }
            let isMLP = { (path: String) in
                let name = path.split(separator: ".")[2]
                return name.hasPrefix("mlp") || name.hasPrefix("ln2")
            }
            order += block.filter { isMLP($0.path) } + block.filter { !isMLP($0.path) }
        }
        return order + all.filter { !$0.path.hasPrefix("blocks.") }
    }

    /// The tensor at a Swift path (see ``expectedShapes(for:)``), `nil` when the model has no such parameter.
    public func tensor(at path: String) -> Tensor? {
        switch path {
        case "tokenEmbedding": return tokenEmbedding
        case "positionEmbedding": return positionEmbedding
        case "unembedding": return unembedding
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
        case "qNormGain": return b.qNormGain
        case "kNormGain": return b.kNormGain
        case "attnOutWeight": return b.attnOutWeight
        case "attnOutBias": return b.attnOutBias
        case "attnPostNormGain": return b.attnPostNormGain
        case "ln2Gain": return b.mlp?.ln2Gain
        case "ln2Bias": return b.mlp?.ln2Bias
        case "mlpInWeight": return b.mlp?.inWeight
        case "mlpInBias": return b.mlp?.inBias
        case "mlpGateWeight": return b.mlp?.gateWeight
        case "mlpGateBias": return b.mlp?.gateBias
        case "mlpOutWeight": return b.mlp?.outWeight
        case "mlpOutBias": return b.mlp?.outBias
        case "mlpPostNormGain": return b.mlp?.postNormGain
        default: return nil
        }
    }

    /// GPT-2's initialisation (HF `_init_weights`): normal(0, 0.02) weights, zero biases, unit
    /// norm gains, and output projections scaled by 1/√(2·layers). Seeded.
    public static func random(config: TransformerConfig, seed: UInt64, std: Float = 0.02) -> TransformerWeights {
        var rng = SeededRandom(seed: seed)
        let projectionStd = std / (2 * Float(config.layers)).squareRoot()
        // The closure cannot throw, so neither can the initialiser here.
        return try! TransformerWeights(config: config) { path, shape in
            if path.hasSuffix("Gain") { return Tensor(shape: shape, repeating: 1) }
            if path.hasSuffix("Bias") { return Tensor(shape: shape) }
            let s = path.hasSuffix("attnOutWeight") || path.hasSuffix("mlpOutWeight") ? projectionStd : std
            return Tensor.randomNormal(shape, std: s, using: &rng)
        }
    }
}

extension TransformerWeights {
    /// Every parameter's Swift path and key path, in ``expectedShapes(for:)`` order.
    ///
    /// Optimisers walk these to update weights, gradients and moment estimates that share
    /// this structure. Only the parameters this configuration has appear.
    public static func parameterKeyPaths(for config: TransformerConfig) -> [(path: String, keyPath: WritableKeyPath<TransformerWeights, Tensor>)] {
        expectedShapes(for: config).map { path, _ in (path, keyPath(of: path)) }
    }

    /// The key path of a parameter that the configuration has (see ``expectedShapes(for:)``).
    static func keyPath(of path: String) -> WritableKeyPath<TransformerWeights, Tensor> {
        switch path {
        case "tokenEmbedding": return \.tokenEmbedding
        case "positionEmbedding": return \.positionEmbedding!
        case "unembedding": return \.unembedding!
        case "finalNormGain": return \.finalNormGain
        case "finalNormBias": return \.finalNormBias!
        default: break
        }
        let parts = path.split(separator: ".")
        let l = Int(parts[1])!
        switch parts[2] {
        case "ln1Gain": return \.blocks[l].ln1Gain
        case "ln1Bias": return \.blocks[l].ln1Bias!
        case "qkvWeight": return \.blocks[l].qkvWeight
        case "qkvBias": return \.blocks[l].qkvBias!
        case "qNormGain": return \.blocks[l].qNormGain!
        case "kNormGain": return \.blocks[l].kNormGain!
        case "attnOutWeight": return \.blocks[l].attnOutWeight
        case "attnOutBias": return \.blocks[l].attnOutBias!
        case "attnPostNormGain": return \.blocks[l].attnPostNormGain!
        case "ln2Gain": return \.blocks[l].mlp!.ln2Gain
        case "ln2Bias": return \.blocks[l].mlp!.ln2Bias!
        case "mlpInWeight": return \.blocks[l].mlp!.inWeight
        case "mlpInBias": return \.blocks[l].mlp!.inBias!
        case "mlpGateWeight": return \.blocks[l].mlp!.gateWeight!
        case "mlpGateBias": return \.blocks[l].mlp!.gateBias!
        case "mlpOutWeight": return \.blocks[l].mlp!.outWeight
        case "mlpOutBias": return \.blocks[l].mlp!.outBias!
        case "mlpPostNormGain": return \.blocks[l].mlp!.postNormGain!
        default: preconditionFailure("unknown parameter path \(path)")
        }
    }

    /// Weights of the same structure with every tensor zero (gradient accumulators, moments).
    public static func zeros(config: TransformerConfig) -> TransformerWeights {
        // The closure cannot throw, so neither can the initialiser here.
        try! TransformerWeights(config: config) { _, shape in Tensor(shape: shape) }
    }
}
