import ArgumentParser
import Foundation
import Mechanic

/// Gathers what the report of one stored run shows, from the store and the run's model.
struct ReportBuilder {
    static let maxPrompts = 20
    /// Prompts a computed sink analysis runs on.
    static let sinkPrompts = 32
    /// Edges drawn in an edge-level run's graphs (as `mechanic export --level edges` by default).
    static let graphEdges = 40

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
        data.model = Self.shape(model: model, folder: folder, sinks: storedSinks, heads: heads, modelPath: info.modelPath)
        let answerText: ((Int) -> String)? = model.map { loaded in { loaded.text($0) } }
        if let heads {
            data.task = ReportData.task(heads, prompts: prompts, answerText: answerText)
            if let shape = data.model { data.methods = ReportData.methods(heads, layers: shape.layers, heads: shape.heads) }
            figures.graphs = try graphs(heads, modelPath: info.modelPath)
        }
        if let edges {
            // Edge runs record their task but no head-level methods: their heads are scored from the edges.
            let derived = ReportData.headLevel(edges, positives: prompts.count)
            if data.task == nil { data.task = ReportData.task(derived, prompts: prompts, answerText: answerText) }
            if data.methods.isEmpty, let shape = data.model {
                data.methods = ReportData.methods(derived, layers: shape.layers, heads: shape.heads)
                data.headScoresFromEdges = true
            }
            data.edges = ReportData.edges(edges)
            if figures.graphs.isEmpty { figures.graphs = try graphs(edges) }
        }
        if let folder, let task = heads?.task ?? edges?.task { data.heads = Self.headInfo(folder: folder, task: task) }
        if let model, explorerPrompts > 0, !prompts.isEmpty {
            data.explorer = try ReportExplorer.capture(model: model.model, prompts: prompts.prefix(explorerPrompts).map(\.tokens),
                                                       maxTokens: maxTokens, tokenText: model.text)
            let c = model.model.config
            data.topAttention = ReportExplorer.topAttention(data.explorer, layers: c.layers, heads: c.heads)
        }
        var sinks = storedSinks
        // Sink analysis assumes causal attention; a bidirectional model's report has no sink section.
        if sinks == nil, computeSinks, let model, model.model.config.causal, !prompts.isEmpty {
            sinks = try Self.sinkAnalysis(model, prompts: prompts)
        }
        if let analysis = sinks {
            data.sinks = ReportData.sinks(analysis, source: storedSinks == nil ? "computed" : "stored")
            figures.sinks = Self.sinkFigures(analysis)
        }
        return (data, figures)
    }

    /// The model's layers and heads: from the loaded model, else the stored sink analysis, else
    /// the heads the methods scored.
    static func shape(model: LoadedModel?, folder: URL?, sinks: SinkAnalysis?, heads: DiscoveryReport?, modelPath: String?) -> ReportData.Model? {
        let name = folder?.lastPathComponent ?? "model"
        if let model {
            let c = model.model.config
            return ReportData.Model(name: name, layers: c.layers, heads: c.heads, hasMLPs: !c.attentionOnly)
        }
        if let sinks { return ReportData.Model(name: name, layers: sinks.model.layers, heads: sinks.model.heads, hasMLPs: ExportCommand.hasMLPs(modelPath)) }
        let scored = heads?.methods.flatMap(\.scores.heads) ?? []
        guard let layers = scored.map(\.layer).max(), let perLayer = scored.map(\.head).max() else { return nil }
        return ReportData.Model(name: name, layers: layers + 1, heads: perLayer + 1, hasMLPs: ExportCommand.hasMLPs(modelPath))
    }

    /// Each head-level method's circuit as `mechanic export` draws it (coloured by the ground truth when there is one).
    func graphs(_ report: DiscoveryReport, modelPath: String?) throws -> [(method: String, svg: String)] {
        let truth = !(report.groundTruth ?? []).isEmpty
        return try report.methods.map { result in
            let (svg, _) = try ExportCommand.render(result, of: report, format: .svg, selection: .top(report.groundTruth?.count ?? 10),
                                                    color: truth ? .truth : .score, showMLPs: false, modelPath: modelPath,
                                                    caption: "run \(run) · \(report.task) · \(result.scores.method)", run: run)
            return (result.scores.method, String(decoding: svg, as: UTF8.self))
        }
    }

    /// Each edge-level method's best edges as `mechanic export --level edges` draws them.
    func graphs(_ report: EdgeDiscoveryReport) throws -> [(method: String, svg: String)] {
        try report.methods.map { result in
            let circuit = report.scored(result).circuit(edges: Self.graphEdges)
            let title = "run \(run) · \(report.task) · \(result.method) · \(circuit.edgeCount) edges"
            let dot = EdgeCircuitDOT.render(graph: report.graph, scores: result.scores, circuit: circuit,
                                            options: .init(title: title, highlighted: Set(report.groundTruth ?? [])))
            return (result.method, String(decoding: try GraphvizRenderer.render(dot: dot, format: .svg), as: UTF8.self))
        }
    }

    /// The sink heat maps and the example heads' patterns.
    static func sinkFigures(_ analysis: SinkAnalysis) -> [(title: String, svg: String)] {
        [("First-token mass per head", SinkReportSVG.firstTokenMass(analysis)), ("Hidden sinks per head", SinkReportSVG.hiddenSinks(analysis))]
            + SinkReportSVG.patternHeads(analysis).compactMap { head in
                SinkReportSVG.pattern(analysis, head: head).map { ("Attention pattern of \(head) on the example prompt", $0) }
            }
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
