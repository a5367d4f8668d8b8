import Foundation
import MechanicTensor

extension Backprop {
    /// Elements per work item of the element-wise GELU kernels: the model's own chunking, so the
    /// forward output is bit-identical to ``Transformer/run(_:logits:capture:interventions:)``.
    static let geluChunk = 1 << 15

    /// GPT-2's `gelu_new`: `out = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`.
    ///
    /// - Parameters:
    ///   - x: `[count]` (TransformerLens `mlp.hook_pre`).
    ///   - out: `[count]` (`mlp.hook_post`); may be `x` itself.
    public static func geluForward(_ x: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, count: Int) {
        if UnsafePointer(out) != x { out.update(from: x, count: count) }
        Kernels.parallelFor(count, minimumChunk: geluChunk) { range in
            Kernels.geluNew(out + range.lowerBound, count: range.count)
        }
    }

    /// Backward of ``geluForward(_:out:count:)``: `dx += dOut · gelu′(x)` with
    /// `gelu′(x) = ½(1 + tanh u) + ½·x·(1 − tanh² u)·√(2/π)·(1 + 3·0.044715·x²)`.
    ///
    /// `tanh u` is computed as `(1 − e)/(1 + e)`, `e = exp(−2u)`, with the vector `exp` of
    /// ``Kernels/exp16(_:)``, whose clamping keeps both limits finite.
    ///
    /// - Parameters:
    ///   - dOut: `[count]`; x: the forward input `[count]`; dx: `[count]`, accumulated.
    public static func geluBackward(dOut: UnsafePointer<Float>, x: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, count: Int) {
        let c: Float = 0.7978845608028654, a: Float = 0.044715
        Kernels.parallelFor(count, minimumChunk: geluChunk) { range in
            var i = range.lowerBound
            while i + 16 <= range.upperBound {
                let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
                let g = UnsafeRawPointer(dOut + i).loadUnaligned(as: SIMD16<Float>.self)
                let v2: SIMD16<Float> = v * v
                let u: SIMD16<Float> = c * (v + a * v2 * v)
                let e: SIMD16<Float> = Kernels.exp16(-2 * u)
                let th: SIMD16<Float> = (1 - e) / (1 + e)
                let slope: SIMD16<Float> = c * (1 + 3 * a * v2)
                let sech2: SIMD16<Float> = 1 - th * th
                let derivative: SIMD16<Float> = 0.5 * (1 + th) + 0.5 * v * sech2 * slope
                var d = UnsafeRawPointer(dx + i).loadUnaligned(as: SIMD16<Float>.self)
                d += g * derivative
                UnsafeMutableRawPointer(dx + i).storeBytes(of: d, as: SIMD16<Float>.self)
                i += 16
            }
            while i < range.upperBound {
                let v = x[i]
                let th = Foundation.tanh(c * (v + a * v * v * v))
                dx[i] += dOut[i] * (0.5 * (1 + th) + 0.5 * v * (1 - th * th) * c * (1 + 3 * a * v * v))
                i += 1
            }
        }
    }
}
