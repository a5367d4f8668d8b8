import Foundation

/// GPT-2 (`GPT2LMHeadModel`): learned positions, LayerNorm, fused Conv1D `c_attn` `[in, out]`
/// (already Mechanic's layout: nothing is transposed), GELU (tanh), tied unembedding.
///
/// One Mechanic extension: `"attn_only": true` drops every MLP and its norm (TransformerLens
/// `attn-only-Nl` models). Checkpoints saved from `GPT2Model` have no `transformer.` prefix.
public enum GPT2Family: ModelFamily {
    public static let summary = "LayerNorm, learned positions, fused Conv1D q/k/v, GELU (tanh), tied unembedding; \"attn_only\" drops the MLPs"
    public static let modelTypes = ["gpt2"]
    public static let prefixes = ["", "transformer."]

    public static func config(_ json: ConfigJSON) throws -> TransformerConfig {
        let defaults = TransformerConfig()
        if try json.bool("scale_attn_by_inverse_layer_idx") == true {
            throw UnsupportedFeature("scale_attn_by_inverse_layer_idx = true")
        }
        if try json.bool("reorder_and_upcast_attn") == true {
            throw UnsupportedFeature("reorder_and_upcast_attn = true")
        }
        let name = try json.string("activation_function") ?? "gelu_new"
        guard ["gelu_new", "gelu_pytorch_tanh", "gelu_fast"].contains(name) else {
            throw ConfigProblem("activation_function \"\(name.prefix(40))\" is not supported; Mechanic implements gelu_new (tanh form)")
        }
        if let d = try json.int("n_embd", in: Limits.width), let h = try json.int("n_head", in: Limits.heads), d % h != 0 {
            throw ConfigProblem("n_embd \(d) is not divisible by n_head \(h)")
        }
        return TransformerConfig(
            layers: try json.int("n_layer", in: Limits.layers) ?? defaults.layers,
            heads: try json.int("n_head", in: Limits.heads) ?? defaults.heads,
            dModel: try json.int("n_embd", in: Limits.width) ?? defaults.dModel,
            contextLength: try json.int("n_positions", in: Limits.context) ?? defaults.contextLength,
            vocabSize: try json.int("vocab_size", in: Limits.vocabulary) ?? defaults.vocabSize,
            innerDimension: try json.int("n_inner", in: Limits.mlp),
            layerNormEpsilon: try json.epsilon("layer_norm_epsilon") ?? defaults.layerNormEpsilon,
            activation: .geluTanh,
            attentionOnly: try json.bool("attn_only") ?? false,
            scaleAttentionWeights: try json.bool("scale_attn_weights") ?? true,
            bosTokenID: try json.tokenID("bos_token_id") ?? defaults.bosTokenID,
            eosTokenID: try json.tokenID("eos_token_id") ?? defaults.eosTokenID)
    }

    public static func source(of path: String, config: TransformerConfig) -> TensorSource {
        switch path {
        case "tokenEmbedding": return .tensor("wte.weight")
        case "positionEmbedding": return .tensor("wpe.weight")
        case "finalNormGain": return .tensor("ln_f.weight")
        case "finalNormBias": return .tensor("ln_f.bias")
        default: break
        }
        let parts = path.split(separator: ".")
        let suffix: String
        switch parts[2] {
        case "ln1Gain": suffix = "ln_1.weight"
        case "ln1Bias": suffix = "ln_1.bias"
        case "qkvWeight": suffix = "attn.c_attn.weight"
        case "qkvBias": suffix = "attn.c_attn.bias"
        case "attnOutWeight": suffix = "attn.c_proj.weight"
        case "attnOutBias": suffix = "attn.c_proj.bias"
        case "ln2Gain": suffix = "ln_2.weight"
        case "ln2Bias": suffix = "ln_2.bias"
        case "mlpInWeight": suffix = "mlp.c_fc.weight"
        case "mlpInBias": suffix = "mlp.c_fc.bias"
        case "mlpOutWeight": suffix = "mlp.c_proj.weight"
        case "mlpOutBias": suffix = "mlp.c_proj.bias"
        default: preconditionFailure("unknown parameter path \(path)")
        }
        return .tensor("h.\(parts[1]).\(suffix)")
    }
}

/// A GPT-2 configuration written as HF `GPT2Config` writes `config.json` (the only family
/// Mechanic writes: it trains GPT-2-architecture models).
extension TransformerConfig: Encodable {
    enum GPT2Keys: String, CodingKey {
        case layers = "n_layer", heads = "n_head", dModel = "n_embd", contextLength = "n_positions"
        case vocabSize = "vocab_size", innerDimension = "n_inner", layerNormEpsilon = "layer_norm_epsilon"
        case activation = "activation_function", attentionOnly = "attn_only", scaleAttentionWeights = "scale_attn_weights"
        case scaleByInverseLayerIndex = "scale_attn_by_inverse_layer_idx"
        case bosTokenID = "bos_token_id", eosTokenID = "eos_token_id", modelType = "model_type", architectures
    }

    public func encode(to encoder: Encoder) throws {
        guard modelType == "gpt2" else {
            throw EncodingError.invalidValue(self, .init(codingPath: [], debugDescription: "Mechanic writes config.json for GPT-2 models only; this is \(modelType)"))
        }
        var c = encoder.container(keyedBy: GPT2Keys.self)
        try c.encode(layers, forKey: .layers)
        try c.encode(heads, forKey: .heads)
        try c.encode(dModel, forKey: .dModel)
        try c.encode(contextLength, forKey: .contextLength)
        try c.encode(vocabSize, forKey: .vocabSize)
        try c.encode(innerDimension, forKey: .innerDimension)
        try c.encode(layerNormEpsilon, forKey: .layerNormEpsilon)
        try c.encode("gelu_new", forKey: .activation)
        if attentionOnly { try c.encode(true, forKey: .attentionOnly) }
        try c.encode(attentionScale != 1 || dHead == 1, forKey: .scaleAttentionWeights)
        try c.encode(false, forKey: .scaleByInverseLayerIndex)
        // Ids outside the vocabulary (GPT-2's defaults on a small test vocabulary) name no token: left out.
        if (0..<vocabSize).contains(bosTokenID) { try c.encode(bosTokenID, forKey: .bosTokenID) }
        if (0..<vocabSize).contains(eosTokenID) { try c.encode(eosTokenID, forKey: .eosTokenID) }
        try c.encode("gpt2", forKey: .modelType)
        try c.encode(["GPT2LMHeadModel"], forKey: .architectures)
    }
}
