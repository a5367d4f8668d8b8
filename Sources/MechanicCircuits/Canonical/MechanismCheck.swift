/// One canonical-mechanism check of a model card: what was measured, the bar it must clear, and
/// whether it did. Checks are never loosened to pass; a failed one reports its measured value.
public struct MechanismCheck: Codable, Equatable, Sendable {
    public var name: String
    public var measured: Double
    /// The bar, read with `comparison` ("≥ 0.4", "< 1").
    public var threshold: Double
    public var comparison: Comparison
    public var detail: String

    public enum Comparison: String, Codable, Sendable {
        case atLeast = "≥"
        case above = ">"
        case below = "<"
    }

    public init(_ name: String, measured: Double, _ comparison: Comparison, _ threshold: Double, detail: String = "") {
        self.name = name
        self.measured = measured
        self.comparison = comparison
        self.threshold = threshold
        self.detail = detail
    }

    public var passed: Bool {
        guard measured.isFinite else { return false }
        switch comparison {
        case .atLeast: return measured >= threshold
        case .above: return measured > threshold
        case .below: return measured < threshold
        }
    }
}

/// Mean of `values` (0 for none).
func mean(_ values: [Float]) -> Float {
    values.isEmpty ? 0 : values.reduce(0, +) / Float(values.count)
}
