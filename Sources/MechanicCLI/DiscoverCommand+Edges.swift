import ArgumentParser
import Foundation
import Mechanic

/// `mechanic discover --level edges`: the edge-level methods, their faithfulness curves, the store and MIB files.
extension DiscoverCommand {
    func runEdges(folder: URL, model: Transformer, tokenizer: any Tokenizer, dataset: TaskDataset, truth: Set<HeadID>?) throws {
        var options = EdgeDiscovery.Options()
        options.methods = try parsedEdgeMethods()
        options.ablation = ablation
        options.steps = igSteps
        options.acdcThreshold = acdcThreshold
        let graph = ComputationalGraph(config: model.config)
        options.edgeTruth = try edgeGroundTruth(folder: folder, task: dataset.task, graph: graph)
        let prompts = Array(dataset.positives.prefix(patchingPrompts))
        if ablation == .counterfactual, prompts.contains(where: { $0.corruptedTokens == nil }) {
            throw CLIError("\(dataset.task) has no counterfactual prompts; use --ablation mean or zero")
        }
        if !json {
            printError("\(dataset.task): \(prompts.count) prompts, \(graph.edges.count) edges, \(ablation.rawValue) ablation; "
                       + "ground truth: \(truth.map { "\($0.count) heads" } ?? "none")"
                       + (options.edgeTruth.map { ", \($0.circuit.edgeCount) edges" } ?? ""))
        }
        var recorded: RecordedRun?
        if let store = try store.open() {
            let run = try RecordedRun.begin(store: store, command: "discover", seed: seed, model: folder)
            try run.failingOnError {
                try store.record(task: dataset, groundTruth: truth.map { $0.sorted() },
                                 tokenText: { (try? tokenizer.decode([$0])) ?? "#\($0)" }, run: run.id)
            }
            recorded = run
        }
        let work = {
            try EdgeDiscovery.run(model: model, task: dataset.task, prompts: prompts, metric: dataset.metric, groundTruth: truth,
                                  options: options,
                                  progress: { step in if !json { printError("running \(step)…") } },
                                  onResult: { result in
                                      try recorded?.store.record(edgeMethod: result, graph: graph, ablation: ablation,
                                                                 prompts: prompts.count, run: recorded!.id)
                                  })
        }
        let report = try recorded.map { try $0.finishing(work) } ?? work()
        if let recorded {
            printError("recorded as run \(recorded.id) in \(recorded.store.path) (mechanic evaluate \(recorded.id); "
                       + "mechanic export \(recorded.id) --level edges --format svg; mechanic report \(recorded.id))")
        }
        if let recorded { try writeReport(recorded, folder: folder, model: model, tokenizer: tokenizer) }
        if let mibOut { try Self.writeMIBFiles(report, folder: mibOut, dModel: model.config.dModel, quiet: json) }
        if json { return try printJSON(report) }
        Self.printEdgeMethods(report)
    }

    /// `--edge-truth`, or the model folder's `circuits/<task>.edges.txt` when it has one (tracr models).
    func edgeGroundTruth(folder: URL, task: String, graph: ComputationalGraph) throws -> EdgeGroundTruth? {
        let own = folder.appendingPathComponent("circuits/\(task).edges.txt").path
        guard let path = edgeTruth ?? (FileManager.default.fileExists(atPath: own) ? own : nil) else { return nil }
        return try EvaluateCommand.edgeGroundTruth(at: path, option: edgeTruth == nil ? nil : "--edge-truth", graph: graph)
    }

    /// One MIB/EAP-IG graph file per method, `<folder>/<method>.json`, scores and no circuit.
    static func writeMIBFiles(_ report: EdgeDiscoveryReport, folder: String, dModel: Int, quiet: Bool) throws {
        let url = URL(fileURLWithPath: (folder as NSString).expandingTildeInPath)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        for result in report.methods {
            let data = try MIBGraphFile.encode(graph: report.graph, scores: result.scores, dModel: dModel)
            let file = url.appendingPathComponent("\(result.method).json").path
            try OutputFile.write(data, to: file)
            if !quiet { printError("\(result.method) edge scores → \(file)") }
        }
    }

    /// The edge methods table: node AUC, edge AUC (with an edge-level truth), CPR, CMD, seconds and
    /// the best edges of each method.
    static func printEdgeMethods(_ report: EdgeDiscoveryReport) {
        let withEdgeAUC = report.methods.contains { $0.edgeAUC != nil }
        print("method               node AUC" + (withEdgeAUC ? " edge AUC" : "") + "     CPR     CMD  seconds  top edges (by |score|)")
        for r in report.methods {
            let ranked = r.scores.indices.filter { !r.scores[$0].isNaN }.sorted { abs(r.scores[$0]) > abs(r.scores[$1]) }.prefix(3)
            let edges = ranked.map { report.graph.name(of: report.graph.edges[$0]) }.joined(separator: " ")
            var auc = r.nodeAUC.map { String(format: "%9.3f", $0) } ?? "        -"
            if withEdgeAUC { auc += r.edgeAUC.map { String(format: "%9.3f", $0) } ?? "        -" }
            let areas = r.curve.map { String(format: " %7.3f %7.3f", $0.cpr(), $0.cmd()) } ?? "       -       -"
            print(r.method.padding(toLength: 19, withPad: " ", startingAt: 0) + " " + auc + areas + String(format: " %8.2f  ", r.seconds) + edges)
        }
        if let curve = report.methods.first?.curve {
            print(String(format: "m(full model) = %.4f, m(empty circuit) = %.4f (%@ ablation, %d prompts, %d edges)",
                         curve.fullModel, curve.emptyCircuit, report.ablation.rawValue, report.prompts, report.graph.edges.count))
        }
        if let truth = report.groundTruth {
            print("ground truth (\(truth.count) heads): \(truth.map(\.description).joined(separator: " "))")
        }
    }
}

func isDirectory(_ path: String) -> Bool {
    var directory: ObjCBool = false
    return FileManager.default.fileExists(atPath: (path as NSString).expandingTildeInPath, isDirectory: &directory) && directory.boolValue
}
