import Foundation

/// Kernels of the architecture features beyond GPT-2: RMS norm, exact GELU, SiLU, ReLU, gating,
/// rotary embeddings, soft-capping. Each has a naive twin in `NaiveKernels` used by the tests.
extension Kernels {
    /// RMS norm over the last axis, as HF's `LlamaRMSNorm` computes it in float32:
    /// `scale = √(mean(x²) + eps)`, `normalized = x / scale`, `out = normalized · gain`.
    ///
    /// - Parameters:
    ///   - x: input `[rows, dim]`.
    ///   - gain: `[dim]` (Gemma's `1 + w` already added by the loader).
    ///   - scale: optional output `[rows]` (TransformerLens `hook_scale`).
    ///   - normalized: optional output `[rows, dim]` (TransformerLens `hook_normalized`).
    ///   - out: output `[rows, dim]`; may alias `x`.
    public static func rmsNorm(
        _ x: UnsafePointer<Float>, rows: Int, dim: Int, eps: Float, gain: UnsafePointer<Float>,
        scale: UnsafeMutablePointer<Float>? = nil, normalized: UnsafeMutablePointer<Float>? = nil,
        out: UnsafeMutablePointer<Float>
    ) {
        let invDim = 1 / Float(dim)
        for r in 0..<rows {
            let row = x + r * dim
            let s = (sumOfSquaredDeviations(row, mean: 0, count: dim) * invDim + eps).squareRoot()
            let inv = 1 / s
            scale?[r] = s
            let o = out + r * dim
            let n = normalized.map { $0 + r * dim }
            for i in 0..<dim {
                let v = row[i] * inv
                n?[i] = v
                o[i] = v * gain[i]
            }
        }
    }

    /// `0.5·x·(1 + erf(x/√2))` in place (HF `gelu`, PyTorch's exact GELU).
    public static func geluExact(_ x: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count {
            let v = x[i]
            x[i] = 0.5 * v * (1 + Foundation.erf(v * 0.70710678118654752))
        }
    }

    /// `x·σ(x)` in place (HF `silu`), with the vector `exp`.
    public static func silu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 16 <= count {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
            UnsafeMutableRawPointer(x + i).storeBytes(of: v / (1 + exp16(-v)), as: SIMD16<Float>.self)
            i += 16
        }
        while i < count {
            let v = x[i]
            x[i] = v / (1 + Foundation.exp(-v))
            i += 1
        }
    }

    /// Keys and values of `kvHeads` heads repeated to one per query head (HF `repeat_kv`):
    /// `[rows, (head + 2·kvHead)·dHead]` → `[rows, 3·head·dHead]`, query head `i` reading kv head
    /// `i / (head / kvHead)`. Used by the forward pass and the taped forward of gradient runs alike.
    public static func ungroupKeysValues(_ x: UnsafePointer<Float>, rows: Int, heads h: Int, kvHeads kv: Int, dHead dh: Int,
                                         out: UnsafeMutablePointer<Float>) {
        let (from, to, group) = ((h + 2 * kv) * dh, 3 * h * dh, h / kv)
        for row in 0..<rows {
            let s = x + row * from, o = out + row * to
            o.update(from: s, count: h * dh)
            for part in 1...2 {
                for head in 0..<h {
                    (o + (part * h + head) * dh).update(from: s + h * dh + ((part - 1) * kv + head / group) * dh, count: dh)
                }
            }
        }
    }

    /// `max(x, 0)` in place.
    public static func relu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count where !(x[i] > 0) { x[i] = 0 }
    }

    /// `x[i] *= y[i]` (the gate of a gated MLP times its linear branch).
    public static func multiply(_ y: UnsafePointer<Float>, into x: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 16 <= count {
            let a = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
            let b = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD16<Float>.self)
            UnsafeMutableRawPointer(x + i).storeBytes(of: a * b, as: SIMD16<Float>.self)
            i += 16
        }
        while i < count {
            x[i] *= y[i]
            i += 1
        }
    }

    /// `cap · tanh(x / cap)` in place (Gemma 2's soft-capping), as PyTorch's three steps.
    public static func softcap(_ x: UnsafeMutablePointer<Float>, count: Int, cap: Float) {
        for i in 0..<count where x[i].isFinite { x[i] = Foundation.tanh(x[i] / cap) * cap }
    }

    /// Rotates the leading `2·cos.count/positions` dimensions of every head in place.
    ///
    /// Halves style (HF `rotate_half`): dimension `i < half` pairs with `i + half`:
    /// `x'ᵢ = xᵢ·cos − x_{i+half}·sin`, `x'_{i+half} = x_{i+half}·cos + xᵢ·sin`.
    /// Interleaved style pairs `2i` with `2i + 1` the same way.
    ///
    /// - Parameters:
    ///   - x: `[batch, pos, heads, dHead]` at `stride` floats between positions (a fused buffer
    ///     may hold other parts between them).
    ///   - cos, sin: `[pos, half]` per-position tables (angles `pos · invFreq`).
    public static func rotary(
        _ x: UnsafeMutablePointer<Float>, batch: Int, positions: Int, heads: Int, dHead: Int, stride: Int,
        half: Int, cos: UnsafePointer<Float>, sin: UnsafePointer<Float>, interleaved: Bool
    ) {
        for b in 0..<batch {
            for p in 0..<positions {
                let c = cos + p * half, s = sin + p * half
                for h in 0..<heads {
                    let v = x + (b * positions + p) * stride + h * dHead
                    for i in 0..<half {
                        let (a, bIndex) = interleaved ? (2 * i, 2 * i + 1) : (i, i + half)
                        let (x1, x2) = (v[a], v[bIndex])
                        v[a] = x1 * c[i] - x2 * s[i]
                        v[bIndex] = x2 * c[i] + x1 * s[i]
                    }
                }
            }
        }
    }
}

extension NaiveKernels {
    /// RMS norm in double precision: the oracle of ``Kernels/rmsNorm``.
    public static func rmsNorm(_ x: Tensor, gain: [Float], eps: Float) -> (out: Tensor, scale: [Float], normalized: Tensor) {
        let dim = x.shape.last!
        let rows = x.count / dim
        var out = x, normalized = x
        var scales = [Float](repeating: 0, count: rows)
        for r in 0..<rows {
            let row = (0..<dim).map { Double(x.storage[r * dim + $0]) }
            let scale = (row.map { $0 * $0 }.reduce(0, +) / Double(dim) + Double(eps)).squareRoot()
            scales[r] = Float(scale)
            for i in 0..<dim {
                normalized.storage[r * dim + i] = Float(row[i] / scale)
                out.storage[r * dim + i] = Float(row[i] / scale * Double(gain[i]))
            }
        }
        return (out, scales, normalized)
    }

    /// Rotary embedding of one head vector at one position, in double precision, from the
    /// definition (pairs rotated by `position · invFreq[i]`).
    public static func rotary(_ v: [Float], position: Int, inverseFrequencies: [Float], interleaved: Bool) -> [Float] {
        var out = v
        let half = inverseFrequencies.count
        for i in 0..<half {
            let angle = Double(Float(position) * inverseFrequencies[i])
            let (a, b) = interleaved ? (2 * i, 2 * i + 1) : (i, i + half)
            let (x1, x2) = (Double(v[a]), Double(v[b]))
            out[a] = Float(x1 * cos(angle) - x2 * sin(angle))
            out[b] = Float(x2 * cos(angle) + x1 * sin(angle))
        }
        return out
    }
}
