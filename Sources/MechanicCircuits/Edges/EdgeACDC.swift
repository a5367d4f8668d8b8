import Dispatch
import MechanicModel
import MechanicTasks
import MechanicTensor

/// ACDC on edges (Conmy et al. 2023): visit receivers from the logits back to the first layer and,
/// for each, its incoming edges from the latest sender back; patch the edge for good when that
/// moves the objective by less than τ, otherwise keep it. What is left is the circuit.
///
/// Each trial is one forward pass with every edge removed so far patched (``EdgePatch``), so the
/// cost is one pass per edge: thousands for the reference models, tens of thousands for GPT-2
/// small (where EAP-IG is the practical choice).
public enum EdgeACDC {
    public struct Result: Equatable, Sendable {
        /// Each edge's score: the objective increase its removal caused when it was tried (edges
        /// kept scored at least τ).
        public var scores: ScoredGraph
        /// The edges kept.
        public var circuit: EdgeCircuit
        public var threshold: Float
        public var objective: ACDC.Objective
    }

    /// - Parameter progress: called with (edges tried, edges).
    public static func run(model: Transformer, prompts: [TaskPrompt], metric: TaskMetric, objective: ACDC.Objective = .kl,
                           threshold: Float, ablation: EdgeAblation = .counterfactual,
                           progress: ((Int, Int) -> Void)? = nil) throws -> Result {
        let start = DispatchTime.now().uptimeNanoseconds
        guard threshold.isFinite && threshold >= 0 else { throw EdgeError.invalidOption("the ACDC threshold must be ≥ 0, not \(threshold)") }
        let context = try EdgeFaithfulness.Context(model: model, prompts: prompts, ablation: ablation)
        let graph = context.graph
        let vocab = model.config.vocabSize
        let reference = try context.lastLogits(patched: [Bool](repeating: false, count: graph.edges.count))   // [batch, 1, vocab]

        func evaluate(_ patched: [Bool]) throws -> Float {
            let out = try context.lastLogits(patched: patched)
            return objective.value(reference: reference, pruned: out, prompts: prompts, metric: metric, vocab: vocab)
        }

        // Edges grouped by receiver; receivers from the logits back, senders from the latest back.
        var edgesOf: [ComputationalGraph.Receiver: [Int]] = [:]
        for (i, edge) in graph.edges.enumerated() { edgesOf[edge.receiver, default: []].append(i) }
        let order = graph.receivers.reversed().flatMap { (edgesOf[$0] ?? []).reversed() }
        var patched = [Bool](repeating: false, count: graph.edges.count)
        var scores = [Float](repeating: 0, count: graph.edges.count)
        var current = try evaluate(patched)
        for (done, e) in order.enumerated() {
            patched[e] = true
            let value = try evaluate(patched)
            scores[e] = value - current
            if scores[e] < threshold { current = value } else { patched[e] = false }
            progress?(done + 1, order.count)
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return Result(scores: ScoredGraph(method: "acdc-edges", graph: graph, scores: scores, seconds: seconds),
                      circuit: EdgeCircuit(included: patched.map { !$0 }), threshold: threshold, objective: objective)
    }
}
