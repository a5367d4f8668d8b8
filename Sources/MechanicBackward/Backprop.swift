import MechanicTensor

// MechanicBackward: gradients of every supported model family.
//
// A gradient run reads top to bottom in three files:
//   Transformer+TapedForward.swift   the forward pass (the model's arithmetic, kernel for kernel),
//                                  saving a ForwardTape of what the backward pass reads;
//   Transformer+Gradients.swift      the public entry points: the loss (or a caller's objective of
//                                  the logits) and the gradient of the logits;
//   Transformer+TapedBackward.swift  the backward pass, block by block in reverse.
// The per-operation kernels are the Backprop+<Op>.swift files (Backprop+Families.swift for the
// features beyond GPT-2: RMS norm, activations and gating, rotary, soft-cap, grouped K/V), with
// double-precision twins in NaiveBackprop.swift and NaiveBackprop+Families.swift. GradientHooks.swift holds the hook side: interventions in the forward
// pass (an overwritten element passes no gradient upstream) and the activation gradients asked for.

/// The backward pass of the transformer: one `<op>Forward` / `<op>Backward` pair per operation,
/// in the manner of llm.c's `train_gpt2.c`.
///
/// Why raw buffers: the model runs strided views (one head of a fused `qkv` buffer) without
/// copies, exactly as ``Kernels`` does; the ``Transformer`` gradient entry points do the
/// tensor plumbing. Every buffer's shape is stated in the doc comment of each function.
///
/// Convention (llm.c's): backward functions **accumulate** into their gradient outputs
/// (`dx += …`), so gradient buffers start at zero and a tensor read by two operations (the
/// residual stream, the tied token embedding) collects both contributions without extra
/// copies. Optional gradient outputs are skipped when `nil` (no parameter gradients for an
/// attribution run). Each function has a double-precision twin in ``NaiveBackprop``, which the
/// tests use as the oracle.
public enum Backprop {}

extension Backprop {
    /// Columns per work item of the column-wise reductions: 64 floats, four SIMD16 registers.
    static let columnBlock = 64

    /// `out[n] += Σ_r x[r, n]`: the column sums of a `[rows, columns]` matrix (bias gradients).
    ///
    /// Threads split the columns, never the rows, so every sum is taken in row order and the
    /// result is bit-identical for any number of threads.
    public static func columnSums(_ x: UnsafePointer<Float>, rows: Int, columns: Int, into out: UnsafeMutablePointer<Float>) {
        let blocks = (columns + columnBlock - 1) / columnBlock
        Kernels.parallelFor(blocks, minimumChunk: max(1, 4096 / max(rows, 1))) { range in
            for block in range {
                let c0 = block * columnBlock, width = min(columnBlock, columns - c0)
                for r in 0..<rows { Kernels.axpy(1, x + r * columns + c0, out + c0, count: width) }
            }
        }
    }

    /// `out[n] += Σ_r x[r, n] · y[r, n]`: column sums of an element-wise product (layer-norm gains).
    public static func columnDotSums(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, rows: Int, columns: Int,
                                     into out: UnsafeMutablePointer<Float>) {
        let blocks = (columns + columnBlock - 1) / columnBlock
        Kernels.parallelFor(blocks, minimumChunk: max(1, 4096 / max(rows, 1))) { range in
            for block in range {
                let c0 = block * columnBlock, width = min(columnBlock, columns - c0)
                for r in 0..<rows {
                    let xr = x + r * columns + c0, yr = y + r * columns + c0, o = out + c0
                    for i in 0..<width { o[i] += xr[i] * yr[i] }
                }
            }
        }
    }
}
