/// Qwen2: the Llama layout with biases on q, k and v (none on o), sliding window only when
/// `use_sliding_window` is set.
public enum Qwen2Family: ModelFamily {
    public static let summary = "Qwen2 / Qwen2.5: the Llama layout with q/k/v biases"
    public static let modelTypes = ["qwen2"]
    public static let prefixes = ["model.", ""]

    public static func config(_ json: ConfigJSON) throws -> TransformerConfig {
        var c = try llamaShape(json)
        c.qkvBias = true
        try applyWindow(json, to: &c)
        return c
    }

    public static func source(of path: String, config: TransformerConfig) -> TensorSource {
        llamaSource(of: path, config: config)
    }

    /// Qwen's `use_sliding_window` + `sliding_window` + `max_window_layers` (layers from
    /// `max_window_layers` on use the window), or `layer_types` when given.
    static func applyWindow(_ json: ConfigJSON, to c: inout TransformerConfig) throws {
        guard try json.bool("use_sliding_window") == true, let window = try json.int("sliding_window") else { return }
        let first = try json.int("max_window_layers") ?? c.layers
        c.slidingWindow = window
        c.slidingLayers = try slidingLayers(json, layers: c.layers) { $0 >= first }
    }
}

/// Qwen3: the Llama layout with RMS norms of each query and key head (QK-norm), an explicit
/// `head_dim`, and optional `attention_bias`.
public enum Qwen3Family: ModelFamily {
    public static let summary = "Qwen3: the Llama layout with QK-norm and an explicit head_dim"
    public static let modelTypes = ["qwen3"]
    public static let prefixes = ["model.", ""]

    public static func config(_ json: ConfigJSON) throws -> TransformerConfig {
        var c = try llamaShape(json)
        c.qkNorm = true
        let bias = try json.bool("attention_bias") ?? false
        (c.qkvBias, c.attentionOutBias) = (bias, bias)
        try Qwen2Family.applyWindow(json, to: &c)
        return c
    }

    public static func source(of path: String, config: TransformerConfig) -> TensorSource {
        llamaSource(of: path, config: config)
    }
}
