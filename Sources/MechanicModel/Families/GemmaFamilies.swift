/// Gemma 2: RMS norms storing `w` for a gain of `1 + w`, four norms per block (the attention and
/// MLP outputs are normed before joining the residual), GeGLU, embeddings scaled by √dModel,
/// `query_pre_attn_scalar`, attention and final logit soft-capping, a sliding window on every
/// other layer, tied unembedding.
public enum Gemma2Family: ModelFamily {
    public static let summary = "Gemma 2: RMSNorm (1 + w), post-norms, GeGLU, scaled embedding, soft-capping, alternating sliding window"
    public static let modelTypes = ["gemma2"]
    public static let prefixes = ["model.", ""]

    public static func config(_ json: ConfigJSON) throws -> TransformerConfig {
        var c = try gemmaShape(json)
        c.attentionSoftcap = try json.float("attn_logit_softcapping")
        c.finalSoftcap = try json.float("final_logit_softcapping")
        if let window = try json.int("sliding_window") {
            c.slidingWindow = window
            // Before `layer_types`, Gemma 2 alternated: even layers slide.
            c.slidingLayers = try slidingLayers(json, layers: c.layers) { $0 % 2 == 0 }
        }
        return c
    }

    public static func source(of path: String, config: TransformerConfig) -> TensorSource {
        llamaSource(of: path, config: config, normOffset: true)
    }

    /// What Gemma 2 and 3 share.
    static func gemmaShape(_ json: ConfigJSON) throws -> TransformerConfig {
        var c = try llamaShape(json)
        c.activation = try activation(json.string("hidden_activation") ?? json.string("hidden_act") ?? "gelu_pytorch_tanh")
        c.postNorms = true
        c.tiedEmbeddings = try json.bool("tie_word_embeddings") ?? true
        let bias = try json.bool("attention_bias") ?? false
        (c.qkvBias, c.attentionOutBias) = (bias, bias)
        c.embeddingScale = Float(Double(c.dModel).squareRoot())
        let scalar = try json.double("query_pre_attn_scalar") ?? Double(c.dHead)
        guard scalar > 0 else { throw ConfigProblem("query_pre_attn_scalar is \(scalar); expected a positive number") }
        c.attentionScale = Float(1 / scalar.squareRoot())
        return c
    }
}

/// Gemma 3 (text): Gemma 2's block with QK-norm instead of attention soft-capping (a config's
/// `attn_logit_softcapping` is ignored, as HF ignores it), sliding windows set by
/// `layer_types` (or `sliding_window_pattern`), and a local rotary base (`rope_local_base_freq`)
/// on the sliding layers.
public enum Gemma3Family: ModelFamily {
    public static let summary = "Gemma 3 text: Gemma 2's block with QK-norm, layer_types windows and a local rotary base"
    public static let modelTypes = ["gemma3_text"]
    public static let prefixes = ["model.", "model.language_model.", "language_model.model.", ""]

    public static func config(_ json: ConfigJSON) throws -> TransformerConfig {
        var c = try Gemma2Family.gemmaShape(json)
        c.qkNorm = true
        // HF's Gemma 3 attention never applies `attn_logit_softcapping`, even when the config sets it.
        c.finalSoftcap = try json.float("final_logit_softcapping")
        if let window = try json.int("sliding_window") {
            let pattern = try json.int("sliding_window_pattern") ?? 6
            c.slidingWindow = window
            c.slidingLayers = try slidingLayers(json, layers: c.layers) { ($0 + 1) % max(1, pattern) != 0 }
        }
        let local = try json.object("rope_parameters")?.object("sliding_attention")
        let localTheta = try local?.double("rope_theta") ?? json.double("rope_local_base_freq") ?? 10000
        c.localRotary = Rotary(dims: c.dHead, theta: localTheta, scaling: try scaling(local))
        return c
    }

    public static func source(of path: String, config: TransformerConfig) -> TensorSource {
        llamaSource(of: path, config: config, normOffset: true)
    }
}
