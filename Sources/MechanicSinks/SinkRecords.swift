/// One attention head: a layer and a head within it.
public struct HeadIndex: Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    public var layer: Int
    public var head: Int

    public init(layer: Int, head: Int) {
        self.layer = layer
        self.head = head
    }

    /// `a3.5`, the spelling of circuits and ACDC graphs, used in reports and file names.
    public var description: String { "a\(layer).\(head)" }

    public static func < (a: HeadIndex, b: HeadIndex) -> Bool {
        (a.layer, a.head) < (b.layer, b.head)
    }

    /// Every head of a model with `layers` × `heads`, in order.
    public static func all(layers: Int, heads: Int) -> [HeadIndex] {
        (0..<layers).flatMap { l in (0..<heads).map { HeadIndex(layer: l, head: $0) } }
    }

    /// Throws unless the head exists in a model with `layers` × `heads`.
    public func validate(layers: Int, heads: Int) throws(SinkError) {
        guard layer >= 0 && layer < layers else { throw .layerOutOfRange(layer: layer, layers: layers) }
        guard head >= 0 && head < heads else { throw .headOutOfRange(layer: layer, head: head, heads: heads) }
    }
}

/// A key position after the first whose column-normalised score α_j exceeds the hidden-sink
/// threshold in one prompt and head.
public struct HiddenSink: Codable, Sendable, Equatable {
    /// Index of the prompt in the analysed set.
    public var prompt: Int
    public var layer: Int
    public var head: Int
    /// Key position (≥ 1).
    public var position: Int
    public var tokenID: Int
    /// The token as text (TransformerLens `to_str_tokens`).
    public var token: String
    /// α_j: the attention the position receives, averaged over the queries that can see it.
    public var score: Double

    public init(prompt: Int, layer: Int, head: Int, position: Int, tokenID: Int, token: String, score: Double) {
        self.prompt = prompt
        self.layer = layer
        self.head = head
        self.position = position
        self.tokenID = tokenID
        self.token = token
        self.score = score
    }

    /// Strongest first; ties broken by prompt, layer, head and position, so lists are stable.
    static func strongerFirst(_ a: HiddenSink, _ b: HiddenSink) -> Bool {
        if a.score != b.score { return a.score > b.score }
        return (a.prompt, a.layer, a.head, a.position) < (b.prompt, b.layer, b.head, b.position)
    }
}

/// How often one token type becomes a hidden sink.
public struct TokenSinkCount: Codable, Sendable, Equatable {
    public var tokenID: Int
    public var token: String
    /// Number of (prompt, layer, head, position) where this token is a hidden sink.
    public var sinkEvents: Int
    /// Number of times the token appears at positions ≥ 1 of the prompts.
    public var occurrences: Int
    /// `sinkEvents / (occurrences × layers × heads)`: the share of chances it took.
    public var rate: Double

    public init(tokenID: Int, token: String, sinkEvents: Int, occurrences: Int, rate: Double) {
        self.tokenID = tokenID
        self.token = token
        self.sinkEvents = sinkEvents
        self.occurrences = occurrences
        self.rate = rate
    }
}

/// One residual-stream element far larger than the rest of its hidden state (Sun et al. 2024).
public struct MassiveActivation: Codable, Sendable, Equatable {
    public var prompt: Int
    /// The block whose `hook_resid_post` holds it.
    public var layer: Int
    public var position: Int
    /// Index into `dModel`.
    public var dimension: Int
    public var tokenID: Int
    public var token: String
    public var value: Double
    /// Median |a| of the position's `dModel` vector.
    public var medianMagnitude: Double

    public init(prompt: Int, layer: Int, position: Int, dimension: Int, tokenID: Int, token: String,
                value: Double, medianMagnitude: Double) {
        self.prompt = prompt
        self.layer = layer
        self.position = position
        self.dimension = dimension
        self.tokenID = tokenID
        self.token = token
        self.value = value
        self.medianMagnitude = medianMagnitude
    }

    /// Largest magnitude first; ties broken by prompt, layer, position and dimension.
    static func largerFirst(_ a: MassiveActivation, _ b: MassiveActivation) -> Bool {
        if abs(a.value) != abs(b.value) { return abs(a.value) > abs(b.value) }
        return (a.prompt, a.layer, a.position, a.dimension) < (b.prompt, b.layer, b.position, b.dimension)
    }
}

/// Massive activations of one residual dimension in one layer, over all prompts.
public struct MassiveDimension: Codable, Sendable, Equatable {
    public var layer: Int
    public var dimension: Int
    /// Number of (prompt, position) where it is massive.
    public var count: Int
    /// Largest |a| seen.
    public var maxMagnitude: Double
    /// Positions where it is massive, ascending.
    public var positions: [Int]

    public init(layer: Int, dimension: Int, count: Int, maxMagnitude: Double, positions: [Int]) {
        self.layer = layer
        self.dimension = dimension
        self.count = count
        self.maxMagnitude = maxMagnitude
        self.positions = positions
    }
}
