import MechanicSinks

/// The sink analysis as a Markdown report for people: headline numbers, per-head tables,
/// the strongest hidden sinks and massive activations, and links to the figures.
///
/// Deterministic (fixed decimals, stable order); `report.json` holds every number in full.
public enum SinkReportMarkdown {
    /// Decimals of attention shares and entropies.
    static let decimals = 3
    /// Residual-norm columns shown (later positions are in `report.json`).
    static let normPositions = 16

    /// The Markdown text, ending with a newline.
    public static func render(_ analysis: SinkAnalysis) -> String {
        var lines: [String] = []
        let m = analysis.model
        lines += [
            "# Attention-sink report",
            "",
            "Model: \(m.layers) layers × \(m.heads) heads, d_model \(m.dModel), context \(m.contextLength), vocabulary \(m.vocabSize).",
            "",
        ]
        if let t = analysis.variants.first?.thresholds {
            lines += [
                "Column-normalised score of key j in a head: α_j = Σ_i A[i,j] / (number of real queries i ≥ j). "
                    + "α₀ is the mean attention mass on the first token.",
                "",
                "Thresholds: first-token sink α₀ > \(f(t.firstToken)) (ε of Sink₁^ε); hidden sink α_j > \(f(t.hiddenSink)) for j ≥ 1 seen by at least \(t.minimumObservers) queries"
                    + (t.minimumLift > 0 ? " and at least \(SinkReportText.fixed(t.minimumLift, 1)) × its score under uniform attention; " : "; ")
                    + "massive activation |a| > \(SinkReportText.fixed(t.massiveAbsolute, 1)) and ≥ "
                    + "\(SinkReportText.fixed(t.massiveRelative, 1)) × the median |a| of its hidden state.",
                "",
            ]
        }
        lines += summary(analysis)
        for variant in analysis.variants { lines += section(variant) }
        lines += patterns(analysis)
        return lines.joined(separator: "\n") + "\n"
    }

    private static func f(_ x: Double) -> String { SinkReportText.fixed(x, decimals) }

    /// A GitHub-flavoured table; the first column left-aligned, the rest right-aligned.
    static func table(_ header: [String], _ rows: [[String]]) -> [String] {
        let align = ["---"] + Array(repeating: "---:", count: max(header.count - 1, 0))
        return (["| " + header.joined(separator: " | ") + " |", "|" + align.joined(separator: "|") + "|"]
            + rows.map { "| " + $0.joined(separator: " | ") + " |" }) + [""]
    }

    private static func summary(_ analysis: SinkAnalysis) -> [String] {
        let summaries = analysis.variants.map(SinkReportSummary.init)
        func row(_ name: String, _ value: (SinkReportSummary) -> String) -> [String] { [name] + summaries.map(value) }
        let heads: ([String]) -> String = { $0.isEmpty ? "none" : $0.joined(separator: ", ") }
        return ["## Summary", ""] + table([""] + summaries.map { SinkReportSummary.label($0.bosPrepended) }, [
            row("prompts") { "\($0.prompts)" },
            row("tokens") { "\($0.tokens)" },
            row("first-token sink rate Sink₁^ε") { f($0.firstTokenSinkRate) },
            row("mean first-token mass α₀") { f($0.meanFirstTokenMass) },
            row("mean attention entropy (nats)") { f($0.meanEntropy) },
            row("first-token sink heads (rate ≥ 0.5)") { heads($0.firstTokenSinkHeads) },
            row("hidden-sink heads (≥ 0.5 per prompt)") { heads($0.frequentHiddenSinkHeads) },
            row("heads with any hidden sink") { "\($0.hiddenSinkHeads.count)" },
            row("hidden sinks (prompt × head × position)") { "\($0.hiddenSinks)" },
            row("massive activations") { "\($0.massiveActivations)" },
        ])
    }

    /// A layer × head table of numbers, with each layer's mean.
    private static func grid(_ values: [[Double]], heads: Int, format: (Double) -> String) -> [String] {
        table(["layer"] + (0..<heads).map { "H\($0)" } + ["mean"], values.enumerated().map { l, row in
            ["L\(l)"] + row.map(format) + [f(row.reduce(0, +) / Double(max(row.count, 1)))]
        })
    }

    private static func section(_ s: SinkStatistics) -> [String] {
        let label = SinkReportSummary.label(s.bosPrepended)
        var lines = ["## \(label.prefix(1).uppercased() + label.dropFirst())", ""]
        lines += ["### First-token mass α₀ (mean over prompts)", ""] + grid(s.firstTokenMass, heads: s.heads, format: f)
        lines += ["### First-token sink rate (share of prompts with α₀ > ε)", ""]
            + grid(s.firstTokenSinkRate, heads: s.heads, format: f)
        lines += ["### Attention entropy (nats, mean over real queries and prompts)", ""] + grid(s.entropy, heads: s.heads, format: f)
        lines += ["### Hidden sinks per head (prompt × position count)", ""]
            + table(["layer"] + (0..<s.heads).map { "H\($0)" } + ["total"], s.hiddenSinkCounts.enumerated().map { l, row in
                ["L\(l)"] + row.map(String.init) + [String(row.reduce(0, +))]
            })
        lines += hiddenSinks(s)
        lines += residualNorms(s)
        lines += massive(s)
        return lines
    }

    private static func hiddenSinks(_ s: SinkStatistics) -> [String] {
        guard s.hiddenSinkTotal > 0 else { return ["No hidden sinks.", ""] }
        var lines = ["### Hidden sinks by position", ""]
        lines += table(["position", "hidden sinks"], s.hiddenSinksByPosition.enumerated().filter { $0.element > 0 }.map {
            ["\($0.offset)", "\($0.element)"]
        })
        lines += ["### Tokens that become hidden sinks", "",
                  "Rate = sink events / (occurrences at positions ≥ 1 × layers × heads).", ""]
        lines += table(["token", "id", "sink events", "occurrences", "rate"], s.hiddenSinkTokens.map {
            [SinkReportText.markdownToken($0.token), "\($0.tokenID)", "\($0.sinkEvents)", "\($0.occurrences)", f($0.rate)]
        })
        lines += ["### Strongest hidden sinks (\(s.hiddenSinks.count) of \(s.hiddenSinkTotal))", ""]
        lines += table(["prompt", "layer", "head", "position", "token", "α"], s.hiddenSinks.map {
            ["\($0.prompt)", "\($0.layer)", "\($0.head)", "\($0.position)", SinkReportText.markdownToken($0.token), f($0.score)]
        })
        return lines
    }

    private static func residualNorms(_ s: SinkStatistics) -> [String] {
        let shown = min(s.longestPrompt, normPositions)
        var lines = ["### Residual-stream norm ‖resid_post‖ (mean over prompts)", ""]
        if s.longestPrompt > shown { lines += ["Positions 0–\(shown - 1); later positions are in `report.json`.", ""] }
        lines += table(["layer"] + (0..<shown).map { "pos \($0)" }, s.residualNorms.enumerated().map { l, row in
            ["L\(l)"] + row.prefix(shown).map { SinkReportText.fixed($0, 2) }
        })
        return lines
    }

    private static func massive(_ s: SinkStatistics) -> [String] {
        guard s.massiveActivationTotal > 0 else { return ["No massive activations.", ""] }
        var lines = ["### Massive activations by dimension", ""]
        lines += table(["layer", "dimension", "count", "max \\|a\\|", "positions"], s.massiveDimensions.map {
            ["\($0.layer)", "\($0.dimension)", "\($0.count)", SinkReportText.fixed($0.maxMagnitude, 2),
             $0.positions.map(String.init).joined(separator: ", ")]
        })
        lines += ["### Largest massive activations (\(s.massiveActivations.count) of \(s.massiveActivationTotal))", ""]
        lines += table(["prompt", "layer", "position", "dimension", "token", "value", "median \\|a\\|"], s.massiveActivations.map {
            ["\($0.prompt)", "\($0.layer)", "\($0.position)", "\($0.dimension)", SinkReportText.markdownToken($0.token),
             SinkReportText.fixed($0.value, 2), SinkReportText.fixed($0.medianMagnitude, 4)]
        })
        return lines
    }

    private static func patterns(_ analysis: SinkAnalysis) -> [String] {
        var lines = ["## Figures", "",
                     "- `first-token-mass.svg`: first-token mass α₀ per layer × head.",
                     "- `hidden-sinks.svg`: hidden sinks per layer × head."]
        for head in SinkReportSVG.patternHeads(analysis) {
            let examples = analysis.examples.filter { $0.layer == head.layer && $0.head == head.head }
            let variants = examples.map { SinkReportSummary.label($0.bosPrepended) }.joined(separator: " and ")
            lines.append("- `\(SinkReportSVG.patternFileName(head))`: attention pattern of layer \(head.layer), head \(head.head) "
                + "on prompt \(examples[0].prompt) (\(variants)).")
        }
        return lines + [""]
    }
}
