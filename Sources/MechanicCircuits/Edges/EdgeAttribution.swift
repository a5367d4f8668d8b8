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
/// - EAP-IG over the activations (MIB's `EAP-IG-activations`): for each layer-level sender group
///   in turn (the input, one layer's heads, one layer's MLP), `steps` runs whose group output is
///   `α·clean + (1 − α)·replacement`, α = k/steps for k = 1 … steps, everything else clean; the
///   gradient is averaged over all `(1 + 2·layers)·steps` runs, as EAP-IG's
///   `get_scores_ig_activations` does. An interpolated group is a constant of its run, so no
///   gradient flows through it to earlier receivers (PyTorch's hook returns a detached tensor too).
///
/// The per-receiver gradient comes from the model's gradients at `hook_q/k/v` (head by head, GQA
/// groups summed) and at the norms' `hook_normalized` (MLPs, logits), pulled back through the
/// receiver's norm at that run's residual (``ReceiverMath``). Scores sum over real positions only.
///
/// With Gemma's post-norms a head's difference reaches the residual through its layer's norm, so
/// it enters each run's score as `J_l(A_l)·δ` at that run's attention sum (``AttentionPostNorm``),
/// the first-order change the patch makes. (EAP-IG's library multiplies the raw head difference
/// by the residual's gradient there, which is not the derivative of its own Gemma evaluation.)
public enum EdgeAttribution {
    public enum Method: Equatable, Sendable {
        case eap
        /// EAP-IG with interpolated input embeddings.
        case integratedGradients(steps: Int)
        /// EAP-IG with each layer's sender outputs interpolated in turn.
        case integratedGradientsOnActivations(steps: Int)

        public var name: String {
            switch self {
            case .eap: "eap"
            case .integratedGradients: "eap-ig"
            case .integratedGradientsOnActivations: "eap-ig-activations"
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
        switch method {
        case .eap: break
        case .integratedGradients(let steps), .integratedGradientsOnActivations(let steps):
            guard steps >= 1 && steps <= 1000 else { throw EdgeError.invalidOption("EAP-IG steps must be 1…1000, not \(steps)") }
            if case .integratedGradients = method, ablation != .counterfactual {
                throw EdgeError.invalidOption("EAP-IG on the inputs interpolates towards the counterfactual prompts; use the counterfactual ablation (or eap-ig-activations)")
            }
        }
        let math = try ReceiverMath(model: model)
        let graph = ComputationalGraph(config: model.config)
        let batch = TokenBatch(rows: prompts.map(\.tokens))
        // Clean, replacement and difference outputs, the receivers' gradients (and a mapped copy with post-norms).
        let s = graph.senders.count
        try EdgeMemory.check(method.name, model: model, batch: batch,
                             blocks: [s, s, s, graph.receivers.count] + (math.postNorm == nil ? [] : [s]))
        let clean = try SenderOutputs.run(model: model, graph: graph, batch: batch)
        let replacement = try ablation.source(model: model, graph: graph, prompts: prompts, clean: clean)
        var difference = replacement.minus(clean)                          // [senders, rows, dModel]
        difference.zeroPadding(batch)

        // ∂m/∂x_r summed over the runs, one [rows, dModel] block per receiver.
        let rows = clean.rows, d = model.config.dModel
        var gradients = [Float](repeating: 0, count: graph.receivers.count * rows * d)
        let valueHooks = Array(Set(graph.receivers.map { math.valueHook($0) })).sorted()
        let normHooks = Array(Set(graph.receivers.flatMap { r in [math.normHooks(r).normalized, math.normHooks(r).scale] })).sorted()
        let postHooks = math.postNorm == nil ? [] : (0..<model.config.layers).flatMap { [HookName.ln1PostNormalized($0), .ln1PostScale($0)] }
        let objective = AttributionPatching.objective(batch, prompts: prompts, metric: metric)
        let runs = try gradientRuns(method, model: model, prompts: prompts, batch: batch, ablation: ablation, clean: clean,
                                    replacement: replacement)
        let (rcount, n) = (graph.receivers.count, rows * d)
        let alpha = 1 / Float(prompts.count * runs.count)
        var pairs = [Float](repeating: 0, count: s * rcount)                // [senders, receivers]
        // pairs += alpha · differences · gradientsᵀ: one product for all sender-receiver pairs.
        func addPairs(_ differences: [Float]) {
            differences.withUnsafeBufferPointer { a in
                gradients.withUnsafeBufferPointer { b in
                    pairs.withUnsafeMutableBufferPointer { c in
                        Kernels.gemm(transB: true, m: s, n: rcount, k: n, alpha: alpha, a: a.baseAddress!, lda: n, b: b.baseAddress!, ldb: n,
                                     beta: 1, c: c.baseAddress!, ldc: rcount)
                    }
                }
            }
        }
        for (k, interventions) in runs.enumerated() {
            // One run gives the hooks' gradients and, from its tape, each receiver's normalised input.
            let (_, hookGradients, norms) = try model.activationGradients(batch, at: valueHooks, interventions: interventions,
                                                                           capture: normHooks + postHooks, objective: objective)
            gradients.withUnsafeMutableBufferPointer { all in
                let base = all.baseAddress!
                Kernels.parallelFor(graph.receivers.count) { range in
                    for r in range {
                        let receiver = graph.receivers[r]
                        let g = math.valueGradient(receiver, fromHook: hookGradients[math.valueHook(receiver)]!)
                        let (n, s) = math.normHooks(receiver)
                        let dx = math.inputGradient(receiver, valueGradient: g, normalizedInput: (norms[n]!.storage, norms[s]!.storage),
                                                    rows: rows)
                        Kernels.add(dx, into: base + r * rows * d, count: rows * d)
                    }
                }
            }
            if let post = math.postNorm {
                // This run's post-norms map the head differences: score this run now.
                var effective = difference.storage
                for (sender, node) in graph.senders.enumerated() {
                    guard case .head(let h) = node else { continue }
                    let mapped = post.tangent(layer: h.layer, delta: difference.output(sender),
                                              normalized: norms[.ln1PostNormalized(h.layer)]!.storage,
                                              scale: norms[.ln1PostScale(h.layer)]!.storage)
                    effective.replaceSubrange((sender * n)..<((sender + 1) * n), with: mapped)
                }
                addPairs(effective)
                for i in gradients.indices { gradients[i] = 0 }
            }
            progress?(k + 1, runs.count)
        }
        // scores[e] = ⟨difference[sender], gradient[receiver]⟩ / (prompts · runs), the gradient summed over the runs.
        if math.postNorm == nil { addPairs(difference.storage) }
        let senderIndex = Dictionary(uniqueKeysWithValues: graph.senders.enumerated().map { ($0.element, $0.offset) })
        let receiverIndex = Dictionary(uniqueKeysWithValues: graph.receivers.enumerated().map { ($0.element, $0.offset) })
        let scores = graph.edges.map { pairs[senderIndex[$0.sender]! * rcount + receiverIndex[$0.receiver]!] }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return ScoredGraph(method: method.name, graph: graph, scores: scores, seconds: seconds)
    }

    /// The interventions of each gradient run the method averages over.
    static func gradientRuns(_ method: Method, model: Transformer, prompts: [TaskPrompt], batch: TokenBatch, ablation: EdgeAblation,
                             clean: SenderOutputs, replacement: SenderOutputs) throws -> [[Intervention]] {
        let c = model.config
        let shape = [batch.batch, batch.positions, c.dModel]
        func mix(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>, _ alpha: Float, shape: [Int]) -> Tensor {
            // alpha·a + (1 − alpha)·b
            Tensor(shape: shape, storage: zip(a, b).map { b in b.1 + alpha * (b.0 - b.1) })
        }
        switch method {
        case .eap:
            return [[]]
        case .integratedGradients(let steps):
            return (0..<steps).map { k in
                [Intervention(.residPre(0), .replace(mix(clean.output(0), replacement.output(0), Float(k) / Float(steps), shape: shape)))]
            }
        case .integratedGradientsOnActivations(let steps):
            // Each group's clean and replacement activation at the hook it is written through.
            var groups: [(hook: HookName, clean: Tensor, replacement: Tensor)] = [
                (.residPre(0), Tensor(shape: shape, storage: Array(clean.output(0))), Tensor(shape: shape, storage: Array(replacement.output(0))))]
            let zHooks = (0..<c.layers).map { HookName.z($0) }
            let cleanZ = try model.run(batch, logits: .none, capture: CaptureSpec(names: zHooks)).cache
            let replacementZ = try replacementZ(model: model, prompts: prompts, batch: batch, ablation: ablation, clean: cleanZ,
                                                hooks: zHooks)
            let senderIndex = Dictionary(uniqueKeysWithValues: ComputationalGraph(config: c).senders.enumerated().map { ($0.element, $0.offset) })
            for l in 0..<c.layers {
                groups.append((.z(l), cleanZ[.z(l)]!, replacementZ[l]))
                if !c.attentionOnly {
                    let s = senderIndex[.mlp(layer: l)]!
                    groups.append((.mlpOut(l), Tensor(shape: shape, storage: Array(clean.output(s))),
                                   Tensor(shape: shape, storage: Array(replacement.output(s)))))
                }
            }
            return groups.flatMap { group in
                (1...steps).map { k in
                    [Intervention(group.hook, .replace(mix(group.clean.storage[...], group.replacement.storage[...],
                                                           Float(k) / Float(steps), shape: group.clean.shape)))]
                }
            }
        }
    }

    /// Every layer's `hook_z` `[batch, pos, head, dHead]` whose heads write the replacement outputs:
    /// the corrupted run's for counterfactual patching, zeros for zero ablation, and for mean
    /// ablation the per-position mean of the clean z over the prompts that reach the position (a
    /// head's output is linear in its z, so this is ``EdgeAblation/mean``'s mean output).
    static func replacementZ(model: Transformer, prompts: [TaskPrompt], batch: TokenBatch, ablation: EdgeAblation,
                             clean: ActivationCache, hooks: [HookName]) throws -> [Tensor] {
        switch ablation {
        case .counterfactual:
            let cache = try model.run(try ActivationPatching.corruptedBatch(prompts), logits: .none, capture: CaptureSpec(names: hooks)).cache
            return hooks.map { cache[$0]! }
        case .zero:
            return hooks.map { Tensor(shape: clean[$0]!.shape) }
        case .mean:
            return hooks.map { hook in
                let z = clean[hook]!
                return Tensor(shape: z.shape, storage: EdgeAblation.perPositionMean(z.storage, batch: batch))
            }
        }
    }
}
