import ArgumentParser
import Foundation
import Mechanic

/// `mechanic report`: one self-contained, interactive HTML page for a stored run.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write an interactive HTML report of a stored run: tables, ROC curves, heat maps, circuit graph, attention.",
        discussion: """
        One HTML file with everything inline (style, script, data, SVG figures): it opens offline \
        in any browser and can be mailed or attached to an issue. For a discovery run it shows the \
        task and its first prompts; each method's ROC AUC, precision, recall, faithfulness and \
        runtime in a table you sort by clicking a column; ROC curves; a layer × head heat map of \
        each method's scores with the ground-truth heads outlined; each method's circuit drawn by \
        Graphviz, where clicking a head opens its scores, rank, role and strongest attention; and \
        an attention explorer: the run's first --prompts prompts, run again through the run's \
        model, where hovering a token shows, for every head, where that token attends (from) or \
        what attends to it (to). Runs of discover --level edges add the faithfulness curves with \
        CPR and CMD. A sink analysis recorded with the run (mechanic sinks) is shown as heat maps \
        and a per-head table; for other runs one is computed on the run's prompts (--no-sinks \
        skips it).

        The model is the folder the run recorded. If it has moved or its weights changed since \
        (their checksum differs), the report leaves out the parts that need it and says so.

        The same run gives the same file, byte for byte. Open report.html#selftest to have the \
        page exercise itself and print what it found at its bottom.

        Examples:
          mechanic report 1                                   # → run-1-report.html
          mechanic report 3 --out ioi.html --prompts 5
          mechanic discover --count 60 --report ioi.html      # discover, then its report
          chromium --headless --screenshot=report.png --window-size=1280,2400 ioi.html
        """
    )

    @Argument(help: ArgumentHelp("Run id (mechanic db runs lists them).", valueName: "run")) var id: Int64
    @Option(help: ArgumentHelp("Output file (default: run-<id>-report.html).", valueName: "file")) var out: String?
    @Option(help: "Prompts in the attention explorer (0: no explorer).") var prompts = 3
    @Option(name: .customLong("max-tokens"), help: "Tokens of each explorer prompt kept (longer prompts are cut).")
    var maxTokens = 32
    @Flag(name: .customLong("no-sinks"), help: "Do not compute a sink analysis for runs that have none stored.") var noSinks = false
    @Option(help: ArgumentHelp("Results database (default: $MECHANIC_DB, else mechanic.sqlite).", valueName: "file")) var db: String?
    @OptionGroup var weights: WeightOptions
    @OptionGroup var threads: ThreadOptions

    func validate() throws {
        try OptionLimits.check(prompts, 0...ReportBuilder.maxPrompts, "--prompts", because: "each prompt adds every head's pattern to the page")
        try OptionLimits.check(maxTokens, 2...256, "--max-tokens", because: "the explorer draws a cell per token and head")
        if let out, out.isEmpty || out == "-" { throw ValidationError("--out needs a file name (the report is not written to standard output).") }
    }

    func run() throws {
        threads.apply()
        let destination = out ?? "run-\(id)-report.html"
        try ReportBuilder.checkWritable(destination)
        let store = try ResultStore(path: StoreOptions.resolve(db), readOnly: true)
        var builder = ReportBuilder(store: store, run: id, weights: weights)
        builder.explorerPrompts = prompts
        builder.maxTokens = maxTokens
        builder.computeSinks = !noSinks
        let html = try builder.html()
        try OutputFile.write(Data(html.utf8), to: destination)
        printError("wrote \(destination) (\(ByteCountFormatter.string(fromByteCount: Int64(html.utf8.count), countStyle: .file)))")
    }
}

/// Gathers what the report of one stored run shows, from the store and the run's model.
struct ReportBuilder {
    static let maxPrompts = 20
    /// Prompts a computed sink analysis runs on.
    static let sinkPrompts = 32

    let store: ResultStore
    let run: Int64
    let weights: WeightOptions
    var explorerPrompts = 3
    var maxTokens = 32
    var computeSinks = true
    /// A model already in memory (discover --report), used when its folder is the run's.
    var loaded: LoadedModel?

    /// A model folder loaded: its weights and tokenizer.
    struct LoadedModel {
        var folder: URL
        var model: Transformer
        var tokenizer: any Tokenizer

        func text(_ id: Int) -> String { (try? tokenizer.decode([id])) ?? "#\(id)" }
    }

    /// Refuses an output path whose folder is missing or not writable, before any work is done.
    static func checkWritable(_ path: String) throws {
        let expanded = (path as NSString).expandingTildeInPath
        if isDirectory(expanded) { throw CLIError("cannot write \(path): it is a folder; give a file name") }
        let folder = (expanded as NSString).deletingLastPathComponent
        let parent = folder.isEmpty ? "." : folder
        guard isDirectory(parent) else { throw CLIError("cannot write \(path): the folder \(parent) does not exist") }
        guard FileManager.default.isWritableFile(atPath: parent) else { throw CLIError("cannot write \(path): permission denied in \(parent)") }
    }

    /// The page.
    func html() throws -> String {
        let (data, figures) = try gather()
        return try ReportHTML.render(data, figures: figures)
    }

    /// The report's data and figures.
    func gather() throws -> (ReportData, ReportFigures) {
        guard let record = try store.run(run) else {
            throw CLIError("no run \(run) in \(store.path); `mechanic db runs` lists the runs")
        }
        let info = record.info
        var data = ReportData(run: ReportData.Run(id: run, command: info.command, arguments: info.arguments, status: record.status.rawValue,
                                                  version: info.version, seed: info.seed, modelPath: info.modelPath))
        var figures = ReportFigures()
        let heads = try headReport()
        let edges = try store.edgeReport(run: run)
        let storedSinks = try store.sinkAnalyses(run: run).last
        let prompts = try store.positivePrompts(run: run)
        let model = loadModel(info, notes: &data.notes)
        let folder = model?.folder ?? info.modelPath.map { URL(fileURLWithPath: $0) }
        if let model {
            let c = model.model.config
            data.model = ReportData.Model(name: model.folder.lastPathComponent, layers: c.layers, heads: c.heads, hasMLPs: !c.attentionOnly)
        } else if let storedSinks {
            data.model = ReportData.Model(name: folder?.lastPathComponent ?? "model", layers: storedSinks.model.layers,
                                          heads: storedSinks.model.heads, hasMLPs: true)
        } else if let heads, let most = heads.methods.flatMap(\.scores.heads).max() {
            let perLayer = heads.methods.flatMap(\.scores.heads).map(\.head).max() ?? most.head
            data.model = ReportData.Model(name: folder?.lastPathComponent ?? "model", layers: most.layer + 1, heads: perLayer + 1,
                                          hasMLPs: ExportCommand.hasMLPs(info.modelPath))
        }
        let text: (Int) -> String = { id in model?.text(id) ?? "#\(id)" }
        let taskName = heads?.task ?? edges?.task
        if let heads {
            data.task = ReportData.task(heads, prompts: prompts, answerText: model == nil ? nil : text)
        } else if let edges {
            let summary = DiscoveryReport(task: edges.task, metric: edges.metric, positives: prompts.count, negatives: 0,
                                          groundTruth: edges.groundTruth, methods: [])
            data.task = ReportData.task(summary, prompts: prompts, answerText: model == nil ? nil : text)
        }
        if let heads, let shape = data.model {
            data.methods = ReportData.methods(heads, layers: shape.layers, heads: shape.heads)
            figures.graphs = try heads.methods.map { result in
                let truth = !(heads.groundTruth ?? []).isEmpty
                let (svg, _) = try ExportCommand.render(result, of: heads, format: .svg, selection: .top(heads.groundTruth?.count ?? 10),
                                                        color: truth ? .truth : .score, showMLPs: false, modelPath: info.modelPath,
                                                        caption: "run \(run) · \(heads.task) · \(result.scores.method)", run: run)
                return (result.scores.method, String(decoding: svg, as: UTF8.self))
            }
        }
        if let edges {
            data.edges = ReportData.edges(edges)
            if figures.graphs.isEmpty {
                figures.graphs = try edges.methods.map { result in
                    let circuit = edges.scored(result).circuit(edges: 40)
                    let dot = EdgeCircuitDOT.render(graph: edges.graph, scores: result.scores, circuit: circuit,
                                                    options: .init(title: "run \(run) · \(edges.task) · \(result.method) · \(circuit.edgeCount) edges",
                                                                   highlighted: Set(edges.groundTruth ?? [])))
                    return (result.method, String(decoding: try GraphvizRenderer.render(dot: dot, format: .svg), as: UTF8.self))
                }
            }
        }
        if let folder, let taskName { data.heads = Self.headInfo(folder: folder, task: taskName) }
        if let model, explorerPrompts > 0, !prompts.isEmpty {
            data.explorer = try ReportExplorer.capture(model: model.model, prompts: prompts.prefix(explorerPrompts).map(\.tokens),
                                                       maxTokens: maxTokens, tokenText: text)
            let c = model.model.config
            data.topAttention = ReportExplorer.topAttention(data.explorer, layers: c.layers, heads: c.heads)
        }
        var sinks = storedSinks
        var source = "stored"
        if sinks == nil, computeSinks, let model, !prompts.isEmpty {
            sinks = try Self.sinkAnalysis(model, prompts: prompts)
            source = "computed"
        }
        if let analysis = sinks {
            data.sinks = ReportData.sinks(analysis, source: source)
            figures.sinks = [("First-token mass per head", SinkReportSVG.firstTokenMass(analysis)),
                             ("Hidden sinks per head", SinkReportSVG.hiddenSinks(analysis))]
            figures.sinks += SinkReportSVG.patternHeads(analysis).compactMap { head in
                SinkReportSVG.pattern(analysis, head: head).map { ("Attention pattern of \(head) on the example prompt", $0) }
            }
        }
        return (data, figures)
    }

    /// A sink analysis of the run's first prompts, with BOS if the run's prompts start with it.
    static func sinkAnalysis(_ model: LoadedModel, prompts: [TaskPrompt]) throws -> SinkAnalysis {
        let rows = prompts.prefix(sinkPrompts).map(\.tokens)
        let bos = model.tokenizer.bosID
        let withBOS = rows.allSatisfy { $0.first == bos }
        let trimmed = rows.map { withBOS ? Array($0.dropFirst()) : $0 }.filter { !$0.isEmpty }
        let tokenizer = model.tokenizer
        return try SinkAnalysis.run(model: model.model, prompts: trimmed, bosID: bos, padID: tokenizer.eosID,
                                    options: SinkOptions(prependBOS: withBOS ? .with : .without)) { id in
            (try? tokenizer.tokenStrings([id]).first) ?? "#\(id)"
        }
    }

    /// The run's head-level report, or nil for a run that recorded no task (a sink analysis).
    func headReport() throws -> DiscoveryReport? {
        do {
            return try store.report(run: run)
        } catch {
            if case .noTask = error { return nil }
            throw error
        }
    }

    /// The run's model, when its folder is still there with the same weights; a note otherwise.
    func loadModel(_ info: RunInfo, notes: inout [String]) -> LoadedModel? {
        guard let path = info.modelPath else {
            notes.append("The run recorded no model, so there is no attention explorer.")
            return nil
        }
        let folder = URL(fileURLWithPath: path)
        if let loaded, loaded.folder.standardizedFileURL == folder.standardizedFileURL { return loaded }
        guard FileManager.default.fileExists(atPath: folder.appendingPathComponent("config.json").path) else {
            notes.append("The run's model folder \(path) is not there any more: no attention explorer or computed sink analysis.")
            return nil
        }
        if let recorded = info.modelChecksum, let now = RecordedRun.checksum(folder), recorded != now {
            notes.append("The weights at \(path) changed since the run (\(now.prefix(19))… instead of \(recorded.prefix(19))…): "
                         + "no attention explorer or computed sink analysis.")
            return nil
        }
        do {
            return LoadedModel(folder: folder, model: try weights.load(folder: folder), tokenizer: try loadTokenizer(folder: folder))
        } catch {
            notes.append("The run's model at \(path) did not load (\(error)): no attention explorer or computed sink analysis.")
            return nil
        }
    }

    /// Roles and head types from the model folder: `card.json`'s head-type scores and the
    /// ground-truth file `circuits/<task>.json`.
    static func headInfo(folder: URL, task: String) -> [String: ReportData.HeadInfo] {
        struct Card: Decodable { var headTypes: HeadTypes.Scores }
        let card = (try? Data(contentsOf: folder.appendingPathComponent("card.json"))).flatMap { try? JSONDecoder().decode(Card.self, from: $0) }
        let circuit = (try? Data(contentsOf: folder.appendingPathComponent("circuits/\(task).json")))
            .flatMap { try? JSONDecoder().decode(GroundTruth.Circuit.self, from: $0) }
        return ReportData.headInfo(types: card?.headTypes, circuit: circuit)
    }
}
