/// GPT-NeoX (Pythia): LayerNorm, partial rotary (`rotary_pct`), per-head fused `query_key_value`,
/// exact GELU, parallel attention and MLP by default (`use_parallel_residual`), untied `embed_out`.
public enum GPTNeoXFamily: ModelFamily {
    public static let summary = "Pythia: LayerNorm, partial rotary (rotary_pct), per-head fused q/k/v, exact GELU, parallel attention and MLP, untied"
    public static let modelTypes = ["gpt_neox"]
    public static let prefixes = ["gpt_neox.", ""]

    public static func config(_ json: ConfigJSON) throws -> TransformerConfig {
        var c = TransformerConfig(
            layers: try json.require("num_hidden_layers", in: Limits.layers),
            heads: try json.require("num_attention_heads", in: Limits.heads),
            dModel: try json.require("hidden_size", in: Limits.width),
            contextLength: try json.int("max_position_embeddings", in: Limits.context) ?? 2048,
            vocabSize: try json.require("vocab_size", in: Limits.vocabulary),
            innerDimension: try json.int("intermediate_size", in: Limits.mlp),
            layerNormEpsilon: try json.epsilon("layer_norm_eps") ?? 1e-5,
            bosTokenID: try json.tokenID("bos_token_id") ?? 0, eosTokenID: try json.tokenID("eos_token_id") ?? 0)
        c.activation = try activation(json.string("hidden_act") ?? "gelu")
        c.parallelBlocks = try json.bool("use_parallel_residual") ?? true
        c.tiedEmbeddings = try json.bool("tie_word_embeddings") ?? false
        let bias = try json.bool("attention_bias") ?? true
        (c.qkvBias, c.attentionOutBias) = (bias, bias)
        let parameters = try json.object("rope_parameters")
        let pct = try parameters?.double("partial_rotary_factor") ?? json.double("partial_rotary_factor")
            ?? json.double("rotary_pct") ?? 0.25
        guard c.dModel % c.heads == 0 else { throw ConfigProblem("hidden_size \(c.dModel) is not divisible by num_attention_heads \(c.heads)") }
        guard pct > 0 && pct <= 1 else { throw ConfigProblem("rotary_pct is \(pct); expected a fraction in (0, 1]") }
        let dims = Int(Double(c.dHead) * pct)
        var rotary = try rotary(json, dims: dims)
        if parameters == nil, let base = try json.double("rotary_emb_base") { rotary.theta = base }
        c.positions = .rotary(rotary)
        return c
    }

    public static func source(of path: String, config: TransformerConfig) -> TensorSource {
        switch path {
        case "tokenEmbedding": return .tensor("embed_in.weight")
        case "unembedding": return .tensor("embed_out.weight")
        case "finalNormGain": return .tensor("final_layer_norm.weight")
        case "finalNormBias": return .tensor("final_layer_norm.bias")
        default: break
        }
        let parts = path.split(separator: ".")
        let p = "layers.\(parts[1])."
        switch parts[2] {
        case "ln1Gain": return .tensor(p + "input_layernorm.weight")
        case "ln1Bias": return .tensor(p + "input_layernorm.bias")
        case "qkvWeight": return .neoxQKV(p + "attention.query_key_value.weight", heads: config.heads, dHead: config.dHead)
        case "qkvBias": return .neoxQKV(p + "attention.query_key_value.bias", heads: config.heads, dHead: config.dHead)
        case "attnOutWeight": return .transposed(p + "attention.dense.weight")
        case "attnOutBias": return .tensor(p + "attention.dense.bias")
        case "ln2Gain": return .tensor(p + "post_attention_layernorm.weight")
        case "ln2Bias": return .tensor(p + "post_attention_layernorm.bias")
        case "mlpInWeight": return .transposed(p + "mlp.dense_h_to_4h.weight")
        case "mlpInBias": return .tensor(p + "mlp.dense_h_to_4h.bias")
        case "mlpOutWeight": return .transposed(p + "mlp.dense_4h_to_h.weight")
        case "mlpOutBias": return .tensor(p + "mlp.dense_4h_to_h.bias")
        default: preconditionFailure("unknown parameter path \(path)")
        }
    }
}
