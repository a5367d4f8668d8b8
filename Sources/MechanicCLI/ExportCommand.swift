import ArgumentParser
import Foundation
import Mechanic

/// `mechanic export`: a stored run's circuit as a diagram (DOT, SVG, PNG, PDF) or JSON.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a stored run's circuit as Graphviz DOT, SVG, PNG, PDF or JSON.",
        discussion: """
        The circuit is the method's best heads: as many as the ground truth has (10 without one), \
        or --top / --threshold. Heads are coloured by score, or with --color truth by whether the \
        ground truth holds them; edges are the SAE's measured head pairs for the sae method, a \
        layer chain otherwise. Diagrams are rendered in-process through libgraphviz.

        Examples:
          mechanic export 3                                  # the newest method of run 3 → run-3-sae.svg
          mechanic export 3 --method patching-resample --out ioi-patching.png     # format from the extension
          mechanic export 3 --format dot --out - | dot -Tsvg > circuit.svg
          mechanic export 3 --format json --top 5
          mechanic export 4 --level edges --method eap-ig --edges 40 --out ioi-edges.svg

        --level edges draws a run of mechanic discover --level edges: the method's --edges best \
        edges by |score| with dangling ones pruned (--selection greedy grows them from the \
        logits instead), each entering its head as q, k or v (blue, \
        green, vermilion), ground-truth heads outlined; --format json writes the MIB/EAP-IG graph \
        file with that circuit marked in_graph.
        """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case dot, svg, png, pdf, json
    }

    enum Coloring: String, ExpressibleByArgument, CaseIterable {
        case score, truth, none
    }

    @Argument(help: "Run id (mechanic db runs lists them).") var id: Int64
    @Option(help: "What to draw: the run's heads, or its edges (runs of discover --level edges).")
    var level: DiscoverCommand.Level = .heads
    @Option(help: "Edges: draw the n best edges (dangling ones pruned).") var edges = 40
    @Option(name: .customLong("selection"),
            help: ArgumentHelp("Edges: top (the n best anywhere) or greedy (grown from the logits, as EAP-IG's apply_greedy).",
                               valueName: "kind"))
    var edgeSelection: EdgeCircuit.Selection = .top
    @Option(help: "Method whose circuit to draw (default: sae if the run has it, else its first method).") var method: String?
    @Option(help: "Output format: \(Format.allCases.map(\.rawValue).joined(separator: ", ")) (default: --out's extension, else svg).")
    var format: Format?
    @Option(help: ArgumentHelp("Output file, or - for standard output (default: run-<id>-<method>.<format>).", valueName: "file"))
    var out: String?
    @Option(help: "Draw the k best heads.") var top: Int?
    @Option(help: "Draw every head scoring at least this.") var threshold: Float?
    @Option(help: "Node colours: \(Coloring.allCases.map(\.rawValue).joined(separator: ", ")).") var color: Coloring = .score
    @Option(name: .customLong("max-edges"), help: "Keep only the strongest measured head-to-head edges (sae).") var maxEdges = 24
    @Flag(name: .customLong("mlps"), help: "Draw MLP nodes on the layer chain (models with MLPs).") var showMLPs = false
    @Option(help: ArgumentHelp("Results database (default: $MECHANIC_DB, else mechanic.sqlite).", valueName: "file")) var db: String?

    /// The JSON form: the circuit and the scores it came from.
    struct Circuit: Codable {
        var run: Int64?
        var task: String
        var method: String
        var heads: [HeadID]
        var groundTruth: [HeadID]?
        var result: DiscoveryReport.MethodResult
    }

    func validate() throws {
        if top != nil && threshold != nil { throw ValidationError("give --top or --threshold, not both.") }
        if let top, top < 1 { throw ValidationError("--top must be at least 1.") }
        if let threshold, !threshold.isFinite { throw ValidationError("--threshold must be a finite number (got \(threshold)).") }
        if maxEdges < 1 { throw ValidationError("--max-edges must be at least 1.") }
        try OptionLimits.check(edges, 1...1_000_000, "--edges")
    }

    func run() throws {
        let store = try ResultStore(path: StoreOptions.resolve(db), readOnly: true)
        guard let record = try store.run(id) else {
            throw CLIError("no run \(id) in \(store.path); `mechanic db runs` lists the runs")
        }
        if level == .edges { return try exportEdges(store: store, modelPath: record.info.modelPath) }
        let report = try store.report(run: id)
        guard !report.methods.isEmpty else {
            throw CLIError("run \(id) has no method results yet (status: \(record.status.rawValue))")
        }
        let names = report.methods.map(\.scores.method)
        let chosen = method ?? (names.contains("sae") ? "sae" : names[0])
        guard let result = report.methods.first(where: { $0.scores.method == chosen }) else {
            throw CLIError("run \(id) has no method \"\(chosen)\"; it has \(names.joined(separator: ", "))")
        }
        let format = self.format ?? out.flatMap { Format(rawValue: ($0 as NSString).pathExtension.lowercased()) } ?? .svg
        let selection: CircuitGraph.Selection = threshold.map { .threshold($0) } ?? .top(top ?? report.groundTruth?.count ?? 10)
        let (data, graph) = try Self.render(result, of: report, format: format, selection: selection, color: color,
                                            showMLPs: showMLPs, maxEdges: maxEdges, modelPath: record.info.modelPath, caption: "run \(id) · \(report.task) · \(chosen)",
                                            run: id)
        let destination = out ?? "run-\(id)-\(chosen).\(format.rawValue)"
        try OutputFile.write(data, to: destination)
        if destination == "-" { return }
        printError("wrote \(destination) (\(graph.nodes.count) nodes, \(graph.edges.count) edges)")
    }

    /// One method's circuit drawn (or written as JSON) in `format`, with the graph drawn.
    static func render(_ result: DiscoveryReport.MethodResult, of report: DiscoveryReport, format: Format,
                       selection: CircuitGraph.Selection, color: Coloring, showMLPs: Bool, maxEdges: Int? = 24, modelPath: String?,
                       caption: String, run: Int64?) throws -> (Data, CircuitGraph) {
        let truth = Set(report.groundTruth ?? [])
        var options = CircuitGraph.Options(selection: selection, modelHasMLPs: hasMLPs(modelPath), showMLPs: showMLPs, maxEdges: maxEdges)
        var title = caption
        if let auc = result.auc { title += String(format: " (AUC %.3f", auc) + (result.match.map { String(format: ", F1 %.3f)", $0.f1) } ?? ")") }
        options.title = title
        if color == .truth {
            guard !truth.isEmpty else { throw CLIError("no ground truth to colour by; use --color score") }
            options.roles = Dictionary(uniqueKeysWithValues: result.scores.heads.map {
                ($0, truth.contains($0) ? "in ground truth" : "not in ground truth")
            })
        }
        let graph = CircuitGraph(result: result, options: options)
        let coloring: DOTWriter.Coloring = switch color { case .score: .score; case .truth: .role; case .none: .none }
        switch format {
        case .json:
            let heads = graph.nodes.compactMap { node -> HeadID? in if case .head(let h) = node.id { h } else { nil } }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            encoder.nonConformingFloatEncodingStrategy = nonFiniteAsStrings
            let circuit = Circuit(run: run, task: report.task, method: result.scores.method, heads: heads,
                                  groundTruth: report.groundTruth, result: result)
            return (try encoder.encode(circuit) + Data("\n".utf8), graph)
        case .dot:
            return (Data(DOTWriter.render(graph, options: .init(coloring: coloring)).utf8), graph)
        case .svg, .png, .pdf:
            let dot = DOTWriter.render(graph, options: .init(coloring: coloring))
            return (try GraphvizRenderer.render(dot: dot, format: GraphvizRenderer.Format(rawValue: format.rawValue)!), graph)
        }
    }

    /// Whether the run's model has MLPs, from its config.json when the folder is still there.
    static func hasMLPs(_ modelPath: String?) -> Bool {
        guard let modelPath,
              let data = try? Data(contentsOf: URL(fileURLWithPath: modelPath).appendingPathComponent("config.json")),
              let config = try? ModelFamilies.config(data: data)
        else { return true }
        return !config.attentionOnly
    }

    /// `--level edges`: the method's best edges, drawn or as an MIB graph file.
    func exportEdges(store: ResultStore, modelPath: String?) throws {
        guard let report = try store.edgeReport(run: id) else {
            throw CLIError("run \(id) has no edge-level scores; mechanic discover --level edges makes them")
        }
        let names = report.methods.map(\.method)
        let chosen = method ?? (names.contains("eap-ig") ? "eap-ig" : names[0])
        guard let result = report.methods.first(where: { $0.method == chosen }) else {
            throw CLIError("run \(id) has no edge method \"\(chosen)\"; it has \(names.joined(separator: ", "))")
        }
        let format = self.format ?? out.flatMap { Format(rawValue: ($0 as NSString).pathExtension.lowercased()) } ?? .svg
        let circuit = report.scored(result).circuit(edges: edges, selection: edgeSelection)
        let data: Data
        switch format {
        case .json:
            let dModel = modelPath.flatMap { try? Data(contentsOf: URL(fileURLWithPath: $0).appendingPathComponent("config.json")) }
                .flatMap { try? ModelFamilies.config(data: $0) }?.dModel ?? 0
            data = try MIBGraphFile.encode(graph: report.graph, scores: result.scores, circuit: circuit, dModel: dModel)
        case .dot, .svg, .png, .pdf:
            var title = "run \(id) · \(report.task) · \(chosen) · \(circuit.edgeCount) edges"
            if let cpr = result.curve?.cpr() { title += String(format: " (CPR %.3f)", cpr) }
            let dot = EdgeCircuitDOT.render(graph: report.graph, scores: result.scores, circuit: circuit,
                                            options: .init(title: title, highlighted: Set(report.groundTruth ?? [])))
            data = format == .dot ? Data(dot.utf8) : try GraphvizRenderer.render(dot: dot, format: GraphvizRenderer.Format(rawValue: format.rawValue)!)
        }
        let destination = out ?? "run-\(id)-\(chosen)-edges.\(format.rawValue)"
        try OutputFile.write(data, to: destination)
        if destination != "-" { printError("wrote \(destination) (\(circuit.edgeCount) edges of \(report.graph.edges.count))") }
    }
}
