import MechanicTensor

extension Backprop {
    /// `out[rows, out] = x[rows, in] · W[in, out] + b[out]` (no `b` when `bias` is `nil`): a Conv1D-layout
    /// linear layer (HF GPT-2's `c_attn`, `c_proj`, `c_fc`; other families' transposed `nn.Linear`), through ``Kernels/linear(_:rows:inFeatures:weight:bias:outFeatures:out:)``.
    public static func linearForward(
        _ x: UnsafePointer<Float>, rows: Int, inFeatures: Int,
        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, outFeatures: Int,
        out: UnsafeMutablePointer<Float>
    ) {
        Kernels.linear(x, rows: rows, inFeatures: inFeatures, weight: weight, bias: bias, outFeatures: outFeatures, out: out)
    }

    /// Backward of ``linearForward(_:rows:inFeatures:weight:bias:outFeatures:out:)``, two BLAS products:
    /// `dx += dOut · Wᵀ` and `dW += xᵀ · dOut`; `db += Σ_rows dOut`.
    ///
    /// - Parameters:
    ///   - dOut: `[rows, out]`.
    ///   - x: the forward input `[rows, in]`.
    ///   - weight: `[in, out]`.
    ///   - dx: `[rows, in]`, accumulated; `nil` to skip.
    ///   - dWeight: `[in, out]`, accumulated; `nil` to skip.
    ///   - dBias: `[out]`, accumulated; `nil` to skip.
    public static func linearBackward(
        dOut: UnsafePointer<Float>, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        rows: Int, inFeatures: Int, outFeatures: Int,
        dx: UnsafeMutablePointer<Float>?, dWeight: UnsafeMutablePointer<Float>?, dBias: UnsafeMutablePointer<Float>?
    ) {
        if let dx {
            Kernels.gemm(transB: true, m: rows, n: inFeatures, k: outFeatures, a: dOut, lda: outFeatures,
                         b: weight, ldb: outFeatures, beta: 1, c: dx, ldc: inFeatures)
        }
        if let dWeight {
            Kernels.gemm(transA: true, m: inFeatures, n: outFeatures, k: rows, a: x, lda: inFeatures,
                         b: dOut, ldb: outFeatures, beta: 1, c: dWeight, ldc: outFeatures)
        }
        if let dBias { columnSums(dOut, rows: rows, columns: outFeatures, into: dBias) }
    }

    /// The unembedding: `logits[rows, vocab] = x[rows, dModel] · W_Uᵀ` (`W_U` the token embedding `wte` when tied).
    public static func unembedForward(
        _ x: UnsafePointer<Float>, rows: Int, dim: Int, table: UnsafePointer<Float>, vocab: Int,
        logits: UnsafeMutablePointer<Float>
    ) {
        Kernels.gemm(transB: true, m: rows, n: vocab, k: dim, a: x, lda: dim, b: table, ldb: dim, c: logits, ldc: vocab)
    }

    /// Backward of ``unembedForward(_:rows:dim:table:vocab:logits:)``: `dx += dLogits · W_U`,
    /// `dW_U += dLogitsᵀ · x`. When tied, the embedding's own backward adds the gather's share to the same `dwte`.
    ///
    /// - Parameters:
    ///   - dLogits: `[rows, vocab]`.
    ///   - x: the final layer norm's output `[rows, dModel]`.
    ///   - table: `W_U` (`wte` when tied) `[vocab, dModel]`.
    ///   - dx: `[rows, dModel]`, accumulated.
    ///   - dTable: `[vocab, dModel]`, accumulated; `nil` to skip.
    public static func unembedBackward(
        dLogits: UnsafePointer<Float>, x: UnsafePointer<Float>, table: UnsafePointer<Float>,
        rows: Int, dim: Int, vocab: Int,
        dx: UnsafeMutablePointer<Float>, dTable: UnsafeMutablePointer<Float>?
    ) {
        Kernels.gemm(m: rows, n: dim, k: vocab, a: dLogits, lda: vocab, b: table, ldb: dim, beta: 1, c: dx, ldc: dim)
        if let dTable {
            Kernels.gemm(transA: true, m: vocab, n: dim, k: rows, a: dLogits, lda: vocab, b: x, ldb: dim,
                         beta: 1, c: dTable, ldc: dim)
        }
    }

    /// Per-head attention outputs (TransformerLens `hook_result`):
    /// `result[row, h, :] = z[row, h, :] · W_O[h·dHead ..< (h+1)·dHead, :]`.
    ///
    /// The model sums them with the bias into `hook_attn_out` only when `hook_result` is edited;
    /// otherwise the output projection is one ``linearForward(_:rows:inFeatures:weight:bias:outFeatures:out:)``.
    ///
    /// - Parameters:
    ///   - z: `[rows, head, dHead]`.
    ///   - weight: `W_O` `[head·dHead, dModel]`.
    ///   - result: `[rows, head, dModel]`.
    public static func headResultsForward(
        z: UnsafePointer<Float>, weight: UnsafePointer<Float>, rows: Int, heads: Int, dHead: Int, dModel: Int,
        result: UnsafeMutablePointer<Float>
    ) {
        for h in 0..<heads {
            Kernels.gemm(m: rows, n: dModel, k: dHead, a: z + h * dHead, lda: heads * dHead,
                         b: weight + h * dHead * dModel, ldb: dModel, c: result + h * dModel, ldc: heads * dModel)
        }
    }

    /// Backward of ``headResultsForward(z:weight:rows:heads:dHead:dModel:result:)``, one pair of BLAS
    /// products per head: `dz_h += dResult_h · W_O,hᵀ`, `dW_O,h += z_hᵀ · dResult_h`.
    ///
    /// - Parameters:
    ///   - dResult: `[rows, head, dModel]`.
    ///   - z: `[rows, head, dHead]`.
    ///   - dz: `[rows, head, dHead]`, accumulated.
    ///   - dWeight: `[head·dHead, dModel]`, accumulated; `nil` to skip.
    public static func headResultsBackward(
        dResult: UnsafePointer<Float>, z: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        rows: Int, heads: Int, dHead: Int, dModel: Int,
        dz: UnsafeMutablePointer<Float>, dWeight: UnsafeMutablePointer<Float>?
    ) {
        let (ldz, ldr) = (heads * dHead, heads * dModel)
        for h in 0..<heads {
            Kernels.gemm(transB: true, m: rows, n: dHead, k: dModel, a: dResult + h * dModel, lda: ldr,
                         b: weight + h * dHead * dModel, ldb: dModel, beta: 1, c: dz + h * dHead, ldc: ldz)
            if let dWeight {
                Kernels.gemm(transA: true, m: dHead, n: dModel, k: rows, a: z + h * dHead, lda: ldz,
                             b: dResult + h * dModel, ldb: ldr, beta: 1, c: dWeight + h * dHead * dModel, ldc: dModel)
            }
        }
    }
}
