import MechanicModel
import MechanicTensor
import MechanicTokenizer

/// Per-head attention outputs (`hook_result`: each head's contribution after W_O), one vector
/// per (example, head): the input of the discrete SAE.
public enum HeadOutputs {
    /// How each head's `[pos, dModel]` outputs become one vector per example.
    public enum Reduction: Sendable, Equatable {
        /// Mean over the real token positions (BOS included): the reference protocol.
        case meanOverPositions
        /// The output at one position (negatives count back from the end; −1 is the last token).
        case position(Int)
    }

    /// Captures per-head outputs of every head for every prompt, in batches that cache only `hook_z`.
    ///
    /// - Parameters:
    ///   - prompts: token ids of each prompt.
    ///   - batchSize: prompts per forward pass (bounds the `hook_z` cache: `batch × pos × dModel` per layer).
    ///   - progress: called with the number of prompts done.
    /// - Returns: `[examples, layers · heads, dModel]`, heads in layer-major order.
    public static func capture(
        model: Transformer, prompts: [[Int]], reduction: Reduction = .meanOverPositions, batchSize: Int = 32,
        progress: ((Int) -> Void)? = nil
    ) throws -> Tensor {
        let c = model.config
        let (heads, d, dh) = (c.layers * c.heads, c.dModel, c.dHead)
        var out = Tensor(shape: [prompts.count, heads, d])
        let positions: PositionSelection
        switch reduction {
        case .meanOverPositions: positions = .all
        case .position(let p): positions = .indices([p])
        }
        // hook_result is linear in hook_z (result_h = z_h · W_O[h]), so reduce z over positions first
        // and apply W_O once per layer and head to all prompts at the end: no per-position results are
        // ever materialised, and the products are [examples, dHead] · [dHead, dModel], 144 of them,
        // rather than one row each. The runs stop after the last layer's hook_z (no logits, no last
        // W_O and MLP).
        let spec = CaptureSpec(where: { $0.point == .z }, positions: positions)
        let width = c.heads * dh
        var reduced = [Float](repeating: 0, count: prompts.count * heads * dh)  // [examples, layer · head, dHead]
        for start in stride(from: 0, to: prompts.count, by: max(1, batchSize)) {
            let rows = Array(prompts[start..<min(prompts.count, start + max(1, batchSize))])
            let batch = TokenBatch(rows: rows)
            let cache = try model.run(batch, logits: .none, capture: spec).cache
            for layer in 0..<c.layers {
                let z = cache[.z(layer)]!                                   // [batch, pos', head, dHead]
                let slots = z.shape[1]
                // reduced[e, layer] = Σ_p z[b, p] / used over the real positions only (padding excluded).
                for b in 0..<rows.count {
                    let used = reduction == .meanOverPositions ? batch.lengths[b] : slots
                    let scale = 1 / Float(used)
                    let dst = ((start + b) * c.layers + layer) * width
                    for p in 0..<used {
                        let src = (b * slots + p) * width
                        for i in 0..<width { reduced[dst + i] += z.storage[src + i] * scale }
                    }
                }
            }
            progress?(start + rows.count)
        }
        out.storage.withUnsafeMutableBufferPointer { o in
            reduced.withUnsafeBufferPointer { r in
                for layer in 0..<c.layers {
                    model.weights.blocks[layer].attnOutWeight.storage.withUnsafeBufferPointer { w in   // [head · dHead, dModel]
                        for h in 0..<c.heads {
                            // out[:, layer·heads + h, :] = reduced[:, layer·heads + h, :] · W_O[h]  ([examples, dHead] · [dHead, dModel])
                            let head = layer * c.heads + h
                            Kernels.gemm(m: prompts.count, n: d, k: dh, a: r.baseAddress! + head * dh, lda: heads * dh,
                                         b: w.baseAddress! + h * dh * d, ldb: d, c: o.baseAddress! + head * d, ldc: heads * d)
                        }
                    }
                }
            }
        }
        return out
    }

    /// Scales every output vector (the last axis of `[examples, heads, dModel]`) to unit length;
    /// all-zero vectors stay zero.
    public static func normalize(_ outputs: inout Tensor) {
        let d = outputs.shape[outputs.rank - 1]
        outputs.storage.withUnsafeMutableBufferPointer { x in
            for row in stride(from: 0, to: x.count, by: d) {
                var squares: Double = 0
                for i in row..<(row + d) { squares += Double(x[i]) * Double(x[i]) }
                guard squares > 0 else { continue }
                let scale = Float(1 / squares.squareRoot())
                for i in row..<(row + d) { x[i] *= scale }
            }
        }
    }
}
