import MechanicModel
import MechanicTasks
import MechanicTensor
import MechanicTokenizer

/// What every sender of a ``ComputationalGraph`` writes to the residual stream in one run.
///
/// - input: `blocks.0.hook_resid_pre` (token and position embeddings);
/// - head h of layer l: its share of the attention output, `z[:, :, h] · W_O[h]`, without W_O's
///   bias (the bias belongs to no head, so it stays in every run, as in EAP-IG);
/// - MLP l: `blocks.l.hook_mlp_out`, bias included.
///
/// Stored as one buffer `[senders, rows, dModel]` (`rows = batch·pos`, senders in `graph.senders`
/// order), so sums over sets of senders are matrix products.
struct SenderOutputs: Sendable {
    let senders: Int
    let rows: Int
    let dModel: Int
    /// `[senders, rows, dModel]`.
    var storage: [Float]

    /// The hooks a run must capture to build the outputs.
    static func hooks(_ config: TransformerConfig) -> [HookName] {
        var names: [HookName] = [.residPre(0)]
        for l in 0..<config.layers {
            names.append(.z(l))
            if !config.attentionOnly { names.append(.mlpOut(l)) }
        }
        return names
    }

    init(senders: Int, rows: Int, dModel: Int, storage: [Float]) {
        precondition(storage.count == senders * rows * dModel)
        (self.senders, self.rows, self.dModel, self.storage) = (senders, rows, dModel, storage)
    }

    /// The outputs in a run's cache (which must hold ``hooks(_:)`` at every position).
    init(model: Transformer, graph: ComputationalGraph, cache: ActivationCache) {
        let c = model.config
        let input = cache[.residPre(0)]!                                      // [batch, pos, dModel]
        let (d, h, dh) = (c.dModel, c.heads, c.dHead)
        let rows = input.count / d
        var storage = [Float](repeating: 0, count: graph.senders.count * rows * d)
        storage.withUnsafeMutableBufferPointer { out in
            for (s, sender) in graph.senders.enumerated() {
                let dst = out.baseAddress! + s * rows * d
                switch sender {
                case .input:
                    dst.update(from: input.storage, count: rows * d)
                case .head(let head):
                    let z = cache[.z(head.layer)]!                           // [batch, pos, head, dHead]
                    z.storage.withUnsafeBufferPointer { zs in
                        model.weights.blocks[head.layer].attnOutWeight.storage.withUnsafeBufferPointer { wo in
                            Kernels.gemm(m: rows, n: d, k: dh, a: zs.baseAddress! + head.head * dh, lda: h * dh,
                                         b: wo.baseAddress! + head.head * dh * d, ldb: d, c: dst, ldc: d)
                        }
                    }
                case .mlp(let layer):
                    dst.update(from: cache[.mlpOut(layer)]!.storage, count: rows * d)
                case .logits:
                    break
                }
            }
        }
        self.init(senders: graph.senders.count, rows: rows, dModel: d, storage: storage)
    }

    /// Runs the model on `batch` and reads every sender's output.
    static func run(model: Transformer, graph: ComputationalGraph, batch: TokenBatch,
                    interventions: [Intervention] = []) throws -> SenderOutputs {
        let cache = try model.run(batch, logits: .none, capture: CaptureSpec(names: hooks(model.config)),
                                  interventions: interventions).cache
        return SenderOutputs(model: model, graph: graph, cache: cache)
    }

    /// One sender's output `[rows, dModel]`.
    func output(_ sender: Int) -> ArraySlice<Float> {
        storage[(sender * rows * dModel)..<((sender + 1) * rows * dModel)]
    }

    /// `self − other`, sender by sender.
    func minus(_ other: SenderOutputs) -> SenderOutputs {
        precondition(other.storage.count == storage.count, "outputs of the same batch shape")
        var out = storage
        for i in out.indices { out[i] -= other.storage[i] }
        return SenderOutputs(senders: senders, rows: rows, dModel: dModel, storage: out)
    }

    /// Zeroes the rows of padding positions (`rows` are `batch × positions`, real ones first in each prompt).
    mutating func zeroPadding(_ batch: TokenBatch) {
        let d = dModel
        storage.withUnsafeMutableBufferPointer { s in
            for sender in 0..<senders {
                for b in 0..<batch.batch {
                    for p in batch.lengths[b]..<batch.positions {
                        (s.baseAddress! + ((sender * rows) + b * batch.positions + p) * d).update(repeating: 0, count: d)
                    }
                }
            }
        }
    }
}

/// What an edge outside the circuit carries instead of its sender's clean output.
public enum EdgeAblation: String, Codable, CaseIterable, Sendable {
    /// The sender's output on the prompt's counterfactual (corrupted) twin: MIB's and EAP-IG's patching.
    case counterfactual
    /// The sender's mean output over the prompt set, per position.
    case mean
    /// Zero.
    case zero

    /// Every sender's replacement output for the clean batch of `prompts`.
    func source(model: Transformer, graph: ComputationalGraph, prompts: [TaskPrompt], clean: SenderOutputs) throws -> SenderOutputs {
        let batch = TokenBatch(rows: prompts.map(\.tokens))
        switch self {
        case .counterfactual:
            return try SenderOutputs.run(model: model, graph: graph, batch: try ActivationPatching.corruptedBatch(prompts))
        case .zero:
            return SenderOutputs(senders: clean.senders, rows: clean.rows, dModel: clean.dModel,
                                 storage: [Float](repeating: 0, count: clean.storage.count))
        case .mean:
            let n = clean.rows * clean.dModel
            let out = (0..<clean.senders).flatMap { s in
                EdgeAblation.perPositionMean(Array(clean.storage[(s * n)..<((s + 1) * n)]), batch: batch)
            }
            return SenderOutputs(senders: clean.senders, rows: clean.rows, dModel: clean.dModel, storage: out)
        }
    }

    /// `values` `[batch, pos, width]` with every row's entry at each position replaced by the mean
    /// over the prompts that reach that position (padding excluded).
    static func perPositionMean(_ values: [Float], batch: TokenBatch) -> [Float] {
        let t = batch.positions, width = values.count / (batch.batch * t)
        var out = values
        for p in 0..<t {
            let reach = (0..<batch.batch).filter { p < batch.lengths[$0] }
            var mean = [Float](repeating: 0, count: width)
            for b in reach { for i in 0..<width { mean[i] += values[(b * t + p) * width + i] } }
            for i in 0..<width { mean[i] /= Float(max(1, reach.count)) }
            for b in 0..<batch.batch { for i in 0..<width { out[(b * t + p) * width + i] = mean[i] } }
        }
        return out
    }
}
