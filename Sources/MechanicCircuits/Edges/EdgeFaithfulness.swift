import MechanicModel
import MechanicTasks
import MechanicTensor
import MechanicTokenizer

/// MIB-style evaluation of edge circuits: the task metric with every edge outside the circuit
/// patched (``EdgePatch``), and the faithfulness curve over circuit sizes.
public enum EdgeFaithfulness {
    /// The mean task metric over `prompts` with every edge outside `circuit` carrying its
    /// sender's replacement output. An empty circuit patches every edge; a full one none.
    public static func metric(model: Transformer, prompts: [TaskPrompt], metric: TaskMetric, circuit: EdgeCircuit,
                              ablation: EdgeAblation = .counterfactual) throws -> Double {
        let context = try Context(model: model, prompts: prompts, ablation: ablation)
        return try context.metric(circuit: circuit, metric: metric)
    }

    /// The faithfulness curve of a scored graph: at each size (a fraction of all edges) the circuit
    /// of ⌊fraction × edges⌋ edges by |score| that `selection` chooses (pruned of dangling edges),
    /// its metric, and f = (m(C) − m(∅)) / (m(N) − m(∅)).
    ///
    /// - Parameter progress: called with (sizes done, sizes).
    public static func curve(model: Transformer, prompts: [TaskPrompt], metric: TaskMetric, scores: ScoredGraph,
                             ablation: EdgeAblation = .counterfactual, selection: EdgeCircuit.Selection = .top,
                             fractions: [Double] = FaithfulnessCurve.mibFractions,
                             progress: ((Int, Int) -> Void)? = nil) throws -> FaithfulnessCurve {
        guard !fractions.isEmpty, fractions.allSatisfy({ $0 > 0 && $0 <= 1 }), fractions == fractions.sorted() else {
            throw EdgeError.invalidOption("circuit sizes must be increasing fractions in (0, 1]")
        }
        let context = try Context(model: model, prompts: prompts, ablation: ablation)
        let graph = scores.graph
        let all = graph.edges.count
        let full = try context.metric(circuit: EdgeCircuit(included: [Bool](repeating: true, count: all)), metric: metric)
        let empty = try context.metric(circuit: EdgeCircuit(included: [Bool](repeating: false, count: all)), metric: metric)
        let counts = FaithfulnessCurve.edgeCounts(fractions: fractions, total: all)
        var metrics: [Double] = []
        for (i, count) in counts.enumerated() {
            metrics.append(try context.metric(circuit: scores.circuit(edges: count, selection: selection), metric: metric))
            progress?(i + 1, counts.count)
        }
        return FaithfulnessCurve(fractions: fractions, edgeCounts: counts, metrics: metrics, fullModel: full, emptyCircuit: empty)
    }

    /// The clean batch and its replacement outputs, computed once per evaluation.
    struct Context {
        let model: Transformer
        let math: ReceiverMath
        let graph: ComputationalGraph
        let prompts: [TaskPrompt]
        let batch: TokenBatch
        let replacement: SenderOutputs
        let clean: SenderOutputs
        /// The clean `hook_resid_pre` of every layer, where a run from a later layer starts.
        let cleanResiduals: [Tensor]

        init(model: Transformer, prompts: [TaskPrompt], ablation: EdgeAblation) throws {
            guard !prompts.isEmpty else { throw EdgeError.noPrompts("edge faithfulness") }
            self.model = model
            math = try ReceiverMath(model: model)
            graph = ComputationalGraph(config: model.config)
            self.prompts = prompts
            batch = TokenBatch(rows: prompts.map(\.tokens))
            try EdgeMemory.check("edge faithfulness", model: model, batch: batch,
                                 blocks: [3 * graph.senders.count, model.config.layers])
            let residuals = (0..<model.config.layers).map { HookName.residPre($0) }
            let cache = try model.run(batch, logits: .none, capture: CaptureSpec(names: SenderOutputs.hooks(model.config) + residuals)).cache
            clean = SenderOutputs(model: model, graph: graph, cache: cache)
            cleanResiduals = residuals.map { cache[$0]! }
            replacement = try ablation.source(model: model, graph: graph, prompts: prompts, clean: clean)
        }

        func metric(circuit: EdgeCircuit, metric: TaskMetric, strength: Float = 1) throws -> Double {
            let vocabulary = ActivationPatching.metricVocabulary(prompts, metric: metric)
            let logits = try lastLogits(patched: circuit.included.map { !$0 }, vocabulary: vocabulary, strength: strength)
            let values = ActivationPatching.values(logits, prompts: prompts, metric: metric, vocabulary: vocabulary,
                                                   vocab: model.config.vocabSize)
            return values.reduce(0.0) { $0 + Double($1) } / Double(values.count)
        }

        /// Logits at each prompt's last token `[batch, 1, vocabulary]` with the flagged edges patched.
        ///
        /// The run starts at the earliest layer with a patched receiver, from the clean residual:
        /// everything before it is the clean run.
        func lastLogits(patched: [Bool], vocabulary: [Int]? = nil, strength: Float = 1) throws -> Tensor {
            let patch = EdgePatch(math: math, graph: graph, patched: patched)
            let layers = model.config.layers
            let start = graph.edges.indices.filter { patched[$0] }.map { EdgePatch.layer(of: graph.edges[$0].receiver, layers: layers) }.min() ?? layers
            guard start > 0 && start < layers else {
                return try model.run(batch, logits: .last, vocabulary: vocabulary,
                                     interventions: patch.interventions(replacement: replacement, strength: strength)).logits!
            }
            return try model.run(batch, fromLayer: start, residual: cleanResiduals[start], logits: .last, vocabulary: vocabulary,
                                 interventions: patch.interventions(replacement: replacement, strength: strength, startLayer: start,
                                                                    clean: clean)).logits!
        }
    }
}
