/// The thresholds that decide what counts as a sink or a massive activation.
///
/// Defaults are the published ones (see `published-results.md`): a first-token sink has
/// α₀ > 0.3 (Gu et al. 2025), a hidden sink has α_j > 0.1 for j > 0 (ACT, Yu et al. 2024) and,
/// Mechanic's additions, at least 8 queries that can see it and α_j at least 3 × what uniform
/// attention would give it,
/// a massive activation has |a| > 100 and |a| ≥ 1000 × the median |a| of its hidden state
/// (Sun et al. 2024).
public struct SinkThresholds: Codable, Sendable, Equatable {
    /// ε of the first-token sink rate Sink₁^ε: a (prompt, layer, head) sinks on the first token when α₀ > ε.
    public var firstToken: Double
    /// A later key position j ≥ 1 is a hidden sink when α_j exceeds this…
    public var hiddenSink: Double
    /// …and at least this many queries can see it (in a prompt of n tokens, key j is seen by the
    /// n − j queries at and after it). Without it, every late key counts: the last one is seen by
    /// one query, its own, and any self-attention above 0.1 made it a "sink" (on mechanic-mini,
    /// all 32 heads, 9,571 events). Default 8; 1 reproduces the bare ACT rule.
    public var minimumObservers: Int
    /// …and α_j is at least this many times key j's score under uniform attention,
    /// `u_j = (1/(n − j)) Σ_{i=j}^{n−1} 1/(i + 1)`: on short prompts uniform attention alone gives
    /// early keys α above 0.1 (key 1 of a 16-token prompt about 0.15), so ACT's threshold, set for
    /// long contexts, needs a baseline there. Default 3; 0 drops the baseline (the bare ACT rule
    /// with `minimumObservers` 1).
    public var minimumLift: Double
    /// A massive activation's magnitude must exceed this.
    public var massiveAbsolute: Double
    /// …and be at least this many times the median magnitude of its position's `dModel` vector.
    public var massiveRelative: Double

    public init(firstToken: Double = 0.3, hiddenSink: Double = 0.1, minimumObservers: Int = 8, minimumLift: Double = 3,
                massiveAbsolute: Double = 100, massiveRelative: Double = 1000) {
        self.firstToken = firstToken
        self.hiddenSink = hiddenSink
        self.minimumObservers = minimumObservers
        self.minimumLift = minimumLift
        self.massiveAbsolute = massiveAbsolute
        self.massiveRelative = massiveRelative
    }

    private enum CodingKeys: String, CodingKey { case firstToken, hiddenSink, minimumObservers, minimumLift, massiveAbsolute, massiveRelative }

    /// Decodes thresholds; an analysis stored before `minimumObservers` or `minimumLift` existed
    /// counted every key (1) and had no baseline (0).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        firstToken = try c.decode(Double.self, forKey: .firstToken)
        hiddenSink = try c.decode(Double.self, forKey: .hiddenSink)
        minimumObservers = try c.decodeIfPresent(Int.self, forKey: .minimumObservers) ?? 1
        minimumLift = try c.decodeIfPresent(Double.self, forKey: .minimumLift) ?? 0
        massiveAbsolute = try c.decode(Double.self, forKey: .massiveAbsolute)
        massiveRelative = try c.decode(Double.self, forKey: .massiveRelative)
    }

    /// Rejects thresholds that cannot mean anything (negative, non-finite, or above 1 for attention).
    public func validate() throws(SinkError) {
        if minimumObservers < 1 || minimumObservers > 1_000_000 {
            throw .invalidOption(name: "minimumObservers", value: "\(minimumObservers)", expected: "a count of queries from 1 to 1,000,000")
        }
        if !(minimumLift >= 0 && minimumLift <= 1_000) {
            throw .invalidOption(name: "minimumLift", value: "\(minimumLift)", expected: "a multiple of the uniform score from 0 to 1,000")
        }
        for (name, value) in [("firstToken", firstToken), ("hiddenSink", hiddenSink)] where !(value >= 0 && value < 1) {
            throw .invalidOption(name: name, value: "\(value)", expected: "an attention share in [0, 1)")
        }
        for (name, value) in [("massiveAbsolute", massiveAbsolute), ("massiveRelative", massiveRelative)]
        where !(value >= 0 && value.isFinite) {
            throw .invalidOption(name: name, value: "\(value)", expected: "a finite number ≥ 0")
        }
    }
}

/// Whether prompts are analysed with a BOS token prepended, without, or both ways.
///
/// GPT-2 was trained without a BOS at the start of each document, yet TransformerLens
/// prepends one by default; the first-token sink forms either way, and comparing the two
/// shows how much of it the BOS itself carries.
public enum BOSMode: String, Codable, Sendable, CaseIterable {
    /// Prepend BOS to every prompt.
    case with
    /// Analyse the prompts as given.
    case without
    /// Run both; the analysis holds the with-BOS variant first.
    case both

    /// The `prependBOS` values to run, in report order.
    public var variants: [Bool] {
        switch self {
        case .with: return [true]
        case .without: return [false]
        case .both: return [true, false]
        }
    }
}

/// Everything a sink analysis can be told.
public struct SinkOptions: Sendable {
    /// What counts as a sink and as a massive activation.
    public var thresholds: SinkThresholds
    /// With a BOS prepended, without, or both (the default).
    public var prependBOS: BOSMode
    /// Prompts per forward pass; prompts are grouped by length first, so little is padded.
    public var batchSize: Int
    /// How many individual hidden sinks and massive activations the result lists (the strongest);
    /// counts and per-token tallies always cover all of them.
    public var recordLimit: Int
    /// Index of the prompt whose attention patterns are drawn.
    public var examplePrompt: Int
    /// Heads whose patterns are drawn; `nil` picks the head with the most first-token mass and
    /// the head with the most hidden sinks.
    public var exampleHeads: [HeadIndex]?
    /// The drawn patterns keep at most this many leading positions of the example prompt.
    public var exampleMaxPositions: Int
    /// Called after each batch with the number of prompt runs done and the total (prompts × BOS variants).
    public var progress: (@Sendable (_ done: Int, _ total: Int) -> Void)?

    public init(
        thresholds: SinkThresholds = SinkThresholds(),
        prependBOS: BOSMode = .both,
        batchSize: Int = 8,
        recordLimit: Int = 200,
        examplePrompt: Int = 0,
        exampleHeads: [HeadIndex]? = nil,
        exampleMaxPositions: Int = 64,
        progress: (@Sendable (_ done: Int, _ total: Int) -> Void)? = nil
    ) {
        self.thresholds = thresholds
        self.prependBOS = prependBOS
        self.batchSize = batchSize
        self.recordLimit = recordLimit
        self.examplePrompt = examplePrompt
        self.exampleHeads = exampleHeads
        self.exampleMaxPositions = exampleMaxPositions
        self.progress = progress
    }

    /// Rejects options outside their ranges, before any forward pass.
    public func validate() throws(SinkError) {
        try thresholds.validate()
        if batchSize < 1 { throw .invalidOption(name: "batchSize", value: "\(batchSize)", expected: "at least 1") }
        if recordLimit < 0 { throw .invalidOption(name: "recordLimit", value: "\(recordLimit)", expected: "at least 0") }
        if examplePrompt < 0 { throw .invalidOption(name: "examplePrompt", value: "\(examplePrompt)", expected: "a prompt index ≥ 0") }
        if exampleMaxPositions < 1 {
            throw .invalidOption(name: "exampleMaxPositions", value: "\(exampleMaxPositions)", expected: "at least 1")
        }
    }
}
