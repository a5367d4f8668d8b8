import MechanicSinks

/// The headline numbers of one BOS variant, shared by the Markdown and JSON reports so both
/// print the same values.
struct SinkReportSummary: Codable, Equatable {
    var bosPrepended: Bool
    var prompts: Int
    var tokens: Int
    /// Sink₁^ε over all (prompt, layer, head).
    var firstTokenSinkRate: Double
    /// Mean of α₀ over prompts, layers and heads.
    var meanFirstTokenMass: Double
    /// Mean first-token mass of each layer.
    var firstTokenMassByLayer: [Double]
    /// Mean attention entropy over layers and heads (nats).
    var meanEntropy: Double
    /// Heads that sink on the first token in at least half of the prompts.
    var firstTokenSinkHeads: [String]
    /// Heads with at least one hidden sink.
    var hiddenSinkHeads: [String]
    /// Heads with at least 0.5 hidden sinks per prompt.
    var frequentHiddenSinkHeads: [String]
    var hiddenSinks: Int
    var massiveActivations: Int

    init(_ s: SinkStatistics) {
        let cells = Double(max(s.layers * s.heads, 1))
        bosPrepended = s.bosPrepended
        prompts = s.promptCount
        tokens = s.tokenCount
        firstTokenSinkRate = s.firstTokenSinkRateOverall
        meanFirstTokenMass = s.firstTokenMass.joined().reduce(0, +) / cells
        firstTokenMassByLayer = s.firstTokenMassByLayer
        meanEntropy = s.entropy.joined().reduce(0, +) / cells
        firstTokenSinkHeads = s.firstTokenSinkHeads(minimumRate: 0.5).map(\.description)
        hiddenSinkHeads = s.hiddenSinkHeads.map(\.description)
        frequentHiddenSinkHeads = s.hiddenSinkHeads(minimumRate: 0.5).map(\.description)
        hiddenSinks = s.hiddenSinkTotal
        massiveActivations = s.massiveActivationTotal
    }

    /// "with BOS" / "without BOS".
    static func label(_ bosPrepended: Bool) -> String {
        bosPrepended ? "with BOS" : "without BOS"
    }
}
