import MechanicTensor

extension Backprop {
    /// Token plus learned position embeddings: `out[b, p, :] = wte[ids[b, p], :] + wpe[p, :]`.
    ///
    /// One float addition per element, so the result is bit-identical to gathering the two
    /// embeddings separately and adding them (what ``Transformer/run(_:logits:capture:interventions:)`` does).
    ///
    /// - Parameters:
    ///   - ids: token ids `[batch, pos]`.
    ///   - tokenTable: `wte` `[vocab, dModel]`.
    ///   - positionTable: `wpe` `[context, dModel]` (rows `0..<positions` are read).
    ///   - out: `[batch, pos, dModel]`.
    public static func embeddingForward(
        ids: UnsafePointer<Int32>, batch: Int, positions: Int, dim: Int,
        tokenTable: UnsafePointer<Float>, positionTable: UnsafePointer<Float>,
        out: UnsafeMutablePointer<Float>
    ) {
        for b in 0..<batch {
            for p in 0..<positions {
                let row = b * positions + p
                let o = out + row * dim, token = tokenTable + Int(ids[row]) * dim, position = positionTable + p * dim
                for i in 0..<dim { o[i] = token[i] + position[i] }
            }
        }
    }

    /// Backward of ``embeddingForward(ids:batch:positions:dim:tokenTable:positionTable:out:)``:
    /// a scatter-add into `wte` and a sum over the batch into `wpe`.
    ///
    /// The two upstream gradients are separate arguments (usually the same buffer) because an
    /// intervention on `hook_embed` or `hook_pos_embed` blocks one of them and not the other.
    /// Threads split the model dimension, so repeated tokens are summed in a fixed order.
    ///
    /// - Parameters:
    ///   - dTokens: gradient of `hook_embed` `[batch, pos, dModel]`.
    ///   - dPositions: gradient of `hook_pos_embed` `[batch, pos, dModel]`.
    ///   - dTokenTable: `[vocab, dModel]`, accumulated; `nil` to skip.
    ///   - dPositionTable: `[context, dModel]`, accumulated; `nil` to skip.
    public static func embeddingBackward(
        dTokens: UnsafePointer<Float>, dPositions: UnsafePointer<Float>,
        ids: UnsafePointer<Int32>, batch: Int, positions: Int, dim: Int,
        dTokenTable: UnsafeMutablePointer<Float>?, dPositionTable: UnsafeMutablePointer<Float>?
    ) {
        let blocks = (dim + columnBlock - 1) / columnBlock
        Kernels.parallelFor(blocks) { range in
            for block in range {
                let c0 = block * columnBlock, width = min(columnBlock, dim - c0)
                for row in 0..<(batch * positions) {
                    let p = row % positions
                    if let dTokenTable {
                        Kernels.axpy(1, dTokens + row * dim + c0, dTokenTable + Int(ids[row]) * dim + c0, count: width)
                    }
                    if let dPositionTable {
                        Kernels.axpy(1, dPositions + row * dim + c0, dPositionTable + p * dim + c0, count: width)
                    }
                }
            }
        }
    }
}
