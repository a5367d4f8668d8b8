import Foundation

/// Vector `exp`, GELU and softmax: the transcendental work of the forward pass.
///
/// They run in 16-wide SIMD lanes with no library calls, so the compiler keeps whole loops in
/// vector registers. ``NaiveKernels`` has double-precision twins of each.
extension Kernels {
    /// GPT-2's `gelu_new` (the tanh form), in place: `0.5·x·(1 + tanh(u))`, `u = √(2/π)·(x + 0.044715·x³)`.
    ///
    /// Computed as the identical `x / (1 + exp(−2u))`, which needs one vector `exp` and no
    /// sign handling (for large negative `u` the quotient underflows to ±0, the true limit).
    public static func geluNew(_ x: UnsafeMutablePointer<Float>, count: Int) {
        let c = SIMD16<Float>(repeating: -2 * 0.7978845608028654)  // −2·√(2/π)
        var i = 0
        while i + 16 <= count {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
            let e = exp16(c * (v + 0.044715 * v * v * v))
            UnsafeMutableRawPointer(x + i).storeBytes(of: v / (1 + e), as: SIMD16<Float>.self)
            i += 16
        }
        while i < count {
            let v = x[i]
            x[i] = 0.5 * v * (1 + Foundation.tanh(0.7978845608028654 * (v + 0.044715 * v * v * v)))
            i += 1
        }
    }

    /// Sixteen `exp` values (Cody–Waite reduction, degree-6 polynomial; relative error ~2e-7).
    ///
    /// Inputs are clamped to [−87, 88], the normal range of `Float`. Rounding to an integer
    /// uses the 1.5·2²³ trick, since a vector float→int conversion is scalarised by the compiler.
    @inline(__always)
    public static func exp16(_ x: SIMD16<Float>) -> SIMD16<Float> {
        var clamped = x.replacing(with: SIMD16(repeating: -87), where: x .< -87)
        clamped.replace(with: SIMD16(repeating: 88), where: clamped .> 88)
        let log2e: Float = 1.4426950408889634
        let magic: Float = 12_582_912  // 1.5 · 2²³: adding it rounds to an integer in the low mantissa bits
        let shifted = clamped * log2e + magic
        let n = shifted - magic
        let r = clamped - n * 0.693145751953125 - n * 1.428606765330187e-06
        var p = SIMD16<Float>(repeating: 1.0 / 720)
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        // 2ⁿ from the integer held in `shifted`'s mantissa: (n + 127) << 23.
        let integer = unsafeBitCast(shifted, to: SIMD16<UInt32>.self) &- 0x4B40_0000
        let scale = unsafeBitCast((integer &+ 127) &<< 23, to: SIMD16<Float>.self)
        return p * scale
    }

    /// Softmax of each row of a causal score matrix, in place: row `q` covers keys `0...q + queryOffset`.
    ///
    /// Entries after the visible keys, up to `keys`, are set to zero.
    ///
    /// - Parameters:
    ///   - scores: `[queries, keys]` with row stride `ld`.
    ///   - queryOffset: position of query row 0, for a tile of rows that starts later in the prompt.
    ///   - window: a sliding window: row `q` covers only keys `q + queryOffset − window + 1 … q + queryOffset`.
    public static func causalSoftmax(_ scores: UnsafeMutablePointer<Float>, queries: Int, keys: Int, ld: Int, queryOffset: Int = 0,
                                     window: Int? = nil) {
        for q in 0..<queries {
            var row = scores + q * ld
            var visible = min(keys, q + queryOffset + 1)
            var keys = keys
            if let window, q + queryOffset + 1 > window {
                // A sliding window: keys before `query − window + 1` get exactly zero weight.
                let first = q + queryOffset + 1 - window
                row.update(repeating: 0, count: min(first, keys))
                (row, visible, keys) = (row + first, visible - first, keys - first)
            }
            let maxValue = maximum(row, count: visible)
            if maxValue == -.infinity {
                row.update(repeating: 0, count: keys)
                continue
            }
            let m = SIMD16<Float>(repeating: maxValue)
            var lanes = SIMD16<Float>()
            var j = 0
            while j + 16 <= visible {
                let e = exp16(UnsafeRawPointer(row + j).loadUnaligned(as: SIMD16<Float>.self) - m)
                UnsafeMutableRawPointer(row + j).storeBytes(of: e, as: SIMD16<Float>.self)
                lanes += e
                j += 16
            }
            var sum = lanes.sum()
            while j < visible {
                let e = Foundation.exp(row[j] - maxValue)
                row[j] = e
                sum += e
                j += 1
            }
            scale(row, by: 1 / sum, count: visible)
            if visible < keys { (row + visible).update(repeating: 0, count: keys - visible) }
        }
    }

    /// Soft-caps the visible scores of a causal score matrix (`cap · tanh(s / cap)`) and sets keys
    /// outside a sliding window to `-inf`, in place, as HF's eager attention does before its softmax.
    ///
    /// - Parameters:
    ///   - scores: `[queries, keys]` with row stride `ld`; row `q` is the query at `q + queryOffset`.
    ///   - window: keys before `query − window + 1` are masked.
    public static func maskScores(_ scores: UnsafeMutablePointer<Float>, queries: Int, keys: Int, ld: Int, queryOffset: Int = 0,
                                  window: Int?, softcap: Float?) {
        for q in 0..<queries {
            let row = scores + q * ld
            let visible = min(keys, q + queryOffset + 1)
            var first = 0
            if let window { first = min(visible, max(0, q + queryOffset + 1 - window)) }
            row.update(repeating: -.infinity, count: first)
            if let softcap { Kernels.softcap(row + first, count: visible - first, cap: softcap) }
        }
    }

    /// The largest of `count` values (`-inf` when empty).
    @inlinable
    public static func maximum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var lanes = SIMD16<Float>(repeating: -.infinity)
        var i = 0
        while i + 16 <= count {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
            lanes.replace(with: v, where: v .> lanes)
            i += 16
        }
        var m = lanes.max()
        while i < count {
            m = Swift.max(m, x[i])
            i += 1
        }
        return m
    }

    /// `x *= factor`, element-wise.
    @inlinable
    public static func scale(_ x: UnsafeMutablePointer<Float>, by factor: Float, count: Int) {
        let f = SIMD16<Float>(repeating: factor)
        var i = 0
        while i + 16 <= count {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self) * f
            UnsafeMutableRawPointer(x + i).storeBytes(of: v, as: SIMD16<Float>.self)
            i += 16
        }
        while i < count {
            x[i] *= factor
            i += 1
        }
    }
}
