import Dispatch
import MechanicBackward
import MechanicModel
import MechanicTasks
import MechanicTensor
import MechanicTokenizer

/// Edge attribution patching: first-order estimates of every edge's patching effect from a few
/// forward and backward passes, whatever the number of edges.
///
/// - EAP (Syed et al. 2023): `score(s → r) = Σ_{prompt, pos} (a_s^corrupt − a_s^clean) · ∂m/∂x_r`,
///   averaged over prompts, where `a_s` is the sender's output, `x_r` the receiver's own copy of
///   the residual stream and m the task metric; the gradient is taken on the clean run.
/// - EAP-IG over the inputs (Hanna et al. 2024, MIB's best method): the same, with `∂m/∂x_r`
///   averaged over `steps` runs whose input embeddings are interpolated from the corrupted to the
///   clean prompt, `e = e_corrupt + (k/steps)(e_clean − e_corrupt)` for k = 0 … steps−1, as
///   EAP-IG's `get_scores_eap_ig` does.
///
/// The per-receiver gradient comes from the model's gradients at `hook_q/k/v` (head by head, GQA
/// groups summed) and at the norms' `hook_normalized` (MLPs, logits), pulled back through the
/// receiver's norm at that run's residual (``ReceiverMath``). Scores sum over real positions only.
public enum EdgeAttribution {
    public enum Method: Equatable, Sendable {
        case eap
        /// EAP-IG with interpolated input embeddings.
        case integratedGradients(steps: Int)

        public var name: String {
            switch self {
            case .eap: "eap"
            case .integratedGradients: "eap-ig"
            }
        }
    }

    /// Scores every edge of the model's graph on `prompts` (each with a corrupted twin of its length).
    ///
    /// - Parameters:
    ///   - ablation: what a patched edge carries: EAP can use any; EAP-IG interpolates towards the
    ///     counterfactual prompt and so needs `.counterfactual`.
    ///   - progress: called with (gradient passes done, passes).
    public static func run(model: Transformer, prompts: [TaskPrompt], metric: TaskMetric, method: Method = .eap,
                           ablation: EdgeAblation = .counterfactual,
                           progress: ((Int, Int) -> Void)? = nil) throws -> ScoredGraph {
        let start = DispatchTime.now().uptimeNanoseconds
        guard !prompts.isEmpty else { throw EdgeError.noPrompts(method.name) }
        let steps: Int
        switch method {
        case .eap: steps = 1
        case .integratedGradients(let s):
            guard s >= 1 && s <= 1000 else { throw EdgeError.invalidOption("EAP-IG steps must be 1…1000, not \(s)") }
            guard ablation == .counterfactual else {
                throw EdgeError.invalidOption("EAP-IG interpolates towards the counterfactual prompts; use --ablation counterfactual")
            }
            steps = s
        }
        let math = try ReceiverMath(model: model)
        let graph = ComputationalGraph(config: model.config)
        let batch = TokenBatch(rows: prompts.map(\.tokens))
        let clean = try SenderOutputs.run(model: model, graph: graph, batch: batch)
        let replacement = try ablation.source(model: model, graph: graph, prompts: prompts, clean: clean)
        var difference = replacement.minus(clean)                          // [senders, rows, dModel]
        difference.zeroPadding(batch)

        // ∂m/∂x_r summed over the steps, one [rows, dModel] block per receiver.
        let rows = clean.rows, d = model.config.dModel
        var gradients = [Float](repeating: 0, count: graph.receivers.count * rows * d)
        let valueHooks = Array(Set(graph.receivers.map { math.valueHook($0) })).sorted()
        let inputHooks = Array(Set(graph.receivers.map { math.inputHook($0) })).sorted()
        let objective = AttributionPatching.objective(batch, prompts: prompts, metric: metric)
        for k in 0..<steps {
            var interventions: [Intervention] = []
            if case .integratedGradients = method {
                // Input embeddings k/steps of the way from the corrupted to the clean prompt.
                let alpha = Float(k) / Float(steps)
                let input = Array(clean.output(0)), corrupt = Array(replacement.output(0))
                var mixed = Tensor(shape: [batch.batch, batch.positions, d])
                for i in mixed.storage.indices { mixed.storage[i] = corrupt[i] + alpha * (input[i] - corrupt[i]) }
                interventions = [Intervention(.residPre(0), .replace(mixed))]
            }
            let residuals = try model.run(batch, logits: .none, capture: CaptureSpec(names: inputHooks),
                                          interventions: interventions).cache
            let (_, hookGradients) = try model.activationGradients(batch, at: valueHooks, interventions: interventions,
                                                                    objective: objective)
            for (r, receiver) in graph.receivers.enumerated() {
                let g = math.valueGradient(receiver, fromHook: hookGradients[math.valueHook(receiver)]!)
                let x = residuals[math.inputHook(receiver)]!.storage
                let dx = math.inputGradient(receiver, valueGradient: g, input: x, rows: rows)
                let base = r * rows * d
                for i in 0..<(rows * d) { gradients[base + i] += dx[i] }
            }
            progress?(k + 1, steps)
        }

        // scores[e] = ⟨difference[sender], gradient[receiver]⟩ / (prompts · steps): one product for all pairs.
        let (s, rcount, n) = (graph.senders.count, graph.receivers.count, rows * d)
        var pairs = [Float](repeating: 0, count: s * rcount)                // [senders, receivers]
        difference.storage.withUnsafeBufferPointer { a in
            gradients.withUnsafeBufferPointer { b in
                pairs.withUnsafeMutableBufferPointer { c in
                    Kernels.gemm(transB: true, m: s, n: rcount, k: n, alpha: 1 / Float(prompts.count * steps),
                                 a: a.baseAddress!, lda: n, b: b.baseAddress!, ldb: n, c: c.baseAddress!, ldc: rcount)
                }
            }
        }
        let senderIndex = Dictionary(uniqueKeysWithValues: graph.senders.enumerated().map { ($0.element, $0.offset) })
        let receiverIndex = Dictionary(uniqueKeysWithValues: graph.receivers.enumerated().map { ($0.element, $0.offset) })
        let scores = graph.edges.map { pairs[senderIndex[$0.sender]! * rcount + receiverIndex[$0.receiver]!] }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return ScoredGraph(method: method.name, graph: graph, scores: scores, seconds: seconds)
    }
}
