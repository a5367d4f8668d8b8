/// A hook point of the transformer: where an activation can be read or replaced.
///
/// Names are public API and spelled as in TransformerLens (`blocks.3.attn.hook_z`), so
/// code and notebooks written for TransformerLens read the same here. Build them with the
/// typed constructors (`HookName.z(3)`), parse user strings with ``init(parsing:)``.
/// Each point declares the shape of its activation (see ``HookPoint/shape``).
public struct HookName: Hashable, Comparable, Sendable, CustomStringConvertible, Codable {
    /// Block index for per-block points, `nil` for model-level ones (`hook_embed`, `ln_final.*`).
    public let layer: Int?
    /// Which activation of the block (or model).
    public let point: HookPoint

    public init(_ point: HookPoint, layer: Int?) {
        precondition((layer == nil) == !point.isPerBlock, "\(point) \(point.isPerBlock ? "needs" : "takes no") layer index")
        self.point = point
        self.layer = layer
    }

    /// The TransformerLens spelling.
    public var description: String {
        if let layer { return "blocks.\(layer).\(point.rawValue)" }
        return point.rawValue
    }

    /// Parses a TransformerLens hook name such as `blocks.0.attn.hook_pattern`; `nil` when it is not one.
    public init?(parsing text: String) {
        if text.hasPrefix("blocks.") {
            let rest = text.dropFirst("blocks.".count)
            guard let dot = rest.firstIndex(of: "."), let layer = Int(rest[..<dot]), layer >= 0,
                  let point = HookPoint(rawValue: String(rest[rest.index(after: dot)...])), point.isPerBlock
            else { return nil }
            self.init(point, layer: layer)
        } else {
            guard let point = HookPoint(rawValue: text), !point.isPerBlock else { return nil }
            self.init(point, layer: nil)
        }
    }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let name = HookName(parsing: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a hook name: \(text)"))
        }
        self = name
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }

    /// Forward order: model-level inputs, then blocks in order, each in its own forward order, then `ln_final`.
    public static func < (a: HookName, b: HookName) -> Bool {
        a.forwardRank < b.forwardRank
    }

    private var forwardRank: (Int, Int) {
        switch point {
        case .embed: return (0, 0)
        case .posEmbed: return (0, 1)
        case .lnFinalScale: return (Int.max, 0)
        case .lnFinalNormalized: return (Int.max, 1)
        default: return (1 + layer!, point.order)
        }
    }

    // MARK: typed constructors
    public static let embed = HookName(.embed, layer: nil)
    public static let posEmbed = HookName(.posEmbed, layer: nil)
    public static let lnFinalScale = HookName(.lnFinalScale, layer: nil)
    public static let lnFinalNormalized = HookName(.lnFinalNormalized, layer: nil)
    public static func residPre(_ l: Int) -> HookName { HookName(.residPre, layer: l) }
    public static func ln1Scale(_ l: Int) -> HookName { HookName(.ln1Scale, layer: l) }
    public static func ln1Normalized(_ l: Int) -> HookName { HookName(.ln1Normalized, layer: l) }
    public static func q(_ l: Int) -> HookName { HookName(.q, layer: l) }
    public static func k(_ l: Int) -> HookName { HookName(.k, layer: l) }
    public static func v(_ l: Int) -> HookName { HookName(.v, layer: l) }
    public static func qNormScale(_ l: Int) -> HookName { HookName(.qNormScale, layer: l) }
    public static func qNormNormalized(_ l: Int) -> HookName { HookName(.qNormNormalized, layer: l) }
    public static func kNormScale(_ l: Int) -> HookName { HookName(.kNormScale, layer: l) }
    public static func kNormNormalized(_ l: Int) -> HookName { HookName(.kNormNormalized, layer: l) }
    public static func rotQ(_ l: Int) -> HookName { HookName(.rotQ, layer: l) }
    public static func rotK(_ l: Int) -> HookName { HookName(.rotK, layer: l) }
    public static func attnScores(_ l: Int) -> HookName { HookName(.attnScores, layer: l) }
    public static func pattern(_ l: Int) -> HookName { HookName(.pattern, layer: l) }
    public static func z(_ l: Int) -> HookName { HookName(.z, layer: l) }
    public static func result(_ l: Int) -> HookName { HookName(.result, layer: l) }
    public static func ln1PostScale(_ l: Int) -> HookName { HookName(.ln1PostScale, layer: l) }
    public static func ln1PostNormalized(_ l: Int) -> HookName { HookName(.ln1PostNormalized, layer: l) }
    public static func attnOut(_ l: Int) -> HookName { HookName(.attnOut, layer: l) }
    public static func residMid(_ l: Int) -> HookName { HookName(.residMid, layer: l) }
    public static func ln2Scale(_ l: Int) -> HookName { HookName(.ln2Scale, layer: l) }
    public static func ln2Normalized(_ l: Int) -> HookName { HookName(.ln2Normalized, layer: l) }
    public static func mlpPre(_ l: Int) -> HookName { HookName(.mlpPre, layer: l) }
    public static func mlpPreLinear(_ l: Int) -> HookName { HookName(.mlpPreLinear, layer: l) }
    public static func mlpPost(_ l: Int) -> HookName { HookName(.mlpPost, layer: l) }
    public static func ln2PostScale(_ l: Int) -> HookName { HookName(.ln2PostScale, layer: l) }
    public static func ln2PostNormalized(_ l: Int) -> HookName { HookName(.ln2PostNormalized, layer: l) }
    public static func mlpOut(_ l: Int) -> HookName { HookName(.mlpOut, layer: l) }
    public static func residPost(_ l: Int) -> HookName { HookName(.residPost, layer: l) }

    /// Every hook name of a model with this configuration, in forward order.
    public static func all(for config: TransformerConfig) -> [HookName] {
        var names: [HookName] = config.hasLearnedPositions ? [.embed, .posEmbed] : [.embed]
        for l in 0..<config.layers {
            for point in HookPoint.allCases where point.isPerBlock && point.exists(in: config) {
                names.append(HookName(point, layer: l))
            }
        }
        return names + [.lnFinalScale, .lnFinalNormalized]
    }
}

/// The kinds of hook point, with their TransformerLens suffixes and activation shapes.
public enum HookPoint: String, CaseIterable, Sendable {
    case embed = "hook_embed"
    case posEmbed = "hook_pos_embed"
    case residPre = "hook_resid_pre"
    case ln1Scale = "ln1.hook_scale"
    case ln1Normalized = "ln1.hook_normalized"
    case q = "attn.hook_q"
    case k = "attn.hook_k"
    case v = "attn.hook_v"
    case qNormScale = "attn.q_norm.hook_scale"
    case qNormNormalized = "attn.q_norm.hook_normalized"
    case kNormScale = "attn.k_norm.hook_scale"
    case kNormNormalized = "attn.k_norm.hook_normalized"
    case rotQ = "attn.hook_rot_q"
    case rotK = "attn.hook_rot_k"
    case attnScores = "attn.hook_attn_scores"
    case pattern = "attn.hook_pattern"
    case z = "attn.hook_z"
    case result = "attn.hook_result"
    case ln1PostScale = "ln1_post.hook_scale"
    case ln1PostNormalized = "ln1_post.hook_normalized"
    case attnOut = "hook_attn_out"
    case residMid = "hook_resid_mid"
    case ln2Scale = "ln2.hook_scale"
    case ln2Normalized = "ln2.hook_normalized"
    case mlpPre = "mlp.hook_pre"
    case mlpPreLinear = "mlp.hook_pre_linear"
    case mlpPost = "mlp.hook_post"
    case ln2PostScale = "ln2_post.hook_scale"
    case ln2PostNormalized = "ln2_post.hook_normalized"
    case mlpOut = "hook_mlp_out"
    case residPost = "hook_resid_post"
    case lnFinalScale = "ln_final.hook_scale"
    case lnFinalNormalized = "ln_final.hook_normalized"

    /// Whether the point exists once per block (`blocks.{l}.…`).
    public var isPerBlock: Bool {
        switch self {
        case .embed, .posEmbed, .lnFinalScale, .lnFinalNormalized: return false
        default: return true
        }
    }

    /// Whether the point belongs to the MLP sub-block (absent from attention-only models).
    public var isMLPBlock: Bool {
        switch self {
        case .ln2Scale, .ln2Normalized, .mlpPre, .mlpPreLinear, .mlpPost, .ln2PostScale, .ln2PostNormalized, .mlpOut: return true
        default: return false
        }
    }

    /// Whether attention-only models have this point: no MLP sub-block, and (as in TransformerLens)
    /// no `hook_resid_mid`, since `resid_post = resid_pre + attn_out`.
    public var existsInAttentionOnlyModels: Bool { !isMLPBlock && self != .residMid }

    /// Whether a model with this configuration has the point: each family has the hooks of its
    /// components, named as TransformerLens names them (parallel blocks have no `hook_resid_mid`,
    /// rotary models no `hook_pos_embed`, only gated MLPs `hook_pre_linear`, …).
    public func exists(in config: TransformerConfig) -> Bool {
        if config.attentionOnly && !existsInAttentionOnlyModels { return false }
        switch self {
        case .posEmbed: return config.hasLearnedPositions
        case .qNormScale, .qNormNormalized, .kNormScale, .kNormNormalized: return config.qkNorm
        case .rotQ, .rotK: return !config.hasLearnedPositions
        case .ln1PostScale, .ln1PostNormalized, .ln2PostScale, .ln2PostNormalized: return config.postNorms
        case .residMid: return !config.parallelBlocks
        case .mlpPreLinear: return config.gatedMLP
        default: return true
        }
    }

    /// Position within a block's forward order.
    var order: Int { HookPoint.allCases.firstIndex(of: self)! }

    /// Axis names of the activation, outermost first, e.g. `["batch", "head", "queryPos", "keyPos"]`.
    public var axes: [String] {
        switch self {
        case .embed, .posEmbed, .residPre, .ln1Normalized, .attnOut, .residMid, .ln2Normalized,
             .mlpOut, .residPost, .lnFinalNormalized, .ln1PostNormalized, .ln2PostNormalized:
            return ["batch", "pos", "dModel"]
        case .ln1Scale, .ln2Scale, .lnFinalScale, .ln1PostScale, .ln2PostScale: return ["batch", "pos", "1"]
        case .q, .k, .v, .z, .qNormNormalized, .kNormNormalized, .rotQ, .rotK: return ["batch", "pos", "head", "dHead"]
        case .qNormScale, .kNormScale: return ["batch", "pos", "head", "1"]
        case .attnScores, .pattern: return ["batch", "head", "queryPos", "keyPos"]
        case .result: return ["batch", "pos", "head", "dModel"]
        case .mlpPre, .mlpPreLinear, .mlpPost: return ["batch", "pos", "dMLP"]
        }
    }

    /// The concrete activation shape for a batch of `batch` sequences of `positions` tokens.
    public func shape(batch: Int, positions: Int, config: TransformerConfig) -> [Int] {
        axes.map { axis in
            switch axis {
            case "batch": return batch
            case "pos", "queryPos", "keyPos": return positions
            case "dModel": return config.dModel
            case "head": return config.heads
            case "dHead": return config.dHead
            case "dMLP": return config.dMLP
            default: return 1
            }
        }
    }

    /// Index of the axis that counts token positions (the query axis for attention patterns).
    public var positionAxis: Int { axes.firstIndex { $0 == "pos" || $0 == "queryPos" }! }

    /// Index of the head axis, `nil` for points that do not split heads.
    public var headAxis: Int? { axes.firstIndex(of: "head") }
}
