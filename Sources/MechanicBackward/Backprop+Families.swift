import Foundation
import MechanicModel
import MechanicTensor

// Forward/backward pairs of the architecture features beyond GPT-2: RMS norm, the MLP
// nonlinearities and their gating, rotary embeddings, soft-capping, grouped keys and values.
// Each forward runs the model's own kernel on the model's own chunks, so the taped forward pass
// stays bit-identical to `Transformer.run`; each backward has a double-precision twin in
// `NaiveBackprop+Families.swift`.

extension Backprop {
    /// RMS norm over the last axis, keeping what its backward pass needs.
    ///
    /// Runs ``Kernels/rmsNorm(_:rows:dim:eps:gain:scale:normalized:out:)`` on the model's row
    /// chunks, so `out` is bit-identical to it.
    ///
    /// - Parameters:
    ///   - x: input `[rows, dim]`.
    ///   - gain: `[dim]` (Gemma's `1 + w` already folded in by the loader).
    ///   - out: `normalized · gain` `[rows, dim]`.
    ///   - normalized: `x / scale` `[rows, dim]` (TransformerLens `hook_normalized`).
    ///   - scale: `√(mean(x²) + eps)` `[rows]` (TransformerLens `hook_scale`).
    public static func rmsNormForward(
        _ x: UnsafePointer<Float>, rows: Int, dim: Int, eps: Float, gain: UnsafePointer<Float>,
        out: UnsafeMutablePointer<Float>, normalized: UnsafeMutablePointer<Float>, scale: UnsafeMutablePointer<Float>
    ) {
        Kernels.parallelFor(rows, minimumChunk: 64) { range in
            let first = range.lowerBound
            Kernels.rmsNorm(x + first * dim, rows: range.count, dim: dim, eps: eps, gain: gain,
                            scale: scale + first, normalized: normalized + first * dim, out: out + first * dim)
        }
    }

    /// Backward of ``rmsNormForward(_:rows:dim:eps:gain:out:normalized:scale:)``.
    ///
    /// With `x̂ = normalized` and `g = dOut · gain`: `dx = (g − x̂ · mean(g · x̂)) / scale`,
    /// `dGain = Σ_rows dOut · x̂` (layer norm's formula without the mean of `g`: nothing is centred).
    ///
    /// - Parameters:
    ///   - dOut: `[rows, dim]`; normalized: `[rows, dim]`, scale `[rows]`: saved by the forward pass.
    ///   - dx: `[rows, dim]`, accumulated.
    ///   - dGain: `[dim]`, accumulated; `nil` to skip.
    public static func rmsNormBackward(
        dOut: UnsafePointer<Float>, normalized: UnsafePointer<Float>, scale: UnsafePointer<Float>,
        gain: UnsafePointer<Float>, rows: Int, dim: Int,
        dx: UnsafeMutablePointer<Float>, dGain: UnsafeMutablePointer<Float>?
    ) {
        let invDim = 1 / Float(dim)
        Kernels.parallelFor(rows, minimumChunk: 32) { range in
            for r in range {
                let g = dOut + r * dim, xhat = normalized + r * dim, d = dx + r * dim
                var meanGX: Float = 0
                for i in 0..<dim { meanGX += g[i] * gain[i] * xhat[i] }
                meanGX *= invDim
                let inv = 1 / scale[r]
                for i in 0..<dim { d[i] += (g[i] * gain[i] - xhat[i] * meanGX) * inv }
            }
        }
        if let dGain { columnDotSums(dOut, normalized, rows: rows, columns: dim, into: dGain) }
    }

    /// An MLP nonlinearity element-wise, with the model's kernel and chunking (so the output is
    /// bit-identical to `Transformer.run`'s).
    ///
    /// - Parameters:
    ///   - x: `[count]` (`mlp.hook_pre`); out: `[count]`, may be `x` itself.
    public static func activationForward(_ activation: TransformerConfig.Activation, _ x: UnsafePointer<Float>,
                                         out: UnsafeMutablePointer<Float>, count: Int) {
        if activation == .geluTanh { return geluForward(x, out: out, count: count) }
        if UnsafePointer(out) != x { out.update(from: x, count: count) }
        Kernels.parallelFor(count, minimumChunk: geluChunk) { range in
            activation.apply(out + range.lowerBound, count: range.count)
        }
    }

    /// Backward of ``activationForward(_:_:out:count:)``: `dx += dOut · act′(x)`.
    ///
    /// `gelu_new` is ``geluBackward(dOut:x:dx:count:)``; exact GELU `Φ(x) + x·φ(x)`;
    /// SiLU `σ(x)·(1 + x·(1 − σ(x)))`; ReLU `1` where `x > 0`, else `0`.
    ///
    /// - Parameters:
    ///   - dOut: `[count]`; x: the forward input `[count]`; dx: `[count]`, accumulated.
    public static func activationBackward(_ activation: TransformerConfig.Activation, dOut: UnsafePointer<Float>,
                                          x: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, count: Int) {
        if activation == .geluTanh { return geluBackward(dOut: dOut, x: x, dx: dx, count: count) }
        let invSqrt2: Float = 0.70710678118654752, invSqrt2Pi: Float = 0.39894228040143268
        Kernels.parallelFor(count, minimumChunk: geluChunk) { range in
            for i in range {
                let v = x[i]
                let slope: Float
                switch activation {
                case .geluTanh: preconditionFailure("handled above")
                case .geluExact: slope = 0.5 * (1 + Foundation.erf(v * invSqrt2)) + v * invSqrt2Pi * Foundation.exp(-0.5 * v * v)
                case .silu:
                    let s = 1 / (1 + Foundation.exp(-v))
                    slope = s * (1 + v * (1 - s))
                case .relu: slope = v > 0 ? 1 : 0
                }
                dx[i] += dOut[i] * slope
            }
        }
    }

    /// Backward of a gated MLP's `post = act(gate) · up` (SwiGLU, GeGLU):
    /// `dGate += dPost · up · act′(gate)`, `dUp += dPost · act(gate)`.
    ///
    /// - Parameters:
    ///   - dOut: `[count]` (gradient of `mlp.hook_post`).
    ///   - gate: `mlp.hook_pre` `[count]`; up: `mlp.hook_pre_linear` `[count]`: the forward inputs.
    ///   - dGate, dUp: `[count]`, accumulated.
    public static func gatedActivationBackward(_ activation: TransformerConfig.Activation, dOut: UnsafePointer<Float>,
                                               gate: UnsafePointer<Float>, up: UnsafePointer<Float>,
                                               dGate: UnsafeMutablePointer<Float>, dUp: UnsafeMutablePointer<Float>, count: Int) {
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: count)   // act(gate), then dOut · up
        defer { scratch.deallocate() }
        activationForward(activation, gate, out: scratch, count: count)
        for i in 0..<count { dUp[i] += dOut[i] * scratch[i] }
        for i in 0..<count { scratch[i] = dOut[i] * up[i] }
        activationBackward(activation, dOut: scratch, x: gate, dx: dGate, count: count)
    }

    /// Backward of `y = cap · tanh(x / cap)`, from the forward output:
    /// `dx = dOut · (1 − (y / cap)²)`, in place on `d` (`dOut` in, `dx` out).
    ///
    /// Entries where `y` is not finite (masked scores, `-inf`) get 0.
    ///
    /// - Parameters:
    ///   - d: `[count]`; capped: the forward output `[count]`.
    public static func softcapBackward(_ d: UnsafeMutablePointer<Float>, capped: UnsafePointer<Float>, count: Int, cap: Float) {
        let inv = 1 / cap
        for i in 0..<count {
            let y = capped[i]
            guard y.isFinite else { d[i] = 0; continue }
            let t = y * inv
            d[i] *= 1 - t * t
        }
    }

    /// Backward of `Kernels.ungroupKeysValues`: each kv head's gradient
    /// is the sum over the query heads of its group, in head order.
    ///
    /// - Parameters:
    ///   - d: `[rows, 3·head·dHead]`.
    ///   - dGrouped: `[rows, (head + 2·kvHead)·dHead]`, accumulated.
    public static func regroupKeysValues(_ d: UnsafePointer<Float>, rows: Int, heads h: Int, kvHeads kv: Int, dHead dh: Int,
                                         dGrouped: UnsafeMutablePointer<Float>) {
        let (to, from, group) = ((h + 2 * kv) * dh, 3 * h * dh, h / kv)
        for row in 0..<rows {
            let s = d + row * from, o = dGrouped + row * to
            Kernels.add(s, into: o, count: h * dh)
            for part in 1...2 {
                for head in 0..<h {
                    Kernels.add(s + (part * h + head) * dh, into: o + h * dh + ((part - 1) * kv + head / group) * dh, count: dh)
                }
            }
        }
    }
}

extension Backprop {
    /// Rotary embedding of the queries and keys of a fused `[batch, pos, 3·head·dHead]` buffer,
    /// in place (the model's `applyRotary`, with its `RotaryTable`).
    static func rotaryForward(_ qkv: UnsafeMutablePointer<Float>, batch b: Int, positions t: Int, heads h: Int, dHead dh: Int,
                              rotary: Rotary, angles: RotaryTable) {
        for part in 0..<2 {
            Kernels.rotary(qkv + part * h * dh, batch: b, positions: t, heads: h, dHead: dh, stride: 3 * h * dh,
                           half: rotary.dims / 2, cos: angles.cos, sin: angles.sin, interleaved: rotary.style == .interleaved)
        }
    }

    /// Backward of ``rotaryForward(_:batch:positions:heads:dHead:rotary:angles:)``, in place on the
    /// gradient buffer: a rotation's transpose is the rotation by the negative angle, so the same
    /// kernel runs with the sines negated. Dimensions past `rotary.dims` pass through.
    static func rotaryBackward(_ dqkv: UnsafeMutablePointer<Float>, batch b: Int, positions t: Int, heads h: Int, dHead dh: Int,
                               rotary: Rotary, angles: RotaryTable) {
        let negated = angles.sin.map { -$0 }
        for part in 0..<2 {
            Kernels.rotary(dqkv + part * h * dh, batch: b, positions: t, heads: h, dHead: dh, stride: 3 * h * dh,
                           half: rotary.dims / 2, cos: angles.cos, sin: negated, interleaved: rotary.style == .interleaved)
        }
    }
}
