import ArgumentParser
import Foundation
import Mechanic

/// `mechanic results --level edges`: every edge method on every reference model and task, with
/// MIB's CPR and CMD and a node AUC against the head-level ground truth.
extension ResultsCommand {
    /// One model × task × method, without the per-edge scores (`discover --level edges --mib-out` writes those).
    struct EdgeRow: Codable {
        var model: String
        var task: String
        var method: String
        var edges: Int
        var prompts: Int
        var ablation: EdgeAblation
        var nodeAUC: Double?
        /// Against `circuits/<task>.edges.txt`, where the model has an edge-level truth (tracr models).
        var edgeAUC: Double?
        var cpr: Double?
        var cmd: Double?
        var curve: FaithfulnessCurve?
        var seconds: Double
    }

    func runEdges(folders: [URL]) throws {
        var rows: [EdgeRow] = []
        var options = EdgeDiscovery.Options()
        options.methods = try edgeMethods.map {
            try DiscoverCommand.parseMethods($0, level: "edge-level", other: Discovery.Method.allCases.map(\.rawValue), otherLevel: "heads")
        } ?? EdgeDiscovery.Method.allCases
        options.acdcThreshold = 0.01
        for folder in folders {
            let model = try weights.load(folder: folder)
            let tokenizer = try loadTokenizer(folder: folder)
            for (taskName, task, truth) in try tasks(in: folder, model: model) {
                let edgeFile = folder.appendingPathComponent("circuits/\(taskName).edges.txt").path
                var options = options
                options.edgeTruth = try FileManager.default.fileExists(atPath: edgeFile)
                    ? EvaluateCommand.edgeGroundTruth(at: edgeFile, option: nil, graph: ComputationalGraph(config: model.config)) : nil
                let dataset = try task.dataset(tokenizer: tokenizer, count: count, seed: seed, prependBOS: true).keepingCorrect(model: model)
                let prompts = Array(dataset.positives.prefix(edgePrompts))
                let report = try EdgeDiscovery.run(model: model, task: taskName, prompts: prompts, metric: dataset.metric, groundTruth: truth,
                                                   options: options,
                                                   progress: { printError("\(folder.lastPathComponent) × \(taskName): \($0)…") })
                for m in report.methods {
                    rows.append(EdgeRow(model: folder.lastPathComponent, task: taskName, method: m.method, edges: report.graph.edges.count,
                                        prompts: prompts.count, ablation: report.ablation, nodeAUC: m.nodeAUC, edgeAUC: m.edgeAUC, cpr: m.curve?.cpr(),
                                        cmd: m.curve?.cmd(), curve: m.curve, seconds: m.seconds))
                }
            }
        }
        try write(rows, markdown: edgeMarkdown(rows), name: "edge-results")
    }

    /// The tasks of a model folder that have a ground truth (`circuits/<task>.json`): the folder's own
    /// `tasks/<task>.jsonl` when it has one (the tracr models), else the registry's task of that name.
    func tasks(in folder: URL, model: Transformer) throws -> [(String, any CircuitTask, Set<HeadID>)] {
        try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("circuits").path)
            .filter { $0.hasSuffix(".json") && !$0.hasSuffix(".minimal.json") }.sorted()
            .compactMap { file in
                let name = String(file.dropLast(5))
                let own = folder.appendingPathComponent("tasks/\(name).jsonl")
                let task: any CircuitTask
                if FileManager.default.fileExists(atPath: own.path) { task = FileTask(url: own) }
                else if let named = try? TaskRegistry.named(name) { task = named }
                else { return nil }
                return (name, task, try GroundTruthFile.heads(folder.appendingPathComponent("circuits/\(file)").path, for: model.config))
            }
    }

    func edgeMarkdown(_ rows: [EdgeRow]) -> String {
        var md = """
        # Edge-level circuit discovery on Mechanic's reference models and tracr-compiled models

        Written by `mechanic results --level edges` (seed \(seed), \(edgePrompts) prompts the model gets right per task, \
        counterfactual patching, EAP-IG with 5 steps, ACDC τ = 0.01 on the KL divergence; methods: \(Set(rows.map(\.method)).sorted().joined(separator: ", "))). For each method: the ROC AUC \
        of its edge-derived head scores (a head's total |score| over the edges it sends and receives) against the \
        model's role-based head-level ground truth; MIB's CPR (area under the faithfulness curve, higher is better) \
        and CMD (area under |1 − f|, lower is better) over its top-n circuits at 0.1 … 100% of the edges, integrated \
        over the raw fractions as MIB's evaluation.py does; f at 1% and 10% of the edges; and the method's own runtime \
        (curves not included). The trained reference models' ground truths are head-level; the tracr models also have \
        the compiler's edge-level truth (`circuits/<task>.edges.txt`: sender → receiver where the sender writes a \
        residual direction the receiver reads), so their rows give an edge AUC: the ROC AUC of |edge score| for it.

        | model | task | edges | method | node AUC | edge AUC | CPR | CMD | f @ 1% | f @ 10% | seconds |
        |---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|

        """
        func f(_ v: Double?) -> String { v.map { $0.isFinite ? String(format: "%.3f", $0) : "-" } ?? "-" }
        for r in rows {
            let at = { (fraction: Double) in r.curve.flatMap { c in c.fractions.firstIndex(of: fraction).map { c.faithfulness[$0] } } }
            md += "| \(r.model) | \(r.task) | \(r.edges) | \(r.method) | \(f(r.nodeAUC)) | \(f(r.edgeAUC)) | \(f(r.cpr)) | \(f(r.cmd)) | \(f(at(0.01))) | \(f(at(0.1))) | "
                + String(format: "%.2f", r.seconds) + " |\n"
        }
        return md
    }
}
