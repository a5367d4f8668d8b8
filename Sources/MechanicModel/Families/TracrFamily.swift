import Foundation

/// Models compiled from RASP programs by tracr (Lindner et al. 2023), exported by
/// `scripts/tracr/export_mechanic.py`: no normalisation, bidirectional attention (a compiled
/// program may read later positions), ReLU MLPs, learned positions, untied unembedding, and
/// `heads · head_dim` that need not equal the residual width.
///
/// The config uses GPT-2's keys plus `head_dim` and `"causal"`; tensors use GPT-2's names (fused
/// Conv1D `c_attn` `[in, out]`) plus `lm_head.weight` `[vocab, n_embd]`. The `model_type` is
/// `"tracr"`, not `"gpt2"`, so HF transformers refuses the folder instead of computing a GPT-2
/// with layer norms and a causal mask the program does not have. tracr's separate output space is
/// appended to the input vocabulary: output tokens have zero embeddings, input tokens zero
/// unembeddings (see `scripts/tracr/README.md`).
public enum TracrFamily: ModelFamily {
    public static let summary = "tracr-compiled RASP programs: no normalisation, bidirectional attention, ReLU MLPs, learned positions, untied unembedding"
    public static let modelTypes = ["tracr"]
    public static let prefixes = [""]

    public static func config(_ json: ConfigJSON) throws -> TransformerConfig {
        var c = TransformerConfig(
            layers: try json.require("n_layer", in: Limits.layers),
            heads: try json.require("n_head", in: Limits.heads),
            dModel: try json.require("n_embd", in: Limits.width),
            contextLength: try json.require("n_positions", in: Limits.context),
            vocabSize: try json.require("vocab_size", in: Limits.vocabulary),
            innerDimension: try json.require("n_inner", in: Limits.mlp),
            activation: try activation(json.string("activation_function") ?? "relu"),
            bosTokenID: try json.require("bos_token_id", in: 0...(1 << 24)),
            eosTokenID: try json.tokenID("eos_token_id") ?? 0)
        c.dHead = try json.require("head_dim", in: Limits.headWidth)
        c.attentionScale = 1 / Float(Double(c.dHead).squareRoot())
        c.norm = .none
        c.causal = try json.bool("causal") ?? false
        c.tiedEmbeddings = false
        return c
    }

    public static func source(of path: String, config: TransformerConfig) -> TensorSource {
        switch path {
        case "tokenEmbedding": return .tensor("wte.weight")
        case "positionEmbedding": return .tensor("wpe.weight")
        case "unembedding": return .tensor("lm_head.weight")
        default: return GPT2Family.source(of: path, config: config)
        }
    }
}
