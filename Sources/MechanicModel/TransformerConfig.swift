import Foundation

/// The shape and numerics of a GPT-2-family model, read from and written to HF `config.json`.
///
/// Keys follow Hugging Face `GPT2Config`; defaults are HF's. One extension: `attn_only`
/// (TransformerLens `attn-only-Nl` style) drops every MLP sub-block and its layer norm.
public struct GPT2Config: Codable, Equatable, Sendable {
    /// Number of transformer blocks (`n_layer`, default 12).
    public var layers: Int
    /// Attention heads per block (`n_head`, default 12).
    public var heads: Int
    /// Width of the residual stream (`n_embd`, default 768).
    public var dModel: Int
    /// Context length: number of learned positions (`n_positions`, default 1024).
    public var contextLength: Int
    /// Vocabulary size (`vocab_size`, default 50257).
    public var vocabSize: Int
    /// MLP hidden width (`n_inner`; `nil` means 4 × dModel).
    public var innerDimension: Int?
    /// Layer-norm epsilon (`layer_norm_epsilon`, default 1e-5).
    public var layerNormEpsilon: Float
    /// MLP activation (`activation_function`, default `gelu_new`; `gelu_new`, `gelu_pytorch_tanh` and `gelu` accepted).
    public var activation: String
    /// Whether the model has no MLP blocks (Mechanic extension `attn_only`, default false).
    public var attentionOnly: Bool
    /// Divide attention scores by √dHead (`scale_attn_weights`, default true).
    public var scaleAttentionWeights: Bool
    /// HF's per-layer score scaling (`scale_attn_by_inverse_layer_idx`, default false; unsupported when true).
    public var scaleByInverseLayerIndex: Bool
    /// Beginning- and end-of-sequence ids (`bos_token_id`, `eos_token_id`, default 50256).
    public var bosTokenID: Int
    public var eosTokenID: Int

    /// Width of one head: `dModel / heads`.
    public var dHead: Int { dModel / heads }
    /// MLP hidden width, resolving the HF default.
    public var dMLP: Int { innerDimension ?? 4 * dModel }

    enum CodingKeys: String, CodingKey {
        case layers = "n_layer"
        case heads = "n_head"
        case dModel = "n_embd"
        case contextLength = "n_positions"
        case vocabSize = "vocab_size"
        case innerDimension = "n_inner"
        case layerNormEpsilon = "layer_norm_epsilon"
        case activation = "activation_function"
        case attentionOnly = "attn_only"
        case scaleAttentionWeights = "scale_attn_weights"
        case scaleByInverseLayerIndex = "scale_attn_by_inverse_layer_idx"
        case bosTokenID = "bos_token_id"
        case eosTokenID = "eos_token_id"
        case modelType = "model_type"
        case architectures
    }

    /// A configuration; defaults are GPT-2 small's.
    public init(
        layers: Int = 12, heads: Int = 12, dModel: Int = 768, contextLength: Int = 1024,
        vocabSize: Int = 50257, innerDimension: Int? = nil, layerNormEpsilon: Float = 1e-5,
        activation: String = "gelu_new", attentionOnly: Bool = false,
        scaleAttentionWeights: Bool = true, scaleByInverseLayerIndex: Bool = false,
        bosTokenID: Int = 50256, eosTokenID: Int = 50256
    ) {
        self.layers = layers
        self.heads = heads
        self.dModel = dModel
        self.contextLength = contextLength
        self.vocabSize = vocabSize
        self.innerDimension = innerDimension
        self.layerNormEpsilon = layerNormEpsilon
        self.activation = activation
        self.attentionOnly = attentionOnly
        self.scaleAttentionWeights = scaleAttentionWeights
        self.scaleByInverseLayerIndex = scaleByInverseLayerIndex
        self.bosTokenID = bosTokenID
        self.eosTokenID = eosTokenID
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = GPT2Config()
        layers = try c.decodeIfPresent(Int.self, forKey: .layers) ?? defaults.layers
        heads = try c.decodeIfPresent(Int.self, forKey: .heads) ?? defaults.heads
        dModel = try c.decodeIfPresent(Int.self, forKey: .dModel) ?? defaults.dModel
        contextLength = try c.decodeIfPresent(Int.self, forKey: .contextLength) ?? defaults.contextLength
        vocabSize = try c.decodeIfPresent(Int.self, forKey: .vocabSize) ?? defaults.vocabSize
        innerDimension = try c.decodeIfPresent(Int.self, forKey: .innerDimension)
        layerNormEpsilon = try c.decodeIfPresent(Float.self, forKey: .layerNormEpsilon) ?? defaults.layerNormEpsilon
        activation = try c.decodeIfPresent(String.self, forKey: .activation) ?? defaults.activation
        attentionOnly = try c.decodeIfPresent(Bool.self, forKey: .attentionOnly) ?? false
        scaleAttentionWeights = try c.decodeIfPresent(Bool.self, forKey: .scaleAttentionWeights) ?? true
        scaleByInverseLayerIndex = try c.decodeIfPresent(Bool.self, forKey: .scaleByInverseLayerIndex) ?? false
        bosTokenID = try c.decodeIfPresent(Int.self, forKey: .bosTokenID) ?? defaults.bosTokenID
        eosTokenID = try c.decodeIfPresent(Int.self, forKey: .eosTokenID) ?? defaults.eosTokenID
        if let type = try c.decodeIfPresent(String.self, forKey: .modelType), type != "gpt2" {
            throw ConfigProblem("model_type is \"\(type)\"; Mechanic loads GPT-2-family checkpoints (model_type \"gpt2\")")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(layers, forKey: .layers)
        try c.encode(heads, forKey: .heads)
        try c.encode(dModel, forKey: .dModel)
        try c.encode(contextLength, forKey: .contextLength)
        try c.encode(vocabSize, forKey: .vocabSize)
        try c.encode(innerDimension, forKey: .innerDimension)
        try c.encode(layerNormEpsilon, forKey: .layerNormEpsilon)
        try c.encode(activation, forKey: .activation)
        if attentionOnly { try c.encode(true, forKey: .attentionOnly) }
        try c.encode(scaleAttentionWeights, forKey: .scaleAttentionWeights)
        try c.encode(scaleByInverseLayerIndex, forKey: .scaleByInverseLayerIndex)
        try c.encode(bosTokenID, forKey: .bosTokenID)
        try c.encode(eosTokenID, forKey: .eosTokenID)
        try c.encode("gpt2", forKey: .modelType)
        try c.encode(["GPT2LMHeadModel"], forKey: .architectures)
    }

    /// Why a configuration cannot be used, or `nil` when it is sane.
    public func problem() -> String? {
        if layers < 1 || layers > 1024 { return "n_layer is \(layers); expected 1…1024" }
        if heads < 1 || heads > 1024 { return "n_head is \(heads); expected 1…1024" }
        if dModel < 1 || dModel > 65536 { return "n_embd is \(dModel); expected 1…65536" }
        if dModel % heads != 0 { return "n_embd \(dModel) is not divisible by n_head \(heads)" }
        if contextLength < 1 || contextLength > 1 << 20 { return "n_positions is \(contextLength); expected 1…1048576" }
        if vocabSize < 1 || vocabSize > 1 << 24 { return "vocab_size is \(vocabSize); expected 1…16777216" }
        if let inner = innerDimension, inner < 1 || inner > 1 << 20 { return "n_inner is \(inner); expected 1…1048576 or null" }
        if !(layerNormEpsilon > 0 && layerNormEpsilon < 1) { return "layer_norm_epsilon is \(layerNormEpsilon); expected a small positive number" }
        if !["gelu_new", "gelu_pytorch_tanh", "gelu_fast"].contains(activation) {
            return "activation_function \"\(activation)\" is not supported; Mechanic implements gelu_new (tanh form)"
        }
        if scaleByInverseLayerIndex { return "scale_attn_by_inverse_layer_idx = true is not supported" }
        return nil
    }

    /// Number of parameters (tied unembedding counted once).
    public var parameterCount: Int {
        let attention = dModel * 3 * dModel + 3 * dModel + dModel * dModel + dModel + 2 * dModel
        let mlp = attentionOnly ? 0 : dModel * dMLP + dMLP + dMLP * dModel + dModel + 2 * dModel
        return vocabSize * dModel + contextLength * dModel + layers * (attention + mlp) + 2 * dModel
    }
}

/// A decoding failure with a human-readable reason (wrapped into ``ModelError/invalidConfig``).
struct ConfigProblem: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
