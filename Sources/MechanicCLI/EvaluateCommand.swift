import ArgumentParser
import Foundation
import Mechanic

/// `mechanic evaluate`: MIB's faithfulness curves of edge-level scores, from a stored run or an
/// MIB/EAP-IG graph file.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Faithfulness curves (CPR, CMD) of edge-level circuits, from a stored run or an MIB graph file.",
        discussion: """
        For each method, the circuit of its n best edges by |score| (dangling edges pruned) at \
        0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50 and 100% of the edges, with every other edge patched; \
        f = (m(C) − m(∅)) / (m(N) − m(∅)) with m the task metric (mean over prompts), m(N) the \
        full model and m(∅) every edge patched. CPR is the area under f and CMD the area under \
        |1 − f|, by trapezoids over the raw fractions as MIB's evaluation.py integrates them (the \
        span from 50% to 100% carries half the area); --log-scale integrates over ln(fraction).         --selection greedy grows each circuit from the logits instead, adding the best edge into a         node already in it (EAP-IG's apply_greedy).

        A stored run (from mechanic discover --level edges) shows its recorded curves; --ablation \
        other than the run's, or --selection greedy, recomputes them on the run's model and prompts. A graph file (EAP-IG / \
        MIB JSON, e.g. from --mib-out or from EAP-IG's Graph.to_json) is evaluated on --model and \
        --task; if it marks edges in_graph, that circuit is evaluated too.

        --edge-truth FILE scores each method's edges against an edge-level ground truth: an MIB \
        graph file's in_graph edges, or a text file of edge names one per line \
        (input->a0.h1<q>, a0.h1->m2, m3->logits); edge ROC AUC ranks edges by |score|.

        Examples:
          mechanic evaluate 3
          mechanic evaluate 3 --ablation mean --json
          mechanic evaluate 3 --selection greedy
          mechanic evaluate 3 --edge-truth circuit-edges.txt
          mechanic evaluate --graph eap-ig.json --model artifacts/models/mechanic-mini --task ioi
        """
    )

    @Argument(help: ArgumentHelp("Stored run with edge-level scores.", valueName: "run"))
    var runID: Int64?

    @Option(help: ArgumentHelp("MIB/EAP-IG graph file to evaluate instead of a stored run.", valueName: "file"))
    var graph: String?

    @Option(help: ArgumentHelp("Model folder for --graph (default: the embedded reference model).", valueName: "folder"))
    var model = DiscoverCommand.defaultModel

    @Option(help: "Task for --graph: \(TaskRegistry.names.joined(separator: ", ")), or a .json/.jsonl file of prompts.")
    var task = DiscoverCommand.defaultTask

    @Option(help: "Task prompts made for --graph (as discover's --count); those the model gets right are kept.")
    var count = 250

    @Option(help: "Prompts --graph is evaluated on: the first kept ones (as discover's --patching-prompts).")
    var prompts = 32

    @Option(help: "Seed of --graph's prompts.") var seed: UInt64 = 0

    @Option(help: ArgumentHelp("What a patched edge carries: counterfactual, mean or zero (default: the run's).", valueName: "kind"))
    var ablation: EdgeAblation?

    @Flag(name: .customLong("log-scale"), help: "Integrate CPR and CMD over ln(fraction) instead of the fraction.")
    var logScale = false

    @Option(help: ArgumentHelp("How a circuit of n edges is chosen: top (the n best anywhere, as MIB) or greedy (grown from the logits).",
                               valueName: "kind"))
    var selection: EdgeCircuit.Selection = .top

    @Option(name: .customLong("edge-truth"), help: ArgumentHelp("Edge-level ground truth for edge ROC AUC: an MIB graph file's in_graph edges, or edge names one per line.",
                                                               valueName: "file"))
    var edgeTruth: String?

    @Flag(help: "Print JSON.") var json = false

    @Option(help: ArgumentHelp("Results database (default: $MECHANIC_DB, else mechanic.sqlite).", valueName: "file"))
    var db: String?

    @OptionGroup var weights: WeightOptions
    @OptionGroup var threads: ThreadOptions

    /// One method's curve, as printed and as `--json` gives it.
    struct Curve: Codable {
        var method: String
        var ablation: EdgeAblation
        var selection: EdgeCircuit.Selection
        var curve: FaithfulnessCurve
        var cpr: Double
        var cmd: Double
        var logScale: Bool
        /// ROC AUC of the method's |edge scores| against --edge-truth.
        var edgeAUC: Double?
    }

    func validate() throws {
        guard (runID == nil) != (graph == nil) else {
            throw ValidationError("give a stored run (mechanic evaluate RUN) or --graph FILE, not both or neither.")
        }
        try OptionLimits.check(prompts, 1...OptionLimits.prompts, "--prompts")
        try OptionLimits.check(count, 2...OptionLimits.prompts, "--count")
        if graph != nil { try validateTask(task) }
    }

    func run() throws {
        threads.apply()
        let curves = try runID.map { try stored(run: $0) } ?? fromGraphFile()
        if json { return try printJSON(curves) }
        Self.printCurves(curves)
    }

    /// A stored run's curves, recomputed when another ablation is asked for or a curve is missing.
    func stored(run id: Int64) throws -> [Curve] {
        let store = try ResultStore(path: StoreOptions.resolve(db), readOnly: true)
        guard let record = try store.run(id) else { throw CLIError("no run \(id) in \(store.path) (mechanic db runs lists them)") }
        guard let report = try store.edgeReport(run: id) else {
            throw CLIError("run \(id) has no edge-level scores; mechanic discover --level edges makes them")
        }
        let truth = try edgeGroundTruth(graph: report.graph)
        let wanted = ablation ?? report.ablation
        var recompute: (model: Transformer, prompts: [TaskPrompt])?
        return try report.methods.map { result in
            let scored = report.scored(result)
            if wanted == report.ablation, selection == .top, let recorded = result.curve {
                return curve(result.method, wanted, recorded, scored: scored, truth: truth)
            }
            if recompute == nil {
                guard let path = record.info.modelPath else { throw CLIError("run \(id) has no model path to recompute its curves with") }
                let (_, model, _) = try loadModelFolder(path, weights)
                guard ComputationalGraph(config: model.config) == report.graph else {
                    throw CLIError("the model at \(path) is not the one run \(id) scored (its graph differs)")
                }
                recompute = (model, Array(try store.positivePrompts(run: id).prefix(report.prompts)))
            }
            if !json { printError("\(result.method): faithfulness curve under \(wanted.rawValue) ablation, \(selection.rawValue) selection…") }
            let computed = try EdgeFaithfulness.curve(model: recompute!.model, prompts: recompute!.prompts, metric: report.metric,
                                                      scores: scored, ablation: wanted, selection: selection)
            return curve(result.method, wanted, computed, scored: scored, truth: truth)
        }
    }

    /// The curve of a graph file's scores, and of its in_graph circuit when it marks one.
    func fromGraphFile() throws -> [Curve] {
        let (_, model, tokenizer) = try loadModelFolder(model, weights)
        let graph = ComputationalGraph(config: model.config)
        let path = (self.graph! as NSString).expandingTildeInPath
        let contents = try MIBGraphFile.decode(try Self.contents(of: self.graph!), graph: graph)
        let truth = try edgeGroundTruth(graph: graph)
        let made = try circuitTask(task).dataset(tokenizer: tokenizer, count: count, seed: seed, prependBOS: true)
        let set = Array(try made.keepingCorrect(model: model).positives.prefix(prompts))
        guard !set.isEmpty else { throw CLIError("the model gets none of the \(made.task) prompts right; nothing to evaluate") }
        let kind = ablation ?? .counterfactual
        let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        let scored = ScoredGraph(method: name, graph: graph, scores: contents.scores, seconds: 0)
        var curves = [curve(name, kind, try EdgeFaithfulness.curve(model: model, prompts: set, metric: made.metric, scores: scored,
                                                                    ablation: kind, selection: selection), scored: scored, truth: truth)]
        if contents.circuit.edgeCount > 0 {
            let m = try EdgeFaithfulness.metric(model: model, prompts: set, metric: made.metric, circuit: contents.circuit, ablation: kind)
            let full = curves[0].curve.fullModel, empty = curves[0].curve.emptyCircuit
            let f = FaithfulnessCurve.faithfulness(m, full: full, empty: empty)
            printError(String(format: "%@'s in_graph circuit (%d edges): m = %.4f, f = %.3f", name, contents.circuit.edgeCount, m, f))
        }
        return curves
    }

    func curve(_ method: String, _ kind: EdgeAblation, _ curve: FaithfulnessCurve, scored: ScoredGraph, truth: EdgeGroundTruth?) -> Curve {
        Curve(method: method, ablation: kind, selection: selection, curve: curve, cpr: curve.cpr(logScale: logScale), cmd: curve.cmd(logScale: logScale),
              logScale: logScale, edgeAUC: truth?.auc(scored))
    }

    /// The bytes of a file named on the command line (`~` expanded).
    static func contents(of path: String, option: String? = nil) throws -> Data {
        guard let data = FileManager.default.contents(atPath: (path as NSString).expandingTildeInPath) else {
            throw CLIError("cannot read " + (option.map { $0 + " " } ?? "") + path)
        }
        return data
    }

    /// --edge-truth read against the graph being evaluated, before any curve is computed.
    func edgeGroundTruth(graph: ComputationalGraph) throws -> EdgeGroundTruth? {
        try edgeTruth.map { try Self.edgeGroundTruth(at: $0, option: "--edge-truth", graph: graph) }
    }

    /// An edge-level ground truth file read against `graph`; errors name `option` (or say "edge
    /// ground truth" for a file the command found itself) and the path.
    static func edgeGroundTruth(at path: String, option: String?, graph: ComputationalGraph) throws -> EdgeGroundTruth {
        let data = try contents(of: path, option: option)
        do {
            return try EdgeGroundTruth.read(data, graph: graph)
        } catch {
            throw CLIError("\(option ?? "edge ground truth") \(path): \(error)")
        }
    }

    /// Per method: CPR, CMD and f at each size.
    static func printCurves(_ curves: [Curve]) {
        guard let first = curves.first else { return }
        let sizes = first.curve.fractions.map { String(format: "%6g%%", $0 * 100) }.joined(separator: " ")
        let withAUC = curves.contains { $0.edgeAUC != nil }
        print("method               ablation           CPR     CMD" + (withAUC ? "  edge AUC" : "") + "   f at " + sizes)
        for c in curves {
            let f = c.curve.faithfulness.map { String(format: "%7.3f", $0) }.joined(separator: " ")
            let auc = withAUC ? (c.edgeAUC.map { String(format: " %9.3f", $0) } ?? "         –") : ""
            print(c.method.padding(toLength: 20, withPad: " ", startingAt: 0) + " " + c.ablation.rawValue.padding(toLength: 15, withPad: " ", startingAt: 0)
                  + String(format: " %7.3f %7.3f", c.cpr, c.cmd) + auc + "      " + f)
        }
        print("edges kept: " + first.curve.edgeCounts.map(String.init).joined(separator: " ")
              + String(format: "; m(full model) = %.4f, m(empty circuit) = %.4f", first.curve.fullModel, first.curve.emptyCircuit)
              + (first.logScale ? "; areas over ln(fraction)" : "; areas over the raw fractions (MIB)")
              + (first.selection == .greedy ? "; circuits grown greedily from the logits" : ""))
    }
}
