import ArgumentParser
import Foundation
import Mechanic

/// `mechanic results`: the model × task × method table against the reference models' ground truth.
struct ResultsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "results",
        abstract: "Run every method on every reference model and task with a ground-truth circuit; write results.md and results.json.",
        discussion: """
        Looks for model folders under --models that hold circuits/<task>.json (written by \
        `mechanic card`, or by scripts/tracr/ for the compiled models, whose tasks are the folder's \
        tasks/<task>.jsonl), runs `discover` on each with the same settings, and writes one table. \
        Every AUC is given against both ground truths: the role-based circuit (circuits/<task>.json) \
        and, where the card derived one, the greedy minimal set (circuits/<task>.minimal.json).

        Example:
          swift run -c release mechanic results --models artifacts/models --out artifacts
          swift run -c release mechanic results --level edges     # edge-results.md: CPR, CMD, node AUC
        """
    )

    @Option(help: ArgumentHelp("Folder of model folders.", valueName: "folder")) var models = "artifacts/models"
    @Option(help: ArgumentHelp("Where results.md and results.json go.", valueName: "folder")) var out = "artifacts"
    @Option(help: "Positive and negative prompts each.") var count = 250
    @Option(help: "Seed of the prompts and SAEs.") var seed: UInt64 = 0
    @Option(help: "SAE trials per model and task (new SAE seed and training prompts each), reported as mean ± sd, as the reference protocol does.")
    var trials = 10
    @Option(help: "heads: the head-level table (results.md); edges: every edge method with CPR and CMD (edge-results.md).")
    var level: DiscoverCommand.Level = .heads
    @Option(name: .customLong("edge-prompts"), help: "Edges: prompts per task the edge methods and curves use.")
    var edgePrompts = 32
    @Option(name: .customLong("edge-methods"), help: ArgumentHelp("Edges: comma-separated edge methods (default: all).", valueName: "list"))
    var edgeMethods: String?
    @OptionGroup var weights: WeightOptions
    @OptionGroup var threads: ThreadOptions

    struct Row: Codable {
        var model: String
        var report: DiscoveryReport
        /// ROC AUC of the SAE node and edge methods in each trial (trial 0 is the report's own);
        /// keys ending "@minimal" are against the minimal ground truth.
        var saeTrials: [String: [Double]]?
        /// The greedy minimal ground truth and each method's ROC AUC against it.
        var minimalTruth: [HeadID]?
        var minimalAUC: [String: Double]?
    }

    func validate() throws {
        if trials < 1 { throw ValidationError("--trials must be at least 1.") }
        try OptionLimits.check(edgePrompts, 1...OptionLimits.prompts, "--edge-prompts")
        try OptionLimits.check(count, 2...OptionLimits.prompts, "--count")
    }

    /// The SAE methods' AUCs over `trials` SAEs, each with its own seed, so its own random draw of
    /// training prompts and its own label shuffles, as the reference code's 10 trials. Keys: the
    /// method (`sae`, `sae-edges`, `sae-z`, `sae-normalized`), `<method>@shuffled` for the mean AUC
    /// under shuffled labels, `<method>@minimal` against the minimal ground truth.
    func saeTrials(model: Transformer, dataset: TaskDataset, l1: Float, truth: Set<HeadID>, minimal: Set<HeadID>?,
                   first: DiscoveryReport) throws -> [String: [Double]] {
        var aucs: [String: [Double]] = [:]
        func record(_ scores: HeadScores, _ control: LabelPermutation.HeadControl?, as name: String) {
            aucs[name, default: []].append(Self.auc(scores, truth))
            if let minimal { aucs[name + "@minimal", default: []].append(Self.auc(scores, minimal)) }
            if var control {
                if control.shuffledAUC == nil { control.evaluate(observed: Self.auc(scores, truth), truth: scores.heads.map { truth.contains($0) }) }
                if let shuffled = control.shuffledAUC { aucs[name + "@shuffled", default: []].append(shuffled.mean) }
            }
        }
        // Trial 0 is the report's own run.
        for m in first.methods where m.scores.method.hasPrefix("sae") { record(m.scores, m.control, as: m.scores.method) }
        // Capture the head outputs once; every trial draws its own training prompts from them.
        let c = model.config
        let captured = try SAEScoring.capture(model: model, dataset: dataset, options: SAEScoring.Options(sae: SAEConfiguration(inputDimension: c.dModel)))
        for trial in 0..<trials {
            let trialSeed = seed &+ UInt64(trial)
            var options = SAEScoring.Options(sae: SAEConfiguration(inputDimension: c.dModel, l1Coefficient: l1, seed: trialSeed))
            options.control.seed = trialSeed
            if trial > 0 {
                let result = try SAEScoring.score(positive: captured.positive, negative: captured.negative, layers: c.layers, heads: c.heads,
                                                  options: options)
                record(result.nodes, result.nodeControl, as: result.nodes.method)
                record(result.edgeNodes, result.edgeNodeControl, as: result.edgeNodes.method)
                if let z = result.zScores { record(z, result.zControl, as: z.method) }
            }
            // The unit-length variant (not in the reference protocol), over the same trials.
            options.normalizeOutputs = true
            options.control.permutations = 0
            let normalized = try SAEScoring.score(positive: captured.positive, negative: captured.negative, layers: c.layers, heads: c.heads,
                                                  options: options)
            record(normalized.nodes, nil, as: "sae-normalized")
        }
        return aucs
    }

    static func auc(_ scores: HeadScores, _ truth: Set<HeadID>) -> Double {
        CircuitEvaluation.rocAUC(scores: scores.scores, labels: scores.heads.map { truth.contains($0) }) ?? .nan
    }

    func run() throws {
        threads.apply()
        let root = URL(fileURLWithPath: (models as NSString).expandingTildeInPath)
        let folders = try FileManager.default.contentsOfDirectory(atPath: root.path).sorted()
            .map { root.appendingPathComponent($0) }
            .filter { FileManager.default.fileExists(atPath: $0.appendingPathComponent("circuits").path) }
        guard !folders.isEmpty else { throw CLIError("no model folder under \(root.path) has circuits/; run `mechanic card` first") }
        if level == .edges { return try runEdges(folders: folders) }
        var rows: [Row] = []
        for folder in folders {
            let model = try weights.load(folder: folder)
            let tokenizer = try loadTokenizer(folder: folder)
            for (taskName, task, truth) in try tasks(in: folder, model: model) {
                printError("\(folder.lastPathComponent) × \(taskName)…")
                let dataset = try task.dataset(tokenizer: tokenizer, count: count, seed: seed, prependBOS: true).keepingCorrect(model: model)
                var options = Discovery.Options(sae: SAEScoring.Options(sae: SAEConfiguration(inputDimension: model.config.dModel, l1Coefficient: task.saeL1, seed: seed)))
                options.sae.control.seed = seed
                options.seed = seed
                let minimalFile = folder.appendingPathComponent("circuits/\(taskName).minimal.json")
                let minimal = FileManager.default.fileExists(atPath: minimalFile.path) ? try GroundTruthFile.heads(minimalFile.path, for: model.config) : nil
                let report = try Discovery.run(model: model, dataset: dataset, groundTruth: truth, options: options)
                for line in DiscoverCommand.controlWarnings(report) { printError("\(folder.lastPathComponent) × \(taskName): " + line) }
                let minimalAUC = minimal.map { m in Dictionary(report.methods.map { ($0.scores.method, Self.auc($0.scores, m)) }, uniquingKeysWith: { first, _ in first }) }
                rows.append(Row(model: folder.lastPathComponent, report: report,
                                saeTrials: try saeTrials(model: model, dataset: dataset, l1: task.saeL1, truth: truth, minimal: minimal, first: report),
                                minimalTruth: minimal?.sorted(), minimalAUC: minimalAUC))
            }
        }
        try write(rows, markdown: markdown(rows), name: "results")
    }

    /// Writes `<out>/<name>.json` and `<out>/<name>.md`, and prints the Markdown.
    func write<Rows: Encodable>(_ rows: Rows, markdown: String, name: String) throws {
        let outFolder = URL(fileURLWithPath: (out as NSString).expandingTildeInPath)
        try FileManager.default.createDirectory(at: outFolder, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = nonFiniteAsStrings
        try encoder.encode(rows).write(to: outFolder.appendingPathComponent("\(name).json"), options: .atomic)
        try markdown.write(to: outFolder.appendingPathComponent("\(name).md"), atomically: true, encoding: .utf8)
        print(markdown)
    }

    func markdown(_ rows: [Row]) -> String {
        var md = """
        # Circuit discovery on Mechanic's reference models and tracr-compiled models

        Node-level ROC AUC of each method's head scores against the model's ground-truth circuit
        (`circuits/<task>.json`: role-based from `mechanic card` for the trained reference models,
        the heads the compiler used for the `tracr-*` models) and against its greedy minimal set
        (`circuits/<task>.minimal.json`), precision and recall of its top-|circuit| heads (role-based),
        the share of the task metric those heads keep alone (mean ablation), and runtime.
        Regenerate with `swift run -c release mechanic results`.

        For the SAE methods, "shuffled" is the ROC AUC under shuffled positive/negative labels
        (mean ± sd over 200 shuffles of the same codes; ⚠ where the real AUC is within 2 sd of it;
        see the trials table below).

        | model | task | circuit (role / minimal) | method | ROC AUC (role) | shuffled | ROC AUC (minimal) | precision | recall | kept | seconds |
        |---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|

        """
        for row in rows {
            for m in row.report.methods {
                md += "| \(row.model) | \(row.report.task) | \(row.report.groundTruth?.count ?? 0) / \(row.minimalTruth.map { String($0.count) } ?? "-") | \(m.scores.method) | "
                md += (m.auc.map { String(format: "%.3f", $0) } ?? "-") + " | "
                md += (m.control?.shuffledAUC.map { String(format: "%.3f ± %.3f", $0.mean, $0.sd) + ($0.withinNoise ? " ⚠" : "") } ?? "-") + " | "
                md += (row.minimalAUC?[m.scores.method].map { String(format: "%.3f", $0) } ?? "-") + " | "
                md += (m.match.map { String(format: "%.2f | %.2f", $0.precision, $0.recall) } ?? "- | -") + " | "
                md += (m.faithfulness.map { String(format: "%.0f%%", 100 * $0.recovered) } ?? "-") + " | "
                md += String(format: "%.2f", m.scores.seconds) + " |\n"
            }
        }
        md += """

        ## The SAE methods over \(trials) trials

        Each trial trains a new SAE with its own seed, so on its own random draw of 10 training
        prompts, as the reference code's 10 trials; ROC AUC mean ± standard deviation (population,
        as the reference reports it). The published figures on GPT-2 small and attn-only-4l are
        0.868 ± 0.008 (IOI), 0.855 ± 0.036 (greater-than) and 0.869 ± 0.038 (docstring) for the
        node method.

        "shuffled" is the label-permutation control: the same codes scored with the positive and
        negative labels shuffled (200 shuffles per trial), mean over trials of the mean AUC. A real
        AUC close to it means the scores do not depend on the labels: the method measured code
        diversity, not the task. `sae-z` ranks heads by the z-score of their node score against
        that null. This is a check on the method, not a tuning of it.

        "unit-length" is a variant outside the reference protocol (`--sae-normalize`): every head
        output scaled to unit length before the SAE, so heads with large outputs do not dominate
        the reconstruction loss. The last column is the node method against the minimal set.

        | model | task | circuit | sae (node) | shuffled | sae-z | sae-edges | shuffled | best trial (node) | unit-length | sae (node) vs minimal |
        |---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|

        """
        for row in rows {
            guard let trials = row.saeTrials else { continue }
            func stat(_ values: [Double]?) -> String {
                // No AUC exists when every head is in the ground truth (tracr-hist has one head).
                guard let values = values?.filter({ !$0.isNaN }), !values.isEmpty else { return "-" }
                let mean = values.reduce(0, +) / Double(values.count)
                let sd = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)).squareRoot()
                return String(format: "%.3f ± %.3f", mean, sd)
            }
            md += "| \(row.model) | \(row.report.task) | \(row.report.groundTruth?.count ?? 0) | \(stat(trials["sae"])) | "
            md += "\(stat(trials["sae@shuffled"])) | \(stat(trials["sae-z"])) | \(stat(trials["sae-edges"])) | \(stat(trials["sae-edges@shuffled"])) | "
            md += (trials["sae"]?.filter { !$0.isNaN }.max().map { String(format: "%.3f", $0) } ?? "-") + " | \(stat(trials["sae-normalized"])) | \(stat(trials["sae@minimal"])) |\n"
        }
        return md
    }
}
