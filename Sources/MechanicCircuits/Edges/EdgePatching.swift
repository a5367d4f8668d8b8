import Dispatch
import MechanicModel
import MechanicTasks
import MechanicTensor
import MechanicTokenizer

/// Exact edge activation patching, the oracle the attribution methods estimate: for every edge
/// s → r, the change of the mean task metric when r alone sees s's replacement output
/// (`x_r = resid_clean − a_s^clean + a_s^replacement`) and everything else runs clean.
///
/// Runs receiver by receiver: the model is resumed at the receiver's layer from the clean
/// residual, with one copy of the prompt batch per sender stacked into one batch (chunked to
/// `maxRows` prompt rows), so a receiver with 100 senders costs a few forward passes of the layers
/// at and after it. Cost grows with the number of edges: the oracle for small graphs.
///
/// With Gemma's post-norms a head's patch reaches the residual through its layer's norm:
/// `x_r = resid_clean + post_l(A_l + a_s^replacement − a_s^clean) − post_l(A_l)` (``AttentionPostNorm``).
public enum EdgePatching {
    /// - Parameters:
    ///   - maxRows: prompt rows per stacked forward pass.
    ///   - progress: called with (receivers done, receivers).
    public static func run(model: Transformer, prompts: [TaskPrompt], metric: TaskMetric,
                           ablation: EdgeAblation = .counterfactual, maxRows: Int = 512,
                           progress: ((Int, Int) -> Void)? = nil) throws -> ScoredGraph {
        let start = DispatchTime.now().uptimeNanoseconds
        guard !prompts.isEmpty else { throw EdgeError.noPrompts("edge-patching") }
        let math = try ReceiverMath(model: model)
        let c = model.config
        let graph = ComputationalGraph(config: c)
        let batch = TokenBatch(rows: prompts.map(\.tokens))
        let n = prompts.count, t = batch.positions, d = c.dModel
        // Clean outputs and differences, the clean run's residuals; per stacked chunk its inputs,
        // resumed residual and the forward's working buffers (about 6 of [rows, dModel] plus the scores).
        let stacked = max(1, maxRows / n) * n
        try EdgeMemory.check("edge-patching", model: model, batch: batch, blocks: [2 * graph.senders.count, 2 * c.layers + 1],
                             extraBytes: MemoryBudget.sum(MemoryBudget.floats(8, stacked, t, d), MemoryBudget.floats(stacked, c.heads, t, t)))
        let residualHooks = (0..<c.layers).map { HookName.residPre($0) } + (c.attentionOnly || c.parallelBlocks ? [] : (0..<c.layers).map { HookName.residMid($0) }) + [HookName.residPost(c.layers - 1)]
        let vocabulary = ActivationPatching.metricVocabulary(prompts, metric: metric)
        let cleanRun = try model.run(batch, logits: .last, vocabulary: vocabulary,
                                     capture: CaptureSpec(names: SenderOutputs.hooks(c) + residualHooks))
        let cleanMetric = ActivationPatching.values(cleanRun.logits!, prompts: prompts, metric: metric, vocabulary: vocabulary,
                                                    vocab: c.vocabSize)
        let cleanMean = cleanMetric.reduce(0, +) / Float(n)
        let clean = SenderOutputs(model: model, graph: graph, cache: cleanRun.cache)
        let difference = try ablation.source(model: model, graph: graph, prompts: prompts, clean: clean).minus(clean)
        // With post-norms, what each head's difference adds to the residual: [senders] of [rows, dModel] (heads only).
        var headShifts: [Int: [Float]] = [:]
        if let post = math.postNorm {
            var outputs: [Int: AttentionPostNorm.Output] = [:]
            for (s, sender) in graph.senders.enumerated() {
                guard case .head(let h) = sender else { continue }
                if outputs[h.layer] == nil { outputs[h.layer] = post.output(layer: h.layer, sum: post.preNormSum(layer: h.layer, outputs: clean, graph: graph)) }
                headShifts[s] = post.shift(layer: h.layer, from: outputs[h.layer]!, delta: Array(difference.output(s)))
            }
        }
        let senderIndex = Dictionary(uniqueKeysWithValues: graph.senders.enumerated().map { ($0.element, $0.offset) })
        var edgesOf: [ComputationalGraph.Receiver: [Int]] = [:]
        for (i, edge) in graph.edges.enumerated() { edgesOf[edge.receiver, default: []].append(i) }

        var scores = [Float](repeating: .nan, count: graph.edges.count)
        let perChunk = max(1, maxRows / n)
        for (done, receiver) in graph.receivers.enumerated() {
            let edges = edgesOf[receiver] ?? []
            // The layer the run resumes at, and the residual it resumes from.
            let layer: Int, resumeHook: HookName
            switch receiver {
            case .logits: (layer, resumeHook) = (c.layers, .residPost(c.layers - 1))
            case .query(let h): (layer, resumeHook) = (h.layer, .residPre(h.layer))
            case .key(let l, _), .value(let l, _), .mlp(let l): (layer, resumeHook) = (l, .residPre(l))
            }
            let resume = cleanRun.cache[resumeHook]!.storage                   // [batch, pos, dModel]
            let input = cleanRun.cache[math.inputHook(receiver)]!.storage     // [batch, pos, dModel]
            for chunk in stride(from: 0, to: edges.count, by: perChunk) {
                let part = Array(edges[chunk..<min(edges.count, chunk + perChunk)])
                let copies = part.count
                // x for copy j: the clean input minus (clean − replacement) of edge j's sender.
                var x = [Float](repeating: 0, count: copies * n * t * d)
                for (j, e) in part.enumerated() {
                    let sender = senderIndex[graph.edges[e].sender]!
                    let diff = headShifts[sender].map { $0[...] } ?? difference.output(sender)
                    let base = j * n * t * d, from = diff.startIndex
                    for i in 0..<(n * t * d) { x[base + i] = input[i] + diff[from + i] }
                }
                let value = math.value(receiver, input: x, rows: copies * n * t)
                let hook = math.valueHook(receiver)
                let patch = Intervention(hook, .custom { activation, _ in math.write(receiver, value: value, into: &activation) })
                let stacked = TokenBatch(rows: (0..<copies).flatMap { _ in prompts.map(\.tokens) }, padID: Int(batch.padID))
                let residual = Tensor(shape: [copies * n, t, d], storage: (0..<copies).flatMap { _ in resume })
                let out = try model.run(stacked, fromLayer: layer, residual: residual, logits: .last, vocabulary: vocabulary,
                                        interventions: [patch])
                let patched = ActivationPatching.values(out.logits!, prompts: (0..<copies).flatMap { _ in prompts }, metric: metric,
                                                        vocabulary: vocabulary, vocab: c.vocabSize)
                for (j, e) in part.enumerated() {
                    scores[e] = patched[(j * n)..<((j + 1) * n)].reduce(0, +) / Float(n) - cleanMean
                }
            }
            progress?(done + 1, graph.receivers.count)
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return ScoredGraph(method: "edge-patching", graph: graph, scores: scores, seconds: seconds)
    }
}
