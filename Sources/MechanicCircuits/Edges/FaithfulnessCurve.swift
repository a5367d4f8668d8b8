import Foundation

/// MIB's faithfulness curve of a scored graph and its two summaries, CPR and CMD.
///
/// For circuit sizes given as fractions of all edges, `f(C) = (m(C) − m(∅)) / (m(N) − m(∅))`,
/// where m is the task metric averaged over prompts, m(N) the full model and m(∅) the model with
/// every edge ablated. CPR (circuit performance ratio) is the area under f, CMD (circuit–model
/// difference) the area under |1 − f|, both by the trapezoidal rule over the sizes.
///
/// The x-axis: like MIB's own evaluation (`evaluate_area_under_curve` in the circuit track's
/// `evaluation.py`, `log_scale` off), the trapezoids are taken over the raw fractions 0.001 … 1,
/// not over their logarithms, so the span from 50% to 100% carries half the area and the small
/// circuits almost none. `logScale: true` integrates over ln(fraction) instead (MIB's option),
/// not normalised, as MIB does not normalise it either.
public struct FaithfulnessCurve: Codable, Equatable, Sendable {
    /// MIB's circuit sizes: 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50 and 100% of edges.
    public static let mibFractions: [Double] = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1]

    /// Circuit sizes as fractions of all edges, increasing.
    public var fractions: [Double]
    /// Edges kept at each size: ⌊fraction × edges⌋, as MIB's `int(pct * n)`.
    public var edgeCounts: [Int]
    /// f at each size.
    public var faithfulness: [Double]
    /// The metric of the full model, m(N), and with every edge ablated, m(∅).
    public var fullModel: Double
    public var emptyCircuit: Double

    public init(fractions: [Double], edgeCounts: [Int], metrics: [Double], fullModel: Double, emptyCircuit: Double) {
        precondition(fractions.count == metrics.count && fractions.count == edgeCounts.count, "one metric per size")
        self.fractions = fractions
        self.edgeCounts = edgeCounts
        self.fullModel = fullModel
        self.emptyCircuit = emptyCircuit
        faithfulness = metrics.map { FaithfulnessCurve.faithfulness($0, full: fullModel, empty: emptyCircuit) }
    }

    /// f = (m − m(∅)) / (m(N) − m(∅)): 1 for the full model, 0 for the empty circuit by construction.
    public static func faithfulness(_ metric: Double, full: Double, empty: Double) -> Double {
        (metric - empty) / (full - empty)
    }

    /// Edges MIB keeps at each fraction of `total` edges.
    public static func edgeCounts(fractions: [Double] = mibFractions, total: Int) -> [Int] {
        fractions.map { Int(($0 * Double(total)).rounded(.towardZero)) }
    }

    /// CPR: the area under f (higher is better).
    public func cpr(logScale: Bool = false) -> Double {
        FaithfulnessCurve.trapezoid(x: axis(logScale), y: faithfulness)
    }

    /// CMD: the area under |1 − f| (lower is better).
    public func cmd(logScale: Bool = false) -> Double {
        FaithfulnessCurve.trapezoid(x: axis(logScale), y: faithfulness.map { abs(1 - $0) })
    }

    private func axis(_ logScale: Bool) -> [Double] {
        logScale ? fractions.map { Foundation.log($0) } : fractions
    }

    /// Σ (x₂ − x₁)(y₁ + y₂)/2 over consecutive points.
    public static func trapezoid(x: [Double], y: [Double]) -> Double {
        precondition(x.count == y.count, "one y per x")
        var area = 0.0
        for i in 0..<max(0, x.count - 1) {
            let width: Double = x[i + 1] - x[i]
            area += width * (y[i] + y[i + 1]) / 2
        }
        return area
    }
}
