import Foundation
import MechanicModel
import MechanicTensor

/// Double-precision twins of `Backprop+Families.swift` and of the windowed, soft-capped attention,
/// from the textbook derivatives (not from the fast kernels' saved intermediates). Like the rest
/// of ``NaiveBackprop`` they return fresh gradients instead of accumulating.
extension NaiveBackprop {
    /// RMS norm backward from the input: `y = x / √(mean(x²) + eps) · gain`; returns `dx` `[rows, dim]` and `dGain` `[dim]`.
    public static func rmsNormBackward(dOut: Tensor, x: Tensor, gain: [Float], eps: Float) -> (dx: Tensor, dGain: [Float]) {
        let dim = x.shape.last!, rows = x.count / dim
        var dx = Tensor(shape: x.shape)
        var dGain = [Double](repeating: 0, count: dim)
        for r in 0..<rows {
            let row = (0..<dim).map { Double(x.storage[r * dim + $0]) }
            let s = (row.map { $0 * $0 }.reduce(0, +) / Double(dim) + Double(eps)).squareRoot()
            let g = (0..<dim).map { Double(dOut.storage[r * dim + $0]) * Double(gain[$0]) }
            // ∂s/∂x_j = x_j / (dim · s), so dx_j = g_j / s − (Σ_i g_i x_i) · x_j / (dim · s³).
            let gx = zip(g, row).map { $0 * $1 }.reduce(0, +)
            for j in 0..<dim {
                dx.storage[r * dim + j] = Float(g[j] / s - gx * row[j] / (Double(dim) * s * s * s))
                dGain[j] += Double(dOut.storage[r * dim + j]) * row[j] / s
            }
        }
        return (dx, dGain.map(Float.init))
    }

    /// An MLP nonlinearity in double precision.
    public static func activation(_ activation: TransformerConfig.Activation, _ v: Double) -> Double {
        switch activation {
        case .geluTanh: return 0.5 * v * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (v + 0.044715 * v * v * v)))
        case .geluExact: return 0.5 * v * (1 + Foundation.erf(v / 2.0.squareRoot()))
        case .silu: return v / (1 + Foundation.exp(-v))
        case .relu: return max(v, 0)
        }
    }

    /// The derivative of an MLP nonlinearity in double precision.
    public static func activationDerivative(_ activation: TransformerConfig.Activation, _ v: Double) -> Double {
        switch activation {
        case .geluTanh:
            let c = (2 / Double.pi).squareRoot(), a = 0.044715
            let th = Foundation.tanh(c * (v + a * v * v * v))
            return 0.5 * (1 + th) + 0.5 * v * (1 - th * th) * c * (1 + 3 * a * v * v)
        case .geluExact:
            // Φ(v) + v·φ(v).
            return 0.5 * (1 + Foundation.erf(v / 2.0.squareRoot())) + v * Foundation.exp(-v * v / 2) / (2 * Double.pi).squareRoot()
        case .silu:
            let s = 1 / (1 + Foundation.exp(-v))
            return s + v * s * (1 - s)
        case .relu: return v > 0 ? 1 : 0
        }
    }

    /// `dx = dOut · act′(x)`.
    public static func activationBackward(_ activation: TransformerConfig.Activation, dOut: Tensor, x: Tensor) -> Tensor {
        var dx = x
        for i in 0..<x.count {
            dx.storage[i] = Float(Double(dOut.storage[i]) * activationDerivative(activation, Double(x.storage[i])))
        }
        return dx
    }

    /// Gated MLP backward of `post = act(gate) · up`: returns `dGate`, `dUp`.
    public static func gatedActivationBackward(_ activation: TransformerConfig.Activation, dOut: Tensor, gate: Tensor,
                                               up: Tensor) -> (dGate: Tensor, dUp: Tensor) {
        var dGate = gate, dUp = up
        for i in 0..<gate.count {
            let (g, u, d) = (Double(gate.storage[i]), Double(up.storage[i]), Double(dOut.storage[i]))
            dGate.storage[i] = Float(d * u * activationDerivative(activation, g))
            dUp.storage[i] = Float(d * Self.activation(activation, g))
        }
        return (dGate, dUp)
    }

    /// Soft-cap backward from the input: `y = cap · tanh(x / cap)`, `dx = dOut · (1 − tanh²(x / cap))`.
    public static func softcapBackward(dOut: Tensor, x: Tensor, cap: Float) -> Tensor {
        var dx = x
        for i in 0..<x.count {
            let th = Foundation.tanh(Double(x.storage[i]) / Double(cap))
            dx.storage[i] = Float(Double(dOut.storage[i]) * (1 - th * th))
        }
        return dx
    }

    /// Rotary backward of `[batch, pos, head, dHead]` head vectors: the transposed rotation of each
    /// pair, `dx_a = dy_a·cos θ + dy_b·sin θ`, `dx_b = −dy_a·sin θ + dy_b·cos θ`, `θ = pos · invFreq`;
    /// dimensions past the rotated ones pass through.
    public static func rotaryBackward(dOut: Tensor, inverseFrequencies: [Float], interleaved: Bool) -> Tensor {
        let (b, t, h, dh) = (dOut.shape[0], dOut.shape[1], dOut.shape[2], dOut.shape[3])
        var dx = dOut
        for row in 0..<(b * t) {
            let p = row % t
            for head in 0..<h {
                let base = (row * h + head) * dh
                for i in 0..<inverseFrequencies.count {
                    let angle = Double(Float(p) * inverseFrequencies[i])
                    let (a, c) = interleaved ? (2 * i, 2 * i + 1) : (i, i + inverseFrequencies.count)
                    let (ya, yc) = (Double(dOut.storage[base + a]), Double(dOut.storage[base + c]))
                    dx.storage[base + a] = Float(ya * Foundation.cos(angle) + yc * Foundation.sin(angle))
                    dx.storage[base + c] = Float(-ya * Foundation.sin(angle) + yc * Foundation.cos(angle))
                }
            }
        }
        return dx
    }

    /// Sums the gradients of ungrouped keys and values `[rows, 3·head·dHead]` back into their kv
    /// heads: `[rows, (head + 2·kvHead)·dHead]`, query head `i` belonging to kv head `i / (head / kvHead)`.
    public static func regroupKeysValues(_ d: Tensor, heads h: Int, kvHeads kv: Int, dHead dh: Int) -> Tensor {
        let rows = d.count / (3 * h * dh)
        var out = [Double](repeating: 0, count: rows * (h + 2 * kv) * dh)
        for r in 0..<rows {
            for part in 0..<3 {
                for head in 0..<h {
                    let target = part == 0 ? head : h + (part - 1) * kv + head / (h / kv)
                    for i in 0..<dh {
                        out[(r * (h + 2 * kv) + target) * dh + i] += Double(d.storage[(r * 3 * h + part * h + head) * dh + i])
                    }
                }
            }
        }
        return Tensor(shape: Array(d.shape.dropLast()) + [(h + 2 * kv) * dh], storage: out.map(Float.init))
    }

    /// Which keys query `i` sees: `0...i`, or the last `window` of them.
    static func visibleKeys(_ i: Int, window: Int?) -> ClosedRange<Int> {
        (window.map { max(0, i - $0 + 1) } ?? 0)...i
    }

    /// Windowed, soft-capped causal attention from `qkv` `[batch, pos, 3·head·dHead]`: returns the
    /// capped scores and the pattern `[batch, head, q, k]` (masked scores `-inf`, masked weights 0)
    /// and `z` `[batch, pos, head·dHead]`, in double precision.
    public static func attentionForward(qkv: Tensor, heads: Int, dHead dh: Int, scale: Float, window: Int?,
                                        softcap: Float?) -> (scores: Tensor, pattern: Tensor, z: Tensor) {
        let (b, t, d) = (qkv.shape[0], qkv.shape[1], heads * dh)
        var scores = Tensor(shape: [b, heads, t, t], repeating: -.infinity)
        var pattern = Tensor(shape: [b, heads, t, t]), z = Tensor(shape: [b, t, d])
        for bi in 0..<b {
            for h in 0..<heads {
                for i in 0..<t {
                    let keys = visibleKeys(i, window: window)
                    var s = [Double](repeating: 0, count: t)
                    for j in keys {
                        let raw = Double(scale) * (0..<dh).reduce(0.0) { $0 + Double(qkv[bi, i, h * dh + $1]) * Double(qkv[bi, j, d + h * dh + $1]) }
                        s[j] = softcap.map { Double($0) * Foundation.tanh(raw / Double($0)) } ?? raw
                        scores[bi, h, i, j] = Float(s[j])
                    }
                    let m = keys.map { s[$0] }.max()!
                    let sum = keys.reduce(0.0) { $0 + Foundation.exp(s[$1] - m) }
                    for j in keys { pattern[bi, h, i, j] = Float(Foundation.exp(s[j] - m) / sum) }
                    for c in 0..<dh {
                        z[bi, i, h * dh + c] = Float(keys.reduce(0.0) {
                            $0 + Foundation.exp(s[$1] - m) / sum * Double(qkv[bi, $1, 2 * d + h * dh + c])
                        })
                    }
                }
            }
        }
        return (scores, pattern, z)
    }

    /// Backward of ``attentionForward(qkv:heads:dHead:scale:window:softcap:)`` from `dz`: returns
    /// `dqkv`, the scores gradient (of the capped scores; 0 at masked keys) `[batch, head, q, k]`.
    public static func attentionBackward(dz: Tensor, qkv: Tensor, heads: Int, dHead dh: Int, scale: Float, window: Int?,
                                         softcap: Float?) -> (dqkv: Tensor, dScores: Tensor) {
        let (b, t, d) = (qkv.shape[0], qkv.shape[1], heads * dh)
        let pattern = attentionForward(qkv: qkv, heads: heads, dHead: dh, scale: scale, window: window, softcap: softcap).pattern
        var dqkv = Tensor(shape: qkv.shape), dScores = Tensor(shape: [b, heads, t, t])
        for bi in 0..<b {
            for h in 0..<heads {
                var dq = [Double](repeating: 0, count: t * dh), dk = dq, dv = dq
                for i in 0..<t {
                    let keys = visibleKeys(i, window: window)
                    let dp = (0..<t).map { j in (0..<dh).reduce(0.0) { $0 + Double(dz[bi, i, h * dh + $1]) * Double(qkv[bi, j, 2 * d + h * dh + $1]) } }
                    let s = keys.reduce(0.0) { $0 + Double(pattern[bi, h, i, $1]) * dp[$1] }
                    for j in keys {
                        let p = Double(pattern[bi, h, i, j])
                        let ds = p * (dp[j] - s)
                        dScores[bi, h, i, j] = Float(ds)
                        // Through the soft-cap, from the raw score.
                        let raw = Double(scale) * (0..<dh).reduce(0.0) { $0 + Double(qkv[bi, i, h * dh + $1]) * Double(qkv[bi, j, d + h * dh + $1]) }
                        let th = softcap.map { Foundation.tanh(raw / Double($0)) } ?? 0
                        let dRaw = ds * (1 - th * th)
                        for c in 0..<dh {
                            dv[j * dh + c] += p * Double(dz[bi, i, h * dh + c])
                            dq[i * dh + c] += Double(scale) * dRaw * Double(qkv[bi, j, d + h * dh + c])
                            dk[j * dh + c] += Double(scale) * dRaw * Double(qkv[bi, i, h * dh + c])
                        }
                    }
                }
                for i in 0..<t {
                    for c in 0..<dh {
                        dqkv[bi, i, h * dh + c] = Float(dq[i * dh + c])
                        dqkv[bi, i, d + h * dh + c] = Float(dk[i * dh + c])
                        dqkv[bi, i, 2 * d + h * dh + c] = Float(dv[i * dh + c])
                    }
                }
            }
        }
        return (dqkv, dScores)
    }
}
