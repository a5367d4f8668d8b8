import Foundation

/// The architecture of a decoder-only transformer: its shape and every numerical choice that
/// distinguishes one family from another.
///
/// One description drives one forward pass for every family (GPT-2, GPT-NeoX/Pythia, Llama,
/// Mistral, Qwen2, Qwen3, Gemma 2, Gemma 3, tracr's compiled programs). Each family's file under `Families/` maps its
/// `config.json` onto this description; the forward pass never asks which family it runs.
/// Defaults are GPT-2 small's, so `TransformerConfig(layers: 2)` is a small GPT-2.
public struct TransformerConfig: Equatable, Sendable {
    /// HF `model_type` of the checkpoint this describes (`gpt2`, `llama`, …).
    public var modelType: String
    /// Number of transformer blocks.
    public var layers: Int
    /// Query heads per block.
    public var heads: Int
    /// Key/value heads per block: `heads` for multi-head attention, fewer for grouped-query
    /// attention (GQA), 1 for multi-query attention (MQA). Query head `h` reads key/value head
    /// `h / (heads / kvHeads)`.
    public var kvHeads: Int
    /// Width of the residual stream.
    public var dModel: Int
    /// Width of one head (Gemma and Qwen3 allow `heads · dHead ≠ dModel`).
    public var dHead: Int
    /// Context length: the longest prompt the model takes.
    public var contextLength: Int
    /// Vocabulary size: rows of the embedding.
    public var vocabSize: Int
    /// MLP hidden width (`nil` means 4 × dModel, GPT-2's default).
    public var innerDimension: Int?
    /// Epsilon of every normalisation (layer norm or RMS norm).
    public var layerNormEpsilon: Float
    /// Which normalisation the blocks and the final norm use.
    public var norm: Normalization
    /// Whether a query sees only keys at or before it (every decoder LM), or every real key of its
    /// row (TransformerLens `attention_dir="bidirectional"`; tracr programs that look ahead).
    public var causal: Bool
    /// MLP nonlinearity.
    public var activation: Activation
    /// Whether the MLP is gated (SwiGLU / GeGLU): `down(act(gate(x)) · up(x))`.
    public var gatedMLP: Bool
    /// Whether the model has no MLP blocks (TransformerLens `attn-only-Nl` style).
    public var attentionOnly: Bool
    /// Whether attention and MLP read the same residual and add in parallel (GPT-NeoX, GPT-J).
    public var parallelBlocks: Bool
    /// How positions enter: learned embeddings or rotary embeddings of queries and keys.
    public var positions: Positions
    /// Rotary embedding of layers with a sliding window, when it differs (Gemma 3's local layers).
    public var localRotary: Rotary?
    /// Attention scores are multiplied by this (1/√dHead by default; Gemma: query_pre_attn_scalar^-½).
    public var attentionScale: Float
    /// Sliding-window length: a query sees only the `window` most recent keys, itself included.
    public var slidingWindow: Int?
    /// Which layers use the sliding window (`nil`: all layers when `slidingWindow` is set).
    public var slidingLayers: [Bool]?
    /// `scores = cap · tanh(scores / cap)` before masking (Gemma 2).
    public var attentionSoftcap: Float?
    /// `logits = cap · tanh(logits / cap)` (Gemma 2).
    public var finalSoftcap: Float?
    /// Biases on the query/key/value projections, on the attention output, on the MLP.
    public var qkvBias: Bool
    public var attentionOutBias: Bool
    public var mlpBias: Bool
    /// RMS norm of each query and key head before the rotary embedding (Qwen3, Gemma 3).
    public var qkNorm: Bool
    /// Extra norms on the attention and MLP outputs before they join the residual (Gemma 2/3).
    public var postNorms: Bool
    /// The token embedding is multiplied by this (Gemma: √dModel).
    public var embeddingScale: Float?
    /// Whether the unembedding is the token embedding (GPT-2, Gemma, Qwen2 small) or its own matrix.
    public var tiedEmbeddings: Bool
    /// Beginning- and end-of-sequence ids.
    public var bosTokenID: Int
    public var eosTokenID: Int

    /// Layer norm (mean-centred, with a bias), RMS norm (no centring, no bias), or none.
    public enum Normalization: String, Sendable, Codable {
        case layerNorm
        case rmsNorm
        /// No normalisation (TransformerLens `normalization_type=None`; tracr's compiled models).
        /// The norms' hooks stay, as identities: `hook_scale` is 1 and `hook_normalized` is the
        /// input, so every method that reads or edits them runs unchanged. There are no gains.
        case none
    }

    /// MLP nonlinearities, named as in HF's `ACT2FN`.
    public enum Activation: String, Sendable, Codable, CaseIterable {
        /// `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))` (`gelu_new`, `gelu_pytorch_tanh`).
        case geluTanh = "gelu_new"
        /// `0.5·x·(1 + erf(x/√2))` (`gelu`).
        case geluExact = "gelu"
        case relu
        /// `x·σ(x)` (`silu`, `swish`).
        case silu
    }

    /// Learned position embeddings, or rotary embeddings of queries and keys.
    public enum Positions: Equatable, Sendable {
        case learned
        case rotary(Rotary)
    }

    /// MLP hidden width, resolving GPT-2's default.
    public var dMLP: Int { innerDimension ?? 4 * dModel }
    /// Width of all query heads together, `heads · dHead`.
    public var dAttention: Int { heads * dHead }
    /// Query heads that share one key/value head.
    public var groupSize: Int { heads / max(1, kvHeads) }
    /// Whether a LayerNorm-style bias exists on the norms.
    public var normHasBias: Bool { norm == .layerNorm }
    /// Whether the norms have gains to load (every normalisation but `.none`).
    public var normHasGain: Bool { norm != .none }
    /// Whether the model has learned position embeddings (`hook_pos_embed`).
    public var hasLearnedPositions: Bool { positions == .learned }

    /// The rotary embedding of a layer, `nil` for learned positions.
    public func rotary(layer: Int) -> Rotary? {
        guard case .rotary(let global) = positions else { return nil }
        if let local = localRotary, window(layer: layer) != nil { return local }
        return global
    }

    /// The sliding window of a layer, `nil` for full causal attention.
    public func window(layer: Int) -> Int? {
        guard let slidingWindow else { return nil }
        if let slidingLayers { return slidingLayers.indices.contains(layer) && slidingLayers[layer] ? slidingWindow : nil }
        return slidingWindow
    }

    /// Whether `run`'s shortcut of computing the last block at the last positions only applies:
    /// it reads GPT-2's fused q/k/v layout directly.
    var hasPlainAttention: Bool {
        kvHeads == heads && positions == .learned && !qkNorm && slidingWindow == nil && attentionSoftcap == nil
            && !postNorms && !parallelBlocks && causal
    }

    /// A GPT-2-family configuration; defaults are GPT-2 small's.
    ///
    /// Other families start from here and set their fields (see `Families/`).
    public init(
        layers: Int = 12, heads: Int = 12, dModel: Int = 768, contextLength: Int = 1024,
        vocabSize: Int = 50257, innerDimension: Int? = nil, layerNormEpsilon: Float = 1e-5,
        activation: Activation = .geluTanh, attentionOnly: Bool = false,
        scaleAttentionWeights: Bool = true,
        bosTokenID: Int = 50256, eosTokenID: Int = 50256
    ) {
        self.modelType = "gpt2"
        self.layers = layers
        self.heads = heads
        self.kvHeads = heads
        self.dModel = dModel
        self.dHead = heads > 0 ? dModel / heads : 0
        self.contextLength = contextLength
        self.vocabSize = vocabSize
        self.innerDimension = innerDimension
        self.layerNormEpsilon = layerNormEpsilon
        self.norm = .layerNorm
        self.causal = true
        self.activation = activation
        self.gatedMLP = false
        self.attentionOnly = attentionOnly
        self.parallelBlocks = false
        self.positions = .learned
        self.localRotary = nil
        self.attentionScale = scaleAttentionWeights && dHead > 0 ? 1 / Float(dHead).squareRoot() : 1
        self.slidingWindow = nil
        self.slidingLayers = nil
        self.attentionSoftcap = nil
        self.finalSoftcap = nil
        self.qkvBias = true
        self.attentionOutBias = true
        self.mlpBias = true
        self.qkNorm = false
        self.postNorms = false
        self.embeddingScale = nil
        self.tiedEmbeddings = true
        self.bosTokenID = bosTokenID
        self.eosTokenID = eosTokenID
    }

    /// Why a configuration cannot be used, or `nil` when it is sane.
    public func problem() -> String? {
        if layers < 1 || layers > 1024 { return "the model has \(layers) layers; expected 1…1024" }
        if heads < 1 || heads > 1024 { return "the model has \(heads) attention heads; expected 1…1024" }
        if kvHeads < 1 || heads % kvHeads != 0 {
            return "\(kvHeads) key/value heads do not divide \(heads) query heads evenly"
        }
        if dModel < 1 || dModel > 65536 { return "the hidden size is \(dModel); expected 1…65536" }
        if dHead < 1 || dHead > 4096 { return "the head width is \(dHead); expected 1…4096" }
        if modelType == "gpt2" && dModel % heads != 0 { return "n_embd \(dModel) is not divisible by n_head \(heads)" }
        if contextLength < 1 || contextLength > 1 << 20 { return "the context length is \(contextLength); expected 1…1048576" }
        if vocabSize < 1 || vocabSize > 1 << 24 { return "the vocabulary size is \(vocabSize); expected 1…16777216" }
        if let inner = innerDimension, inner < 1 || inner > 1 << 20 { return "the MLP width is \(inner); expected 1…1048576" }
        if !(layerNormEpsilon > 0 && layerNormEpsilon < 1) { return "the norm epsilon is \(layerNormEpsilon); expected a small positive number" }
        if !(attentionScale.isFinite && attentionScale > 0) { return "the attention scale is \(attentionScale); expected a positive number" }
        if let w = slidingWindow, w < 1 { return "the sliding window is \(w); expected at least 1" }
        if slidingWindow != nil && !causal { return "a sliding window needs causal attention; this model is bidirectional" }
        if let s = slidingLayers, s.count != layers { return "layer_types lists \(s.count) layers for a model of \(layers)" }
        for cap in [attentionSoftcap, finalSoftcap].compactMap({ $0 }) where !(cap.isFinite && cap > 0) {
            return "a soft-capping value is \(cap); expected a positive number"
        }
        if let scale = embeddingScale, !(scale.isFinite && scale > 0) { return "the embedding scale is \(scale); expected a positive number" }
        for rotary in [rotary(layer: 0), localRotary].compactMap({ $0 }) {
            if let reason = rotary.problem(dHead: dHead) { return reason }
        }
        if (gatedMLP || parallelBlocks || postNorms) && attentionOnly { return "an attention-only model cannot have MLP options" }
        if norm == .none && (qkNorm || postNorms) { return "a model without normalisation cannot have QK-norm or post-norms" }
        return nil
    }

    /// Number of parameters (a tied unembedding counted once).
    public var parameterCount: Int {
        let (d, m) = (dModel, dMLP)
        let norm = normHasBias ? 2 * d : normHasGain ? d : 0
        var attention = d * (heads + 2 * kvHeads) * dHead + dAttention * d + norm
        if qkvBias { attention += (heads + 2 * kvHeads) * dHead }
        if attentionOutBias { attention += d }
        if qkNorm { attention += 2 * dHead }
        if postNorms { attention += d }
        var mlp = 0
        if !attentionOnly {
            mlp = (gatedMLP ? 3 : 2) * d * m + norm
            if mlpBias { mlp += (gatedMLP ? 2 : 1) * m + d }
            if postNorms { mlp += d }
        }
        let positions = hasLearnedPositions ? contextLength * d : 0
        let unembedding = tiedEmbeddings ? 0 : vocabSize * d
        return vocabSize * d + positions + unembedding + layers * (attention + mlp) + norm
    }

    /// The architecture features this configuration uses, for `inspect` and error messages.
    public var features: [String] {
        var list: [String] = []
        switch norm {
        case .layerNorm: list.append("LayerNorm")
        case .rmsNorm: list.append("RMSNorm")
        case .none: list.append("no normalisation")
        }
        if !causal { list.append("bidirectional attention") }
        switch positions {
        case .learned: list.append("learned positions")
        case .rotary(let r):
            list.append(r.dims == dHead ? "rotary (\(r.style.rawValue), θ \(r.theta.formatted6))"
                                        : "partial rotary \(r.dims)/\(dHead) (\(r.style.rawValue), θ \(r.theta.formatted6))")
            if r.scaling != .none { list.append("rope scaling \(r.scaling.name)") }
            if let local = localRotary { list.append("local rotary θ \(local.theta.formatted6)") }
        }
        if kvHeads == 1 && heads > 1 { list.append("multi-query attention") }
        else if kvHeads < heads { list.append("grouped-query attention (\(kvHeads) KV heads)") }
        if qkNorm { list.append("QK-norm") }
        if let w = slidingWindow { list.append(slidingLayers == nil ? "sliding window \(w)" : "sliding window \(w) on some layers") }
        if let c = attentionSoftcap { list.append("attention soft-cap \(c.formatted6)") }
        if let c = finalSoftcap { list.append("logit soft-cap \(c.formatted6)") }
        if !attentionOnly { list.append(gatedMLP ? "gated MLP (\(activation.rawValue))" : "MLP (\(activation.rawValue))") }
        else { list.append("attention-only") }
        if parallelBlocks { list.append("parallel attention and MLP") }
        if postNorms { list.append("post-norms") }
        if embeddingScale != nil { list.append("scaled embedding") }
        list.append(tiedEmbeddings ? "tied unembedding" : "untied unembedding")
        return list
    }
}

/// Rotary position embedding (RoPE) of queries and keys.
public struct Rotary: Hashable, Sendable {
    /// Leading dimensions of each head that rotate (`rotary_pct · dHead`; the rest pass through).
    public var dims: Int
    /// Base of the frequencies (`rope_theta`).
    public var theta: Double
    /// How dimensions pair up.
    public var style: Style
    /// Frequency scaling for long contexts.
    public var scaling: Scaling

    /// Which dimensions rotate together.
    public enum Style: String, Sendable {
        /// Dimension `i` with `i + dims/2` (HF `rotate_half`: Llama, NeoX, Qwen, Gemma).
        case halves
        /// Dimension `2i` with `2i + 1` (GPT-J, Mesh-TensorFlow).
        case interleaved
    }

    /// HF `rope_scaling` / `rope_parameters` types Mechanic computes.
    public enum Scaling: Hashable, Sendable {
        case none
        /// Every frequency divided by `factor`.
        case linear(factor: Double)
        /// Llama 3: long wavelengths divided by `factor`, short ones kept, a smooth blend between.
        case llama3(factor: Double, lowFrequencyFactor: Double, highFrequencyFactor: Double, originalContext: Double)

        public var name: String {
            switch self {
            case .none: return "none"
            case .linear(let f): return "linear ×\(f.formatted6)"
            case .llama3(let f, _, _, let original):
                // Validated configs hold a context ≤ 2³¹ − 1; others still print (Int(1e20) would trap).
                return "llama3 ×\(f.formatted6) from " + (original.magnitude < 1e15 ? String(Int(original)) : "\(original)")
            }
        }
    }

    public init(dims: Int, theta: Double, style: Style = .halves, scaling: Scaling = .none) {
        self.dims = dims
        self.theta = theta
        self.style = style
        self.scaling = scaling
    }

    func problem(dHead: Int) -> String? {
        if dims < 2 || dims > dHead || dims % 2 != 0 { return "the rotary width is \(dims); expected an even number in 2…\(dHead)" }
        if !(theta.isFinite && theta > 1) { return "rope_theta is \(theta); expected a number above 1" }
        switch scaling {
        case .none: return nil
        case .linear(let f): return f.isFinite && f > 0 ? nil : "the rope scaling factor is \(f); expected a positive number"
        case .llama3(let f, let low, let high, let original):
            guard f.isFinite, f > 0, low.isFinite, high.isFinite, high > low, low > 0, original.isFinite, original >= 1,
                  original <= Double(Int32.max) else {
                return "llama3 rope scaling needs factor > 0, 0 < low_freq_factor < high_freq_factor and original_max_position_embeddings in 1…2147483647"
            }
            return nil
        }
    }

    /// The rotation frequency of each dimension pair `[dims / 2]`, computed in `Float` step by step
    /// as HF's `ROPE_INIT_FUNCTIONS` compute them, so angles match PyTorch's to the last bit.
    public var inverseFrequencies: [Float] {
        let half = dims / 2
        let base = Float(theta)
        var inv = (0..<half).map { i -> Float in
            let exponent = Float(2 * i) / Float(dims)
            return 1 / Float(Foundation.pow(Double(base), Double(exponent)))
        }
        switch scaling {
        case .none: break
        case .linear(let factor):
            inv = inv.map { $0 / Float(factor) }
        case .llama3(let factor, let low, let high, let original):
            let f = Float(factor), lo = Float(low), hi = Float(high), old = Float(original)
            let lowWavelength = old / lo, highWavelength = old / hi
            inv = inv.map { freq in
                let wavelength = 2 * Float.pi / freq
                let scaled = wavelength > lowWavelength ? freq / f : freq
                let smooth = (old / wavelength - lo) / (hi - lo)
                let smoothed = (1 - smooth) * scaled / f + smooth * scaled
                let medium = !(wavelength < highWavelength) && !(wavelength > lowWavelength)
                return medium ? smoothed : scaled
            }
        }
        return inv
    }
}

extension FloatingPoint where Self: CustomStringConvertible {
    /// Up to six significant digits, without a trailing `.0` (`10000`, `0.25`).
    var formatted6: String {
        let text = description
        return text.hasSuffix(".0") ? String(text.dropLast(2)) : text
    }
}
