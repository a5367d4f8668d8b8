import MechanicSinks

/// The sink report's figures: layer × head heatmaps and attention-pattern views, one panel
/// per BOS variant.
public enum SinkReportSVG {
    /// First-token mass α₀ per layer × head, on a fixed 0–1 scale.
    public static func firstTokenMass(_ analysis: SinkAnalysis) -> String {
        heatmap(analysis, title: "First-token mass α₀ (mean over prompts)", legend: "α₀", range: 0...1, format: share) {
            $0.firstTokenMass
        }
    }

    /// Hidden sinks per layer × head (prompt × position count), on one scale for all panels.
    public static func hiddenSinks(_ analysis: SinkAnalysis) -> String {
        let most = analysis.variants.flatMap { $0.hiddenSinkCounts.joined() }.max() ?? 0
        return heatmap(analysis, title: "Hidden sinks per head (α_j > threshold, j ≥ 1)", legend: "count",
                       range: 0...Double(max(most, 1)), format: count) {
            $0.hiddenSinkCounts.map { $0.map(Double.init) }
        }
    }

    /// The attention pattern of one head on the example prompt, one panel per BOS variant;
    /// token texts label both axes, the future half is masked.
    ///
    /// - Returns: `nil` when the analysis holds no example for the head.
    public static func pattern(_ analysis: SinkAnalysis, head: HeadIndex) -> String? {
        let examples = analysis.examples.filter { $0.layer == head.layer && $0.head == head.head }
        guard let first = examples.first else { return nil }
        let panels = examples.map { example in
            let labels = example.tokens.enumerated().map { "\($0.offset) \(SinkReportText.visible($0.element))" }
            let values = example.weights.enumerated().map { i, row in row.enumerated().map { j, w in j <= i ? w : nil } }
            return SVGHeatmap.Panel(title: SinkReportSummary.label(example.bosPrepended), rowLabels: labels,
                                    columnLabels: labels, values: values)
        }
        return SVGHeatmap(title: "Attention pattern, layer \(head.layer) head \(head.head), prompt \(first.prompt)",
                          panels: panels, columnAxis: "key", rowAxis: "query", legendTitle: "attention",
                          range: 0...1, cellSize: 16, rotateColumnLabels: true, format: share).render()
    }

    /// Heads with an example pattern, in order.
    public static func patternHeads(_ analysis: SinkAnalysis) -> [HeadIndex] {
        Array(Set(analysis.examples.map { HeadIndex(layer: $0.layer, head: $0.head) })).sorted()
    }

    /// `pattern-a{layer}.{head}.svg`.
    public static func patternFileName(_ head: HeadIndex) -> String {
        "pattern-a\(head.layer).\(head.head).svg"
    }

    private static func heatmap(_ analysis: SinkAnalysis, title: String, legend: String, range: ClosedRange<Double>,
                                format: @escaping @Sendable (Double) -> String,
                                values: (SinkStatistics) -> [[Double]]) -> String {
        let panels = analysis.variants.map { s in
            SVGHeatmap.Panel(title: SinkReportSummary.label(s.bosPrepended), rowLabels: (0..<s.layers).map(String.init),
                             columnLabels: (0..<s.heads).map(String.init), values: values(s).map { $0.map(Optional.some) })
        }
        return SVGHeatmap(title: title, panels: panels, columnAxis: "head", rowAxis: "layer", legendTitle: legend,
                          range: range, format: format).render()
    }

    @Sendable private static func share(_ x: Double) -> String { SinkReportText.fixed(x, 3) }
    /// Whole numbers as such (the legend's middle tick may fall between two counts).
    @Sendable private static func count(_ x: Double) -> String { SinkReportText.fixed(x, x == x.rounded() ? 0 : 1) }
}
