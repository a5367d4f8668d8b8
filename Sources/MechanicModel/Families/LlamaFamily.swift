/// Llama (also Mistral, TinyLlama, SmolLM): RMSNorm, rotary (with Llama 3 scaling), GQA,
/// SwiGLU, optional `attention_bias` / `mlp_bias`, Mistral's sliding window, untied by default.
public enum LlamaFamily: ModelFamily {
    public static let summary = "Llama 1-3, Mistral, TinyLlama, SmolLM: RMSNorm, rotary (Llama 3 scaling), GQA, SwiGLU, optional biases, Mistral's sliding window"
    public static let modelTypes = ["llama", "mistral"]
    public static let prefixes = ["model.", ""]

    public static func config(_ json: ConfigJSON) throws -> TransformerConfig {
        var c = try llamaShape(json)
        let bias = try json.bool("attention_bias") ?? false
        (c.qkvBias, c.attentionOutBias) = (bias, bias)
        c.mlpBias = try json.bool("mlp_bias") ?? false
        if let window = try json.int("sliding_window") { c.slidingWindow = window }
        return c
    }

    public static func source(of path: String, config: TransformerConfig) -> TensorSource {
        llamaSource(of: path, config: config)
    }
}
