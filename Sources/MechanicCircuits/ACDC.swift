import Dispatch
import Foundation
import MechanicModel
import MechanicTasks
import MechanicTensor
import MechanicTokenizer

/// ACDC at head level (Conmy et al. 2023): prune heads one at a time, from the last layer back,
/// keeping a head only when ablating it moves the objective by at least τ.
///
/// Ablation is resample ablation: an ablated head outputs its `hook_z` from the corrupted prompt.
/// Because heads are visited from the last layer back, every head already ablated sits in a layer
/// at or after the candidate's, so each trial runs only from the candidate's layer, starting at the
/// clean `hook_resid_pre`.
public enum ACDC {
    /// What pruning must preserve.
    public enum Objective: String, Codable, CaseIterable, Sendable {
        /// KL divergence of the pruned model's next-token distribution from the full model's.
        case kl
        /// The task metric's drop from the full model.
        case taskMetric = "task"
    }

    /// The outcome: each head's score is the objective increase its ablation caused when it was
    /// tried (heads kept have score ≥ τ), and the circuit is the kept heads.
    public struct Result: Codable, Equatable, Sendable {
        public var scores: HeadScores
        public var circuit: [HeadID]
        public var threshold: Float
        public var objective: Objective
    }

    public static func run(
        model: Transformer, prompts: [TaskPrompt], metric: TaskMetric, objective: Objective = .kl, threshold: Float,
        progress: ((Int, Int) -> Void)? = nil
    ) throws -> Result {
        let start = DispatchTime.now().uptimeNanoseconds
        let c = model.config
        guard !prompts.isEmpty else { throw TaskError.tooFewPrompts(task: "acdc", wanted: 1, made: 0, reason: "no prompts") }
        let batch = TokenBatch(rows: prompts.map(\.tokens))
        let corruptedRows = try ActivationPatching.corruptedBatch(prompts)
        let zNames = (0..<c.layers).map { HookName.z($0) }
        let clean = try model.run(batch, logits: .last, capture: CaptureSpec(names: (0..<c.layers).map { HookName.residPre($0) }))
        let corruptedZ = try model.run(corruptedRows, logits: .none, capture: CaptureSpec(names: zNames)).cache
        let reference = clean.logits!                                        // [batch, 1, vocab]
        let vocab = c.vocabSize

        /// Objective of the model with `ablated` heads, all in layers ≥ `layer`.
        func evaluate(_ ablated: Set<HeadID>, from layer: Int) throws -> Float {
            var interventions: [Intervention] = []
            for l in layer..<c.layers {
                let heads = ablated.filter { $0.layer == l }.map(\.head).sorted()
                if !heads.isEmpty { interventions.append(Intervention(.z(l), heads: heads, .patch(corruptedZ))) }
            }
            let out = try model.run(batch, fromLayer: layer, residual: clean.cache[.residPre(layer)]!, logits: .last,
                                    interventions: interventions).logits!
            return objective.value(reference: reference, pruned: out, prompts: prompts, metric: metric, vocab: vocab)
        }

        let heads = HeadID.all(layers: c.layers, heads: c.heads)
        var ablated: Set<HeadID> = []
        var scores = [Float](repeating: 0, count: heads.count)
        // The objective with the heads pruned so far (it does not depend on the layer a run starts at).
        var current = try evaluate([], from: c.layers - 1)
        var done = 0
        for head in heads.reversed() {
            let trial = ablated.union([head])
            let value = try evaluate(trial, from: head.layer)
            let increase = value - current
            scores[head.index(heads: c.heads)] = increase
            if increase < threshold {
                ablated = trial
                current = value
            }
            done += 1
            progress?(done, heads.count)
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return Result(scores: HeadScores(method: "acdc-\(objective.rawValue)", heads: heads, scores: scores, seconds: seconds),
                      circuit: heads.filter { !ablated.contains($0) }, threshold: threshold, objective: objective)
    }

    /// KL(p ‖ q) of the softmax distributions of two logit vectors.
    static func klDivergence(_ p: UnsafeBufferPointer<Float>, _ q: UnsafeBufferPointer<Float>) -> Float {
        let lp = logSoftmax(p), lq = logSoftmax(q)
        var kl = 0.0
        for i in 0..<p.count { kl += exp(lp[i]) * (lp[i] - lq[i]) }
        return Float(max(0, kl))
    }

    static func logSoftmax(_ x: UnsafeBufferPointer<Float>) -> [Double] {
        let top = Double(x.max() ?? 0)
        let z = x.reduce(0.0) { $0 + exp(Double($1) - top) }
        let log = top + Foundation.log(z)
        return x.map { Double($0) - log }
    }
}

extension ACDC.Objective {
    /// The objective of a pruned model against the full one, averaged over prompts: KL(full ‖ pruned)
    /// of each prompt's next-token distribution, or the task metric's drop.
    ///
    /// - Parameters: reference, pruned: last-position logits `[batch, 1, vocab]` of the full and the pruned model.
    func value(reference: Tensor, pruned: Tensor, prompts: [TaskPrompt], metric: TaskMetric, vocab: Int) -> Float {
        reference.storage.withUnsafeBufferPointer { ref in
            pruned.storage.withUnsafeBufferPointer { now in
                var total: Float = 0
                for (i, prompt) in prompts.enumerated() {
                    let r = UnsafeBufferPointer(rebasing: ref[(i * vocab)..<((i + 1) * vocab)])
                    let o = UnsafeBufferPointer(rebasing: now[(i * vocab)..<((i + 1) * vocab)])
                    switch self {
                    case .kl: total += ACDC.klDivergence(r, o)
                    case .taskMetric: total += metric.value(logits: r, prompt: prompt) - metric.value(logits: o, prompt: prompt)
                    }
                }
                return total / Float(prompts.count)
            }
        }
    }
}
