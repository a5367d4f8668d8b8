/// Attention-sink statistics of one prompt set under one BOS setting, per layer × head.
///
/// For a head's pattern `A[i, j]` on a prompt of `n` tokens, the column-normalised score of key
/// `j` is `α_j = Σ_{i ≥ j} A[i, j] / (n − j)`: the attention the key receives, averaged over the
/// real queries that can see it. Only real (unpadded) queries and keys count. `α₀` is also the
/// mean attention mass on the first token, since every query sees it.
///
/// A plain value: exporters in `MechanicExport` turn it into reports.
public struct SinkStatistics: Codable, Sendable, Equatable {
    /// Whether a BOS token was prepended to every prompt.
    public var bosPrepended: Bool
    public var promptCount: Int
    /// Real tokens over all prompts.
    public var tokenCount: Int
    public var layers: Int
    public var heads: Int
    /// Tokens in the longest prompt: the length of the per-position arrays.
    public var longestPrompt: Int
    public var thresholds: SinkThresholds

    /// Mean over prompts of α₀, `[layer][head]`.
    public var firstTokenMass: [[Double]]
    /// Share of prompts with α₀ > ε, `[layer][head]`.
    public var firstTokenSinkRate: [[Double]]
    /// Sink₁^ε: share of all (prompt, layer, head) with α₀ > ε.
    public var firstTokenSinkRateOverall: Double
    /// Attention entropy in nats, mean over real queries then prompts, `[layer][head]`.
    public var entropy: [[Double]]
    /// Mean α_j over the prompts that reach position j, `[layer][head][keyPos]`.
    public var columnScores: [[[Double]]]
    /// Number of prompts that reach each position, `[pos]`.
    public var promptsPerPosition: [Int]

    /// Number of (prompt, position ≥ 1) with α_j above the hidden-sink threshold, `[layer][head]`.
    public var hiddenSinkCounts: [[Int]]
    /// Hidden sinks at each position over all prompts, layers and heads, `[pos]` (0 at position 0).
    public var hiddenSinksByPosition: [Int]
    /// All hidden sinks found.
    public var hiddenSinkTotal: Int
    /// The strongest hidden sinks (at most the record limit), strongest first.
    public var hiddenSinks: [HiddenSink]
    /// Every token type that became a hidden sink, most events first.
    public var hiddenSinkTokens: [TokenSinkCount]

    /// L2 norm of `hook_resid_post`, mean over the prompts that reach each position, `[layer][pos]`.
    public var residualNorms: [[Double]]
    /// All massive activations found.
    public var massiveActivationTotal: Int
    /// The largest massive activations (at most the record limit), largest first.
    public var massiveActivations: [MassiveActivation]
    /// Massive activations grouped by layer and dimension, in that order.
    public var massiveDimensions: [MassiveDimension]

    /// Heads whose first-token sink rate is at least `minimumRate`, in order.
    public func firstTokenSinkHeads(minimumRate: Double = 0.5) -> [HeadIndex] {
        HeadIndex.all(layers: layers, heads: heads).filter { firstTokenSinkRate[$0.layer][$0.head] >= minimumRate }
    }

    /// Heads with at least one hidden sink, in order.
    public var hiddenSinkHeads: [HeadIndex] {
        HeadIndex.all(layers: layers, heads: heads).filter { hiddenSinkCounts[$0.layer][$0.head] > 0 }
    }

    /// Heads with at least `minimumRate` hidden sinks per prompt, in order: the heads that use
    /// hidden sinks habitually, as ``firstTokenSinkHeads(minimumRate:)`` names first-token sinks.
    public func hiddenSinkHeads(minimumRate: Double) -> [HeadIndex] {
        HeadIndex.all(layers: layers, heads: heads).filter {
            Double(hiddenSinkCounts[$0.layer][$0.head]) >= minimumRate * Double(max(promptCount, 1))
        }
    }

    /// Mean first-token mass of each layer (over heads).
    public var firstTokenMassByLayer: [Double] {
        firstTokenMass.map { $0.reduce(0, +) / Double(max($0.count, 1)) }
    }
}
