import MechanicModel
import MechanicTasks
import MechanicTensor
import MechanicTokenizer

/// Path patching (Wang et al. 2022; Goldowsky-Dill et al. 2023) from sender heads to receiver
/// heads' queries at the last position, with aligned counterfactuals: each clean prompt's
/// corrupted twin (same length, same positions) supplies the senders' outputs.
///
/// The receivers' query input is the clean residual stream with, for every sender in an
/// earlier layer, its clean output swapped for its counterfactual one, so only the direct path
/// sender → receiver query changes; every other component stays as in the clean run. The
/// receivers' queries are recomputed from that stream by the model itself (running from the
/// receiver layer on the patched stream), then written into a clean run.
public enum PathPatching {
    /// Mean task metric of the clean run, and of the run with the sender → receiver-query paths patched.
    public struct Effect: Codable, Equatable, Sendable {
        public var clean: Float
        public var patched: Float
        /// (clean − patched) / clean: the share of the metric carried by the paths.
        public var share: Float { clean != 0 ? (clean - patched) / clean : 0 }
    }

    /// Path-patches `senders` → queries of `receivers` on `prompts` (each needs `corruptedTokens`).
    public static func senderToReceiverQueries(model: Transformer, prompts: [TaskPrompt], metric: TaskMetric,
                                               senders: [HeadID], receivers: [HeadID], batchSize: Int = 32) throws -> Effect {
        var clean: [Float] = [], patched: [Float] = []
        let receiverLayers = Array(Set(receivers.map(\.layer))).sorted()
        for start in stride(from: 0, to: prompts.count, by: batchSize) {
            let part = Array(prompts[start..<min(prompts.count, start + batchSize)])
            let batch = TokenBatch(rows: part.map(\.tokens))
            let corrupted = TokenBatch(rows: part.map { $0.corruptedTokens ?? $0.tokens })
            let senderLayers = Set(senders.map(\.layer))
            let names: [HookName] = senderLayers.map { HookName.result($0) } + receiverLayers.map { HookName.residPre($0) }
            let cleanCache = try model.run(batch, logits: .none, capture: CaptureSpec(names: names)).cache
            let corruptCache = try model.run(corrupted, logits: .none, capture: CaptureSpec(names: senderLayers.map { HookName.result($0) })).cache
            var interventions: [Intervention] = []
            for layer in receiverLayers {
                var residual = cleanCache[HookName.residPre(layer)]!                 // [batch, pos, dModel]
                let d = model.config.dModel, positions = batch.positions, h = model.config.heads
                for s in senders where s.layer < layer {
                    let cleanResult: [Float] = cleanCache[HookName.result(s.layer)]!.storage
                    let corruptResult: [Float] = corruptCache[HookName.result(s.layer)]!.storage
                    for b in 0..<part.count {
                        let end = batch.lengths[b] - 1                       // result: [batch, pos, head, dModel]
                        let base = ((b * positions + end) * h + s.head) * d
                        let target = (b * positions + end) * d
                        for i in 0..<d {
                            let delta: Float = corruptResult[base + i] - cleanResult[base + i]
                            residual.storage[target + i] += delta
                        }
                    }
                }
                let q = try model.run(batch, fromLayer: layer, residual: residual, logits: .none,
                                      capture: CaptureSpec(names: [.q(layer)])).cache
                interventions.append(Intervention(.q(layer), heads: receivers.filter { $0.layer == layer }.map(\.head), positions: [-1], .patch(q)))
            }
            clean += try TaskDataset.metricValues(model: model, prompts: part, metric: metric)
            patched += try TaskDataset.metricValues(model: model, prompts: part, metric: metric, interventions: interventions)
        }
        return Effect(clean: mean(clean), patched: mean(patched))
    }

    /// Each head's effect when its output alone is patched from the aligned counterfactual at
    /// every position: (clean − patched) / clean of the mean metric, in `HeadID.all` order
    /// (resample activation patching, normalised by the clean metric).
    public static func headEffects(model: Transformer, prompts: [TaskPrompt], metric: TaskMetric) throws -> [Float] {
        let drops = try ActivationPatching.headScores(model: model, prompts: prompts, metric: metric, source: .resample).scores
        let clean = mean(try TaskDataset.metricValues(model: model, prompts: prompts, metric: metric))
        return drops.map { clean != 0 ? $0 / clean : 0 }
    }
}
