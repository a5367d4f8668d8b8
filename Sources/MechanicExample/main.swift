// A tour of Mechanic as a library, the way an analysis script uses it: load a model, build a
// task, capture activations, score heads two ways, evaluate against the ground truth, export
// the circuit, and store the run.
//
//   swift run -c release MechanicExample [model folder] [results.sqlite] [out folder]
//
// Defaults: the embedded reference model, mechanic-example.sqlite and the current folder.
import Foundation
import Mechanic

let arguments = CommandLine.arguments.dropFirst()
let modelFolder = URL(fileURLWithPath: arguments.first ?? "artifacts/models/mechanic-v2-drill-constant-narrow")
let databasePath = arguments.dropFirst().first ?? "mechanic-example.sqlite"
let outFolder = URL(fileURLWithPath: arguments.dropFirst(2).first ?? ".")

do {
    // 1. Load: an HF GPT-2 folder (config.json, model.safetensors, vocab.json + merges.txt).
    let model = try CheckpointLoader.load(folder: modelFolder)
    let tokenizer = try GPT2Tokenizer(folder: modelFolder)
    print("model: \(model.config.layers) layers × \(model.config.heads) heads, d_model \(model.config.dModel)")

    // 2. A task: positives the model gets right (checked against it), negatives it cannot answer (the
    //    first copy replaced, or IOI's ABC twins) and corrupted prompts.
    //    Induction on repeated random tokens for the v2 models (the task the CLI defaults to), the
    //    template IOI task for the v1 ones: the one whose ground-truth circuit the folder holds.
    let circuits = modelFolder.appendingPathComponent("circuits")
    let taskName = FileManager.default.fileExists(atPath: circuits.appendingPathComponent("induction-random.json").path) ? "induction-random" : "ioi"
    let dataset = try TaskRegistry.named(taskName).dataset(tokenizer: tokenizer, count: 40, seed: 1, prependBOS: true).keepingCorrect(model: model)
    print("\(taskName): \(dataset.positives.count) positives (\(dataset.droppedPositives) dropped), \(dataset.negatives.count) negatives")

    // 3. Capture: any hook by its TransformerLens name, here every head's z at the last position.
    let first = dataset.positives[0]
    let capture = CaptureSpec(names: [HookName.z(model.config.layers - 1)], positions: .indices([-1]))
    let run = try model.run(TokenBatch(rows: [first.tokens]), logits: .last, capture: capture)
    let z = run.cache[.z(model.config.layers - 1)]!                 // [batch, 1, head, dHead]
    print("captured \(HookName.z(model.config.layers - 1)) with shape \(z.shape) for \"\(first.text)\"")

    // 4. Score every head: the discrete-SAE method and activation patching.
    let sae = try SAEScoring.run(model: model, dataset: dataset, options: SAEScoring.Options(
        sae: SAEConfiguration(inputDimension: model.config.dModel, epochs: 200, seed: 1)))
    let patching = try ActivationPatching.headScores(model: model, prompts: Array(dataset.positives.prefix(8)), metric: dataset.metric)

    // 5. Evaluate against the ground truth stored beside the model.
    let truth = try GroundTruthFile.heads(circuits.appendingPathComponent("\(taskName).json").path)
    var results: [DiscoveryReport.MethodResult] = []
    for scores in [sae.nodes, patching] {
        let auc = CircuitEvaluation.rocAUC(scores: scores.scores, labels: scores.heads.map { truth.contains($0) })
        let top = Set(CircuitEvaluation.topHeads(scores: scores.scores, heads: scores.heads, k: truth.count))
        let match = CircuitEvaluation.match(predicted: top, truth: truth)
        print(String(format: "%@: ROC AUC %.3f, precision %.2f, recall %.2f, %.2f s", scores.method, auc ?? .nan,
                     match.precision, match.recall, scores.seconds))
        results.append(DiscoveryReport.MethodResult(scores: scores, auc: auc, match: match))
    }
    let report = DiscoveryReport(task: dataset.task, metric: dataset.metric, positives: dataset.positives.count,
                                 negatives: dataset.negatives.count, droppedPositives: dataset.droppedPositives,
                                 groundTruth: truth.sorted(), methods: results)

    // 6. Export: patching's circuit as DOT and SVG (rendered in-process by libgraphviz).
    let graph = CircuitGraph(result: results[1], options: CircuitGraph.Options(selection: .top(truth.count)))
    let dot = DOTWriter.render(graph)
    try dot.write(to: outFolder.appendingPathComponent("example-circuit.dot"), atomically: true, encoding: .utf8)
    try GraphvizRenderer.render(dot: dot, format: .svg).write(to: outFolder.appendingPathComponent("example-circuit.svg"))
    print("circuit: \(graph.nodes.map { $0.id.description }.joined(separator: " ")) → example-circuit.dot, example-circuit.svg")

    // 7. Store: one run, its task, and each method in its own transaction.
    let store = try ResultStore(path: databasePath)
    let id = try store.beginRun(RunInfo(command: "example", seed: 1, version: MechanicVersion.current, modelPath: modelFolder.path,
                                        modelChecksum: try FileChecksum.sha256(path: modelFolder.appendingPathComponent("model.safetensors").path)))
    try store.record(task: dataset, groundTruth: truth.sorted(), run: id)
    for result in report.methods { try store.record(method: result, run: id) }
    try store.finishRun(id, status: .completed)
    print("stored as run \(id) in \(databasePath)")
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
