import Foundation

/// Straightforward twins of ``Kernels``, written for clarity and computed in double precision.
///
/// They document what each fast kernel means, serve as the test oracle, and are a fallback
/// when a fast path is in doubt. They work on whole ``Tensor`` values.
public enum NaiveKernels {
    /// `op(a) · op(b)` by the triple loop.
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        let (m, k) = transposeA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
        let n = transposeB ? b.shape[0] : b.shape[1]
        var c = Tensor(shape: [m, n])
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for p in 0..<k {
                    let x = transposeA ? a[p, i] : a[i, p]
                    let y = transposeB ? b[j, p] : b[p, j]
                    sum += Double(x) * Double(y)
                }
                c[i, j] = Float(sum)
            }
        }
        return c
    }

    /// Layer norm of each row of `[rows, dim]`; returns (output, scale `[rows]`, normalized).
    public static func layerNorm(_ x: Tensor, gain: [Float], bias: [Float], eps: Float) -> (out: Tensor, scale: [Float], normalized: Tensor) {
        let dim = x.shape.last!
        let rows = x.count / dim
        var out = x, normalized = x
        var scales = [Float](repeating: 0, count: rows)
        for r in 0..<rows {
            let row = (0..<dim).map { Double(x.storage[r * dim + $0]) }
            let mean = row.reduce(0, +) / Double(dim)
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(dim)
            let scale = (variance + Double(eps)).squareRoot()
            scales[r] = Float(scale)
            for i in 0..<dim {
                let v = (row[i] - mean) / scale
                normalized.storage[r * dim + i] = Float(v)
                out.storage[r * dim + i] = Float(v * Double(gain[i]) + Double(bias[i]))
            }
        }
        return (out, scales, normalized)
    }

    /// `gelu_new` element-wise.
    public static func geluNew(_ x: Tensor) -> Tensor {
        var y = x
        for i in 0..<x.count {
            let v = Double(x.storage[i])
            y.storage[i] = Float(0.5 * v * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (v + 0.044715 * v * v * v))))
        }
        return y
    }

    /// Causal softmax of a `[queries, keys]` score matrix (row `q` sees keys `0...q`); masked entries are zero.
    public static func causalSoftmax(_ scores: Tensor) -> Tensor {
        let (queries, keys) = (scores.shape[0], scores.shape[1])
        var p = Tensor(shape: [queries, keys])
        for q in 0..<queries {
            let visible = min(keys, q + 1)
            let m = (0..<visible).map { Double(scores[q, $0]) }.max()!
            let e = (0..<visible).map { Foundation.exp(Double(scores[q, $0]) - m) }
            let s = e.reduce(0, +)
            for j in 0..<visible { p[q, j] = Float(e[j] / s) }
        }
        return p
    }

    /// Softmax of each row of a `[queries, keys]` score matrix over its first `visible` keys (a
    /// padding mask; all keys by default); masked entries are zero. Twin of ``Kernels/keyMaskedSoftmax``.
    public static func maskedSoftmax(_ scores: Tensor, visible: Int? = nil) -> Tensor {
        let (queries, keys) = (scores.shape[0], scores.shape[1])
        let visible = min(keys, visible ?? keys)
        var p = Tensor(shape: [queries, keys])
        for q in 0..<queries {
            let m = (0..<visible).map { Double(scores[q, $0]) }.max()!
            let e = (0..<visible).map { Foundation.exp(Double(scores[q, $0]) - m) }
            let s = e.reduce(0, +)
            for j in 0..<visible { p[q, j] = Float(e[j] / s) }
        }
        return p
    }
}
