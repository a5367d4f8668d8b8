import Foundation

/// A model family: how its `config.json` becomes a ``TransformerConfig`` and where each Swift
/// parameter lives in its checkpoints.
///
/// Each family is one small file in `Families/`; ``ModelFamilies`` lists them. Checkpoint names
/// and layouts stay here and in ``CheckpointLoader``: the forward pass sees only Swift names.
public protocol ModelFamily {
    /// The `model_type` values of `config.json` this family reads.
    static var modelTypes: [String] { get }
    /// One line on what the family is and what distinguishes it (`mechanic inspect --families`).
    static var summary: String { get }
    /// Prefixes tried, in order, in front of every tensor name (`"model."`, `""`).
    static var prefixes: [String] { get }
    /// The architecture a `config.json` describes.
    static func config(_ json: ConfigJSON) throws -> TransformerConfig
    /// Where the parameter at a Swift path (see ``TransformerWeights/expectedShapes(for:)``) is in
    /// a checkpoint, and how to convert it to Mechanic's layout.
    static func source(of path: String, config: TransformerConfig) -> TensorSource
}

/// How one Swift parameter is read from a checkpoint's tensors.
public indirect enum TensorSource: Equatable, Sendable {
    /// The tensor as stored.
    case tensor(String)
    /// An `nn.Linear` weight `[out, in]`, transposed to `[in, out]`.
    case transposed(String)
    /// Sources joined along their last axis (separate q, k, v projections → one fused one).
    case joined([TensorSource])
    /// `1 + w` (Gemma's norms store the offset from one).
    case plusOne(String)
    /// GPT-NeoX's fused `query_key_value` `[heads·3·dHead, …]` (per head: q, k, v), reordered to
    /// all queries, then all keys, then all values (and transposed when it is a weight).
    case neoxQKV(String, heads: Int, dHead: Int)

    /// Whether the source transposes an `nn.Linear` weight.
    var isTransposed: Bool {
        if case .transposed = self { return true }
        return false
    }

    /// Every checkpoint tensor name this source reads.
    public var names: [String] {
        switch self {
        case .tensor(let n), .transposed(let n), .plusOne(let n), .neoxQKV(let n, _, _): return [n]
        case .joined(let parts): return parts.flatMap(\.names)
        }
    }
}

/// The registry of supported families.
public enum ModelFamilies {
    /// Every family Mechanic loads, in the order `mechanic inspect` lists them.
    public static let all: [any ModelFamily.Type] = [
        GPT2Family.self, GPTNeoXFamily.self, LlamaFamily.self, Qwen2Family.self, Qwen3Family.self,
        Gemma2Family.self, Gemma3Family.self, TracrFamily.self,
    ]

    /// Every supported `model_type`.
    public static var modelTypes: [String] { all.flatMap { $0.modelTypes } }

    /// The family of a `model_type`, `nil` when Mechanic does not support it.
    public static func family(modelType: String) -> (any ModelFamily.Type)? {
        all.first { $0.modelTypes.contains(modelType) }
    }

    /// Reads a `config.json` of any supported family.
    public static func config(data: Data) throws -> TransformerConfig {
        let json = try ConfigJSON(data: data)
        let type = try json.string("model_type") ?? "gpt2"
        guard let family = family(modelType: type) else {
            throw ConfigProblem("model_type is \"\(type.prefix(80))\"; Mechanic loads \(modelTypes.map { "\"\($0)\"" }.joined(separator: ", "))")
        }
        var config = try family.config(json)
        config.modelType = type
        // Special-token ids the file gives must name tokens of the vocabulary (a list names several).
        for key in ["bos_token_id", "eos_token_id", "pad_token_id"] where json.has(key) {
            let ids = try json.tokenIDs(key)
            if let bad = ids.first(where: { $0 < 0 || $0 >= config.vocabSize }) {
                throw ConfigProblem("\(key) is \(bad); the vocabulary has ids 0…\(config.vocabSize - 1)")
            }
        }
        return config
    }
}

extension ModelFamily {
    /// The Llama-style config keys most families share: sizes, RMS eps, rotary, ids.
    static func llamaShape(_ json: ConfigJSON, epsKey: String = "rms_norm_eps") throws -> TransformerConfig {
        var c = TransformerConfig(
            layers: try json.require("num_hidden_layers", in: Limits.layers), heads: try json.require("num_attention_heads", in: Limits.heads),
            dModel: try json.require("hidden_size", in: Limits.width),
            contextLength: try json.int("max_position_embeddings", in: Limits.context) ?? 2048,
            vocabSize: try json.require("vocab_size", in: Limits.vocabulary), innerDimension: try json.require("intermediate_size", in: Limits.mlp),
            layerNormEpsilon: try json.epsilon(epsKey) ?? 1e-6,
            bosTokenID: try json.tokenID("bos_token_id") ?? 1, eosTokenID: try json.tokenID("eos_token_id") ?? 2)
        c.kvHeads = try json.int("num_key_value_heads", in: Limits.heads) ?? c.heads
        if let dh = try json.int("head_dim", in: Limits.headWidth) { c.dHead = dh }
        c.attentionScale = c.dHead > 0 ? 1 / Float(Double(c.dHead).squareRoot()) : 1
        c.norm = .rmsNorm
        c.gatedMLP = true
        c.activation = try activation(json.string("hidden_act") ?? json.string("hidden_activation") ?? "silu")
        c.qkvBias = false
        c.attentionOutBias = false
        c.mlpBias = false
        c.tiedEmbeddings = try json.bool("tie_word_embeddings") ?? false
        c.positions = .rotary(try rotary(json, dims: c.dHead))
        return c
    }

    /// The rotary embedding from `rope_parameters` (transformers ≥ 5) or `rope_theta` +
    /// `rope_scaling` (earlier versions).
    static func rotary(_ json: ConfigJSON, dims: Int, defaultTheta: Double = 10000) throws -> Rotary {
        let parameters = try json.object("rope_parameters")
        // transformers 5 may nest per attention type: {"full_attention": {...}, "sliding_attention": {...}}.
        let global = try parameters?.object("full_attention") ?? parameters
        let theta = try global?.double("rope_theta") ?? json.double("rope_theta") ?? defaultTheta
        let scalingJSON = try global ?? json.object("rope_scaling")
        return Rotary(dims: dims, theta: theta, scaling: try scaling(scalingJSON))
    }

    /// A rope scaling object (`rope_type` or legacy `type`), `.none` when absent or default.
    static func scaling(_ json: ConfigJSON?) throws -> Rotary.Scaling {
        guard let json else { return .none }
        let type = try json.string("rope_type") ?? json.string("type") ?? "default"
        switch type {
        case "default": return .none
        case "linear":
            guard let factor = try json.double("factor") else { throw ConfigProblem("linear rope scaling needs a factor") }
            return .linear(factor: factor)
        case "llama3":
            guard let factor = try json.double("factor"), let low = try json.double("low_freq_factor"),
                  let high = try json.double("high_freq_factor"),
                  let original = try json.double("original_max_position_embeddings")
            else { throw ConfigProblem("llama3 rope scaling needs factor, low_freq_factor, high_freq_factor and original_max_position_embeddings") }
            return .llama3(factor: factor, lowFrequencyFactor: low, highFrequencyFactor: high, originalContext: original)
        default:
            throw UnsupportedFeature("rope scaling type \"\(type.prefix(40))\"")
        }
    }

    /// An HF activation name.
    static func activation(_ name: String) throws -> TransformerConfig.Activation {
        switch name {
        case "gelu_new", "gelu_pytorch_tanh": return .geluTanh
        case "gelu": return .geluExact
        case "relu": return .relu
        case "silu", "swish": return .silu
        default: throw UnsupportedFeature("activation \"\(name.prefix(40))\"")
        }
    }

    /// Sliding-window layers from `layer_types` (transformers ≥ 4.53) or a fallback pattern.
    static func slidingLayers(_ json: ConfigJSON, layers: Int, fallback: (Int) -> Bool) throws -> [Bool] {
        if let types = try json.strings("layer_types") {
            guard types.count == layers else { throw ConfigProblem("layer_types lists \(types.count) layers for a model of \(layers)") }
            return try types.map { type in
                switch type {
                case "sliding_attention": return true
                case "full_attention": return false
                default: throw UnsupportedFeature("layer type \"\(type.prefix(40))\"")
                }
            }
        }
        return (0..<layers).map(fallback)
    }

    /// Llama-layout sources: `model.layers.{l}.self_attn.q_proj` …, `nn.Linear` weights.
    static func llamaSource(of path: String, config: TransformerConfig, normOffset: Bool = false) -> TensorSource {
        let norm: (String) -> TensorSource = { normOffset ? .plusOne($0) : .tensor($0) }
        switch path {
        case "tokenEmbedding": return .tensor("embed_tokens.weight")
        case "unembedding": return .tensor("lm_head.weight")
        case "finalNormGain": return norm("norm.weight")
        default: break
        }
        let parts = path.split(separator: ".")
        let p = "layers.\(parts[1])."
        switch parts[2] {
        case "ln1Gain": return norm(p + "input_layernorm.weight")
        case "qkvWeight":
            return .joined(["q_proj", "k_proj", "v_proj"].map { .transposed(p + "self_attn.\($0).weight") })
        case "qkvBias": return .joined(["q_proj", "k_proj", "v_proj"].map { .tensor(p + "self_attn.\($0).bias") })
        case "qNormGain": return norm(p + "self_attn.q_norm.weight")
        case "kNormGain": return norm(p + "self_attn.k_norm.weight")
        case "attnOutWeight": return .transposed(p + "self_attn.o_proj.weight")
        case "attnOutBias": return .tensor(p + "self_attn.o_proj.bias")
        case "attnPostNormGain": return norm(p + "post_attention_layernorm.weight")
        case "ln2Gain": return norm(p + (config.postNorms ? "pre_feedforward_layernorm.weight" : "post_attention_layernorm.weight"))
        case "mlpInWeight": return .transposed(p + "mlp.up_proj.weight")
        case "mlpInBias": return .tensor(p + "mlp.up_proj.bias")
        case "mlpGateWeight": return .transposed(p + "mlp.gate_proj.weight")
        case "mlpGateBias": return .tensor(p + "mlp.gate_proj.bias")
        case "mlpOutWeight": return .transposed(p + "mlp.down_proj.weight")
        case "mlpOutBias": return .tensor(p + "mlp.down_proj.bias")
        case "mlpPostNormGain": return norm(p + "post_feedforward_layernorm.weight")
        default: preconditionFailure("unknown parameter path \(path)")
        }
    }
}

/// Ranges every family's sizes must fall in: generous for real models, small enough that an
/// absurd config is refused before it allocates anything.
enum Limits {
    static let layers = 1...1024
    static let heads = 1...1024
    static let width = 1...65536
    static let headWidth = 1...4096
    static let context = 1...(1 << 20)
    static let vocabulary = 1...(1 << 24)
    static let mlp = 1...(1 << 20)
}

/// An architecture feature Mechanic does not compute (wrapped into ``ModelError/unsupportedFeature``).
struct UnsupportedFeature: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
