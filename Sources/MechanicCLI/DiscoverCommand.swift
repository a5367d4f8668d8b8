import ArgumentParser
import Foundation
import Mechanic

/// `mechanic discover`: score every head for a task with the discrete-SAE method and the
/// baselines, and evaluate each against the ground truth.
struct DiscoverCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "discover",
        abstract: "Find a task's circuit: SAE method and baselines, ranked heads, ROC AUC against ground truth.",
        discussion: """
        With no arguments it runs on the embedded reference model, a 6-layer GPT-2 with MLPs \
        (artifacts/models/mechanic-v2-drill-constant-narrow), and induction on repeated random \
        tokens (induction-random), against the role-based circuit stored beside the model \
        (circuits/induction-random.json: the previous-token and induction heads its card measured; \
        the greedy minimal set is circuits/induction-random.minimal.json). IOI in corpus-v2 stories \
        is --task ioi-story; that model's IOI roles lack S-inhibition and name movers (see its card), \
        and the attention-only model artifacts/models/mechanic-attn-only-v2-drill-constant has the \
        duplicate-token → S-inhibition chain. The v1 models and the template task ioi stay \
        available: --model artifacts/models/mechanic-mini --task ioi.

        Methods: sae (O'Neill & Bui 2024 node score), sae-edges (head pairs), sae-z (the node \
        score's z against shuffled labels), patching (resample activation patching per head), \
        attribution (EAP), hisp (gradient × activation), acdc.

        --level edges scores the edges of the computational graph instead (MIB's graph: input, \
        heads with separate q/k/v inputs, MLPs, logits): eap, eap-ig (interpolated inputs), \
        eap-ig-activations, edge-patching (the exact oracle: one patch per edge) and acdc-edges. \
        Each method gets MIB's faithfulness curve (top-n edges, pruned, at 0.1 … 100% of edges; \
        CPR = area under f, CMD = area under |1 − f|, over the raw fractions as MIB integrates) \
        and a node AUC from its edge-derived head scores. --mib-out writes each method's scores as \
        an EAP-IG/MIB graph file; mechanic evaluate shows the curves again.

        The SAE follows the authors' code (charlieoneill11/sae-circuits) step for step: 10 training \
        prompts drawn at random from all prompts, zero-started pre-bias, unit-norm weights with \
        projected gradients, k = heads²/2 for sae-edges. --sae-draw and --sae-pre-bias select \
        Mechanic's earlier departures.

        Label-permutation control: the SAE's codes are computed once, then the positive/negative \
        labels are shuffled --sae-permutations times. Each SAE method's "shuffled" column is its \
        ROC AUC under shuffled labels (mean ± sd); a warning says when the real AUC is within 2 sd \
        of it, i.e. the scores do not depend on the labels. This is a check on the method, not a \
        tuning of it. --json gives every head's null mean, sd, z and p.

        Examples:
          swift run -c release mechanic discover
          mechanic discover --ground-truth artifacts/models/mechanic-v2-drill-constant-narrow/circuits/induction-random.minimal.json
          mechanic discover --task ioi-story --model artifacts/models/mechanic-attn-only-v2-drill-constant
          mechanic discover --task docstring --model artifacts/models/mechanic-attn-only-4l
          mechanic discover --model ~/models/gpt2 --task ioi \\
              --ground-truth ../shared/reference/published-circuits.json#gpt2-small/ioi --json
          mechanic discover --task my-prompts.jsonl --methods sae,patching
          mechanic discover --level edges --task ioi --methods eap,eap-ig --ig-steps 5 --json
          mechanic discover --count 60 --report ioi.html     # then open ioi.html in a browser
        """
    )

    @Option(help: ArgumentHelp("Model folder (default: the embedded reference model).", valueName: "folder"))
    var model = DiscoverCommand.defaultModel

    @Option(help: "Task: \(TaskRegistry.names.joined(separator: ", ")), or a .json/.jsonl file of prompts.")
    var task = DiscoverCommand.defaultTask

    @Option(help: "What to score: heads, or the edges of the computational graph.")
    var level: Level = .heads

    @Option(help: ArgumentHelp("""
        Comma-separated methods. Heads (default: all): \(Discovery.Method.allCases.map(\.rawValue).joined(separator: ", ")). \
        Edges (default: \(DiscoverCommand.defaultEdgeMethods)): \(EdgeDiscovery.Method.allCases.map(\.rawValue).joined(separator: ", ")).
        """, valueName: "list"))
    var methods: String?

    @Option(help: "Positive and negative prompts each (the reference protocol uses 250).")
    var count = 250

    @Option(name: .customLong("patching-prompts"), help: "Prompts for patching, attribution, ACDC and faithfulness.")
    var patchingPrompts = 32

    @Option(name: .customLong("ground-truth"), help: ArgumentHelp("Ground-truth circuit file (or published-circuits.json#model/task).", valueName: "file"))
    var groundTruth: String?

    @Option(name: .customLong("sae-hidden"), help: "SAE hidden units.") var saeHidden = 200
    @Option(name: .customLong("sae-l1"), help: "SAE L1 coefficient λ (default: the task's reference value, 0.02; docstring 0.05).") var saeL1: Float?
    @Option(name: .customLong("sae-epochs"), help: "SAE full-batch epochs.") var saeEpochs = 500
    @Option(name: .customLong("sae-prompts"), help: "Prompts whose head outputs train the SAE.") var saePrompts = 10
    @Flag(name: .customLong("sae-last-position"), help: "Code each head's output at the last token instead of its mean over positions.")
    var saeLastPosition = false
    @Flag(name: .customLong("sae-normalize"), help: "Scale each head output to unit length before the SAE (not in the reference protocol).")
    var saeNormalize = false
    @Option(name: .customLong("sae-draw"), help: ArgumentHelp("Training prompts: random (the reference) or first-of-each-side.", valueName: "rule"))
    var saeDraw: SAEScoring.TrainingDraw = .random
    @Option(name: .customLong("sae-pre-bias"), help: ArgumentHelp("Starting pre-encoder bias: zero (the reference) or training-mean.", valueName: "start"))
    var saePreBias: SAEConfiguration.PreBiasStart = .zero
    @Option(name: .customLong("sae-permutations"), help: "Label shuffles of the SAE's control (0: no control and no sae-z).")
    var saePermutations = 200
    @Option(name: .customLong("acdc-threshold"), help: "ACDC threshold τ on the KL divergence.") var acdcThreshold: Float = 0.01
    @Option(help: ArgumentHelp("Edges: what a patched edge carries: counterfactual (the corrupted prompt's value), mean or zero.", valueName: "kind"))
    var ablation: EdgeAblation = .counterfactual
    @Option(name: .customLong("ig-steps"), help: "Edges: EAP-IG interpolation steps.") var igSteps = 5
    @Option(name: .customLong("mib-out"), help: ArgumentHelp("Edges: write each method's scores as an MIB graph file <method>.json in this folder.", valueName: "folder"))
    var mibOut: String?
    @Option(name: .customLong("edge-truth"), help: ArgumentHelp(
        "Edges: edge-level ground truth for an edge ROC AUC (MIB graph file or edge names one per line; default: the model's circuits/<task>.edges.txt when it has one).",
        valueName: "file"))
    var edgeTruth: String?
    @Option(help: "Seed of the prompts and the SAE.") var seed: UInt64 = 0
    @Flag(name: .customLong("no-prepend-bos"), help: "Do not prepend <|endoftext|>.") var noBOS = false
    @Flag(help: "Print JSON.") var json = false
    @Option(help: ArgumentHelp("Also draw the circuit to this file (.svg, .png, .pdf, .dot or .json, by extension).", valueName: "file"))
    var diagram: String?
    @Option(name: .customLong("diagram-method"), help: "Method whose circuit --diagram draws (default: the first method).")
    var diagramMethod: String?
    @Option(help: ArgumentHelp("Also write the run's interactive HTML report (mechanic report) to this file.", valueName: "file"))
    var report: String?
    @Option(help: ArgumentHelp("Continue a stored run that was interrupted: run only the methods it lacks.", valueName: "run"))
    var resume: Int64?
    @OptionGroup var store: StoreOptions
    @OptionGroup var weights: WeightOptions
    @OptionGroup var threads: ThreadOptions

    static let defaultModel = "artifacts/models/mechanic-v2-drill-constant-narrow"
    /// The task of the commands that default to the embedded model: the one its role-based circuit is for.
    static let defaultTask = "induction-random"
    static let defaultEdgeMethods = "eap,eap-ig,edge-patching"

    enum Level: String, ExpressibleByArgument, CaseIterable {
        case heads, edges
    }

    /// The head-level methods of `--methods`, in the order given (all by default).
    func parsedMethods() throws -> [Discovery.Method] {
        try Self.parseMethods(methods ?? Discovery.Method.allCases.map(\.rawValue).joined(separator: ","), level: "head-level",
                              other: EdgeDiscovery.Method.allCases.map(\.rawValue), otherLevel: "edges")
    }

    /// The edge-level methods of `--methods`, in the order given.
    func parsedEdgeMethods() throws -> [EdgeDiscovery.Method] {
        try Self.parseMethods(methods ?? Self.defaultEdgeMethods, level: "edge-level",
                              other: Discovery.Method.allCases.map(\.rawValue), otherLevel: "heads")
    }

    /// Methods from a comma-separated list: at least one, each named once (a repeat would run and
    /// store the same method twice, so it is refused rather than guessed at); a method of the
    /// other level says which `--level` it needs.
    static func parseMethods<M: RawRepresentable & CaseIterable & Hashable>(
        _ text: String, level: String, other: [String], otherLevel: String
    ) throws -> [M] where M.RawValue == String {
        let all = M.allCases.map(\.rawValue).joined(separator: ", ")
        let names = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard !text.isEmpty, !names.contains("") else {
            throw ValidationError("--methods \"\(text)\" has an empty name; give comma-separated methods from: \(all).")
        }
        var seen: Set<M> = []
        return try names.map { name in
            guard let m = M(rawValue: name) else {
                if other.contains(name) { throw ValidationError("\(name) is not a \(level) method; it needs --level \(otherLevel).") }
                throw ValidationError("unknown method \"\(name)\"; \(level) methods: \(all).")
            }
            guard seen.insert(m).inserted else { throw ValidationError("--methods names \(name) twice; give each method once.") }
            return m
        }
    }

    func validate() throws {
        if report != nil && store.noDB { throw ValidationError("--report draws the stored run; drop --no-db.") }
        if let report { try ReportBuilder.checkWritable(report) }
        if level == .edges {
            _ = try parsedEdgeMethods()
            try OptionLimits.check(igSteps, 1...OptionLimits.igSteps, "--ig-steps", because: "each step is a forward and a backward pass (MIB uses 5 to 30)")
            if resume != nil { throw ValidationError("--resume continues head-level runs only; rerun the edge-level discovery.") }
            if diagram != nil { throw ValidationError("--diagram draws head-level circuits; for edges use mechanic export RUN --level edges.") }
            if let mibOut, FileManager.default.fileExists(atPath: mibOut), !isDirectory(mibOut) {
                throw ValidationError("--mib-out \(mibOut) is a file; give a folder (it is created if missing).")
            }
            try OptionLimits.check(patchingPrompts, 1...OptionLimits.prompts, "--patching-prompts")
            try OptionLimits.check(acdcThreshold, atLeast: 0, "--acdc-threshold")
            return try validateTask(task)
        }
        if methods != nil, (try? parsedEdgeMethods()) != nil, (try? parsedMethods()) == nil {
            throw ValidationError("\(methods!) are edge-level methods; add --level edges.")
        }
        _ = try parsedMethods()
        try OptionLimits.check(count, 2...OptionLimits.prompts, "--count")
        try OptionLimits.check(patchingPrompts, 1...OptionLimits.prompts, "--patching-prompts")
        try OptionLimits.check(saePrompts, 2...OptionLimits.prompts, "--sae-prompts", because: "the SAE trains on positives and negatives")
        try OptionLimits.check(saeHidden, 1...OptionLimits.saeHidden, "--sae-hidden", because: "the SAE's size and training time grow with it (the reference uses 200)")
        try OptionLimits.check(saeEpochs, 0...OptionLimits.epochs, "--sae-epochs", because: "each epoch is a full pass (the reference uses 500)")
        if let saeL1 { try OptionLimits.check(saeL1, atLeast: 0, "--sae-l1") }
        try OptionLimits.check(acdcThreshold, atLeast: 0, "--acdc-threshold")
        try OptionLimits.check(saePermutations, 0...OptionLimits.permutations, "--sae-permutations")
        if saePermutations == 0, try parsedMethods().contains(.saeZ) {
            throw ValidationError("sae-z ranks heads by the label-permutation control; give --sae-permutations above 0 or drop sae-z.")
        }
        if let diagram, ExportCommand.Format(rawValue: (diagram as NSString).pathExtension.lowercased()) == nil {
            throw ValidationError("--diagram \(diagram): the extension picks the format; use .svg, .png, .pdf, .dot or .json.")
        }
        if let diagramMethod, !Discovery.Method.allCases.contains(where: { $0.rawValue == diagramMethod || $0.resultName == diagramMethod }) {
            throw ValidationError("--diagram-method \(diagramMethod) is not a method; methods: \(Discovery.Method.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        if resume != nil && store.noDB { throw ValidationError("--resume needs the results database; drop --no-db.") }
        try validateTask(task)
    }

    func run() throws {
        threads.apply()
        let (folder, loaded, tokenizer) = try loadModelFolder(model, weights)
        // A --ground-truth for another model is refused before any prompt is run.
        let givenTruth = try groundTruth.map { try GroundTruthFile.heads($0, for: loaded.config) }
        let taskSource = try circuitTask(task)
        let made = try taskSource.dataset(tokenizer: tokenizer, count: count, seed: seed, prependBOS: !noBOS)
        let dataset = try made.keepingCorrect(model: loaded)
        guard dataset.positives.count >= 2 else {
            throw CLIError("the model gets only \(dataset.positives.count) of \(made.positives.count) \(dataset.task) prompts right; nothing to analyse")
        }
        var truth = givenTruth
        if givenTruth == nil {
            let own = folder.appendingPathComponent("circuits/\(dataset.task).json")
            if FileManager.default.fileExists(atPath: own.path) { truth = try GroundTruthFile.heads(own.path, for: loaded.config) }
        }
        if level == .edges {
            return try runEdges(folder: folder, model: loaded, tokenizer: tokenizer, dataset: dataset, truth: truth)
        }
        var sae = SAEScoring.Options(
            sae: SAEConfiguration(inputDimension: loaded.config.dModel, hiddenUnits: saeHidden, l1Coefficient: saeL1 ?? taskSource.saeL1,
                                  epochs: saeEpochs, seed: seed, preBiasStart: saePreBias),
            trainingPrompts: saePrompts, trainingDraw: saeDraw, meanOverPositions: !saeLastPosition, normalizeOutputs: saeNormalize)
        sae.control = LabelPermutation.Options(permutations: saePermutations, seed: seed)
        var options = Discovery.Options(sae: sae)
        options.methods = try parsedMethods()
        options.patchingPrompts = patchingPrompts
        options.acdcThreshold = acdcThreshold
        options.seed = seed
        if !json {
            printError("\(dataset.task): \(dataset.positives.count) positives (\(dataset.droppedPositives) dropped: the model got them wrong), "
                       + "\(dataset.negatives.count) negatives; ground truth: \(truth.map { "\($0.count) heads" } ?? "none")")
        }
        let (recorded, skipping) = try startRun(folder: folder, dataset: dataset, truth: truth, tokenizer: tokenizer, options: options)
        let work = {
            try Discovery.run(model: loaded, dataset: dataset, groundTruth: truth, options: options, skipping: skipping,
                              progress: { method in if !json { printError("running \(method)…") } },
                              onResult: { result in try recorded?.store.record(method: result, run: recorded!.id) })
        }
        var report = try recorded.map { try $0.finishing(work) } ?? work()
        if let recorded {
            // A resumed run reports every method it has, not only those run now.
            if !skipping.isEmpty { report = try recorded.store.report(run: recorded.id) }
            printError("recorded as run \(recorded.id) in \(recorded.store.path) "
                       + "(mechanic db show \(recorded.id); mechanic export \(recorded.id) --format svg; mechanic report \(recorded.id))")
        }
        if let diagram { try draw(report, to: diagram, modelPath: folder.path) }
        if let recorded { try writeReport(recorded, folder: folder, model: loaded, tokenizer: tokenizer) }
        if json { return try printJSON(report) }
        Self.printMethods(report)
    }

    /// Writes `--report`: the page `mechanic report` makes of the run just recorded, with the model in memory.
    func writeReport(_ recorded: RecordedRun, folder: URL, model: Transformer, tokenizer: any Tokenizer) throws {
        guard let report else { return }
        var builder = ReportBuilder(store: recorded.store, run: recorded.id, weights: weights)
        builder.loaded = ReportBuilder.LoadedModel(folder: folder, model: model, tokenizer: tokenizer)
        try OutputFile.write(Data(try builder.html().utf8), to: report)
        if !json { printError("report → \(report)") }
    }

    /// Writes `--diagram`: the chosen method's top-|ground truth| heads (10 without one).
    func draw(_ report: DiscoveryReport, to file: String, modelPath: String) throws {
        let wanted = diagramMethod.flatMap { name in Discovery.Method.allCases.first { $0.rawValue == name || $0.resultName == name } }
        let found = wanted.map { m in report.methods.first { $0.scores.method == m.resultName } } ?? report.methods.first
        guard let result = found else {
            throw CLIError("--diagram-method \(diagramMethod ?? "") was not run; add it to --methods")
        }
        let format = ExportCommand.Format(rawValue: (file as NSString).pathExtension.lowercased())!
        let (data, _) = try ExportCommand.render(result, of: report, format: format, selection: .top(report.groundTruth?.count ?? 10),
                                                 color: .score, showMLPs: false, modelPath: modelPath,
                                                 caption: "\(report.task) · \(result.scores.method)", run: nil)
        try OutputFile.write(data, to: file)
        if !json { printError("circuit diagram → \(file)") }
    }

    /// Begins (or with `--resume`, takes up again) the stored run and records its task; returns the
    /// methods a resumed run already has.
    func startRun(folder: URL, dataset: TaskDataset, truth: Set<HeadID>?, tokenizer: any Tokenizer,
                  options: Discovery.Options) throws -> (RecordedRun?, Set<Discovery.Method>) {
        guard let store = try store.open() else { return (nil, []) }
        guard let resume else {
            let recorded = try RecordedRun.begin(store: store, command: "discover", seed: seed, model: folder)
            try recorded.failingOnError {
                try store.record(task: dataset, groundTruth: truth.map { $0.sorted() },
                                 tokenText: { (try? tokenizer.decode([$0])) ?? "#\($0)" }, run: recorded.id)
                if options.methods.contains(.sae) || options.methods.contains(.saeEdges) {
                    try store.record(sae: options.sae.sae, trainingPrompts: options.sae.trainingPrompts, run: recorded.id)
                }
            }
            return (recorded, [])
        }
        guard let previous = try store.run(resume) else { throw CLIError("--resume \(resume): no run \(resume) in \(store.path) (mechanic db runs lists them)") }
        guard previous.info.command == "discover" else { throw CLIError("--resume \(resume): run \(resume) is `\(previous.info.command)`, not discover") }
        let stored = try store.report(run: resume)
        let checksum = RecordedRun.checksum(folder)
        guard stored.task == dataset.task, previous.info.modelChecksum == checksum else {
            throw CLIError("--resume \(resume): that run was \(stored.task) on \(previous.info.modelPath ?? "?"); give the same --model and --task")
        }
        let (recorded, done) = try RecordedRun.resume(store: store, id: resume)
        let skipping = Set(Discovery.Method.allCases.filter { done.contains($0.resultName) })
        if !json { printError("resuming run \(resume): \(done.isEmpty ? "no method" : done.joined(separator: ", ")) already done") }
        return (recorded, skipping)
    }

    /// The methods table: AUC, precision, recall, faithfulness, seconds and top heads of each method.
    static func printMethods(_ report: DiscoveryReport) {
        print("method               ROC AUC     shuffled  precision  recall  circuit/full  seconds  top heads")
        for r in report.methods {
            let top = CircuitEvaluation.topHeads(scores: r.scores.scores, heads: r.scores.heads, k: 6).map(\.description).joined(separator: " ")
            let shuffled = r.control?.shuffledAUC.map { String(format: " %5.3f±%5.3f", $0.mean, $0.sd) } ?? "            -"
            let auc = (r.auc.map { String(format: "%7.3f", $0) } ?? "      -") + shuffled
            let p = r.match.map { String(format: "%9.2f %8.2f", $0.precision, $0.recall) } ?? "        -        -"
            let f = r.faithfulness.map { String(format: "%13.2f", $0.recovered) } ?? "            -"
            let name = r.scores.method.padding(toLength: 19, withPad: " ", startingAt: 0)
            print(name + " " + auc + " " + p + " " + f + String(format: " %8.2f  ", r.scores.seconds) + top)
        }
        if let truth = report.groundTruth {
            print("ground truth (\(truth.count) heads): \(truth.map(\.description).joined(separator: " "))")
        }
        for line in controlWarnings(report) { printError(line) }
    }

    /// One line per SAE method whose real AUC is within 2 sd of its shuffled-label AUC.
    static func controlWarnings(_ report: DiscoveryReport) -> [String] {
        report.methods.compactMap { r in
            guard let auc = r.auc, let control = r.control, let shuffled = control.shuffledAUC, shuffled.withinNoise else { return nil }
            return String(format: "warning: %@'s ROC AUC %.3f is within noise of its AUC under shuffled labels (%.3f ± %.3f over %d permutations): "
                          + "its scores do not depend on which prompts are positive here.", r.scores.method, auc, shuffled.mean,
                          shuffled.sd, control.permutations)
        }
    }
}
