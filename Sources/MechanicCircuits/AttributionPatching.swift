import Dispatch
import Foundation
import MechanicBackward
import MechanicModel
import MechanicTasks
import MechanicTensor
import MechanicTokenizer

/// Gradient-based head scores from one clean forward, one corrupted forward and one backward pass.
///
/// - Attribution patching (EAP, Nanda 2023; Syed et al. 2023) at head level: the first-order
///   estimate of patching a head's `hook_z` from the corrupted run,
///   `|Σ (z_corrupt − z_clean) · ∂metric/∂z|`.
/// - HISP-style gradient × activation (Michel et al. 2019): the same estimate for zero ablation,
///   `|Σ z_clean · ∂metric/∂z|`.
public enum AttributionPatching {
    public struct Result: Codable, Equatable, Sendable {
        public var attribution: HeadScores
        public var gradientTimesActivation: HeadScores
    }

    public static func run(model: Transformer, prompts: [TaskPrompt], metric: TaskMetric) throws -> Result {
        let start = DispatchTime.now().uptimeNanoseconds
        let c = model.config
        guard !prompts.isEmpty else { throw TaskError.tooFewPrompts(task: "attribution", wanted: 1, made: 0, reason: "no prompts") }
        let batch = TokenBatch(rows: prompts.map(\.tokens))
        let zNames = (0..<c.layers).map { HookName.z($0) }
        let clean = try model.run(batch, logits: .none, capture: CaptureSpec(names: zNames)).cache
        let corrupted = try model.run(try ActivationPatching.corruptedBatch(prompts), logits: .none, capture: CaptureSpec(names: zNames)).cache
        let (_, gradients) = try model.activationGradients(batch, at: zNames, objective: objective(batch, prompts: prompts, metric: metric))
        let (h, dh) = (c.heads, c.dHead)
        var eap = [Float](repeating: 0, count: c.layers * h), hisp = eap
        for layer in 0..<c.layers {
            let g = gradients[.z(layer)]!, zc = clean[.z(layer)]!, zx = corrupted[.z(layer)]!   // [batch, pos, head, dHead]
            for b in 0..<batch.batch {
                for p in 0..<batch.lengths[b] {
                    for head in 0..<h {
                        let base = ((b * batch.positions + p) * h + head) * dh
                        var e: Float = 0, s: Float = 0
                        for i in 0..<dh {
                            e += (zx.storage[base + i] - zc.storage[base + i]) * g.storage[base + i]
                            s += zc.storage[base + i] * g.storage[base + i]
                        }
                        eap[layer * h + head] += e
                        hisp[layer * h + head] += s
                    }
                }
            }
        }
        let n = Float(prompts.count)
        let ids = HeadID.all(layers: c.layers, heads: h)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return Result(attribution: HeadScores(method: "attribution", heads: ids, scores: eap.map { abs($0) / n }, seconds: seconds),
                      gradientTimesActivation: HeadScores(method: "hisp", heads: ids, scores: hisp.map { abs($0) / n }, seconds: seconds))
    }

    /// The summed task metric at each prompt's last token, and its gradient with respect to the logits.
    static func objective(_ batch: TokenBatch, prompts: [TaskPrompt], metric: TaskMetric) -> (Tensor) throws -> (Float, Tensor) {
        { logits in
            let (t, v) = (logits.shape[1], logits.shape[2])
            var gradient = Tensor(shape: logits.shape)                      // [batch, pos, vocab]
            var total: Float = 0
            for (r, prompt) in prompts.enumerated() {
                let row = (r * t + batch.lengths[r] - 1) * v
                let a = Float(max(1, prompt.answers.count)), w = Float(max(1, prompt.wrongAnswers.count))
                logits.storage.withUnsafeBufferPointer { all in
                    total += metric.value(logits: UnsafeBufferPointer(rebasing: all[row..<(row + v)]), prompt: prompt)
                }
                switch metric {
                case .logitDifference:
                    for id in prompt.answers { gradient.storage[row + id] += 1 / a }
                    for id in prompt.wrongAnswers { gradient.storage[row + id] -= 1 / w }
                case .probabilityDifference:
                    // d(Σ_A p − Σ_W p)/dℓ_j = p_j·(1[j∈A] − 1[j∈W]) − p_j·(P_A − P_W).
                    let top = logits.storage[row..<(row + v)].max() ?? 0
                    var z = 0.0
                    for j in 0..<v { z += Double(expf(logits.storage[row + j] - top)) }
                    let p = { (j: Int) in Float(Double(expf(logits.storage[row + j] - top)) / z) }
                    let pa = prompt.answers.reduce(Float(0)) { $0 + p($1) }, pw = prompt.wrongAnswers.reduce(Float(0)) { $0 + p($1) }
                    for j in 0..<v { gradient.storage[row + j] -= p(j) * (pa - pw) }
                    for id in prompt.answers { gradient.storage[row + id] += p(id) }
                    for id in prompt.wrongAnswers { gradient.storage[row + id] -= p(id) }
                }
            }
            return (total, gradient)
        }
    }
}
