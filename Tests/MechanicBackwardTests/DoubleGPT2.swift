import Foundation
import MechanicModel
import MechanicTensor
import MechanicTokenizer

/// GPT-2 in double precision, written from the definitions with plain loops: the oracle of the
/// finite-difference tests. It also computes the architecture of tracr's compiled models (no
/// normalisation, bidirectional attention over each row's real keys, ReLU, untied unembedding,
/// `heads · dHead ≠ dModel`) when the config says so. Every TransformerLens hook can be edited through a closure, which
/// is how activations are perturbed.
struct DoubleGPT2 {
    let config: TransformerConfig
    /// Parameters by Swift path (`TransformerWeights.expectedShapes(for:)`), row-major.
    var parameters: [String: [Double]]

    /// An edit of the activation at a hook, flattened in its TransformerLens shape.
    typealias Edit = (HookName, inout [Double]) -> Void

    init(_ model: Transformer) {
        config = model.config
        var p: [String: [Double]] = [:]
        for (path, _) in TransformerWeights.expectedShapes(for: model.config) {
            p[path] = model.weights.tensor(at: path)!.storage.map(Double.init)
        }
        parameters = p
    }

    /// Logits `[batch, pos, vocab]`, flattened.
    func logits(_ batch: TokenBatch, edit: Edit? = nil) -> [Double] {
        let (b, t, d, v) = (batch.batch, batch.positions, config.dModel, config.vocabSize)
        let (h, dh, m) = (config.heads, config.dHead, config.dMLP)
        let da = h * dh                                                        // width of all heads
        let rows = b * t
        let wte = parameters["tokenEmbedding"]!, wpe = parameters["positionEmbedding"]!
        func hook(_ name: HookName, _ x: inout [Double]) { edit?(name, &x) }

        var embed = [Double](repeating: 0, count: rows * d), pos = embed
        for r in 0..<rows {
            let id = Int(batch.ids[r]), p = r % t
            for c in 0..<d {
                embed[r * d + c] = wte[id * d + c]
                pos[r * d + c] = wpe[p * d + c]
            }
        }
        hook(.embed, &embed)
        hook(.posEmbed, &pos)
        var resid = zip(embed, pos).map { $0 + $1 }
        for l in 0..<config.layers {
            let w = { (name: String) in parameters["blocks.\(l).\(name)"]! }
            let optional = { (name: String) in parameters["blocks.\(l).\(name)"] }
            hook(.residPre(l), &resid)
            let x = layerNorm(resid, rows: rows, gain: optional("ln1Gain"), bias: optional("ln1Bias"),
                              scaleHook: .ln1Scale(l), normalizedHook: .ln1Normalized(l), edit: edit)
            let qkv = linear(x, rows: rows, weight: w("qkvWeight"), bias: w("qkvBias"), inFeatures: d, outFeatures: 3 * da)
            var parts = (0..<3).map { part in
                (0..<(rows * da)).map { i in qkv[(i / da) * 3 * da + part * da + i % da] }   // [batch, pos, head, dHead]
            }
            hook(.q(l), &parts[0])
            hook(.k(l), &parts[1])
            hook(.v(l), &parts[2])
            let (q, k, vv) = (parts[0], parts[1], parts[2])
            var scores = [Double](repeating: -.infinity, count: b * h * t * t)   // [batch, head, q, k]
            let scale = Double(config.attentionScale)
            for bi in 0..<b {
                for hi in 0..<h {
                    for i in 0..<t {
                        // Causal: keys up to the query; bidirectional: every real key of the row.
                        for j in 0..<(config.causal ? i + 1 : batch.lengths[bi]) {
                            var s = 0.0
                            for c in 0..<dh { s += q[((bi * t + i) * h + hi) * dh + c] * k[((bi * t + j) * h + hi) * dh + c] }
                            scores[((bi * h + hi) * t + i) * t + j] = s * scale
                        }
                    }
                }
            }
            hook(.attnScores(l), &scores)
            var pattern = [Double](repeating: 0, count: scores.count)
            for row in 0..<(b * h * t) {
                let s = scores[(row * t)..<(row * t + t)]
                let mx = s.max()!
                let e = s.map { Foundation.exp($0 - mx) }
                let sum = e.reduce(0, +)
                for j in 0..<t { pattern[row * t + j] = e[e.startIndex + j] / sum }
            }
            hook(.pattern(l), &pattern)
            var z = [Double](repeating: 0, count: rows * da)                    // [batch, pos, head, dHead]
            for bi in 0..<b {
                for hi in 0..<h {
                    for i in 0..<t {
                        for j in 0..<t {   // every key: an edited pattern may weigh later ones
                            let p = pattern[((bi * h + hi) * t + i) * t + j]
                            for c in 0..<dh { z[((bi * t + i) * h + hi) * dh + c] += p * vv[((bi * t + j) * h + hi) * dh + c] }
                        }
                    }
                }
            }
            hook(.z(l), &z)
            let wo = w("attnOutWeight")
            var result = [Double](repeating: 0, count: rows * h * d)            // [batch, pos, head, dModel]
            for r in 0..<rows {
                for hi in 0..<h {
                    for c in 0..<dh {
                        let zc = z[(r * h + hi) * dh + c]
                        for o in 0..<d { result[(r * h + hi) * d + o] += zc * wo[(hi * dh + c) * d + o] }
                    }
                }
            }
            hook(.result(l), &result)
            let bo = w("attnOutBias")
            var attnOut = [Double](repeating: 0, count: rows * d)
            for r in 0..<rows {
                for o in 0..<d { attnOut[r * d + o] = bo[o] + (0..<h).reduce(0.0) { $0 + result[(r * h + $1) * d + o] } }
            }
            hook(.attnOut(l), &attnOut)
            resid = zip(resid, attnOut).map { $0 + $1 }
            if config.attentionOnly {
                hook(.residPost(l), &resid)
                continue
            }
            hook(.residMid(l), &resid)
            let x2 = layerNorm(resid, rows: rows, gain: optional("ln2Gain"), bias: optional("ln2Bias"),
                               scaleHook: .ln2Scale(l), normalizedHook: .ln2Normalized(l), edit: edit)
            var pre = linear(x2, rows: rows, weight: w("mlpInWeight"), bias: w("mlpInBias"), inFeatures: d, outFeatures: m)
            hook(.mlpPre(l), &pre)
            var post = config.activation == .relu ? pre.map { max(0, $0) }
                : pre.map { x in 0.5 * x * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x))) }
            hook(.mlpPost(l), &post)
            var mlpOut = linear(post, rows: rows, weight: w("mlpOutWeight"), bias: w("mlpOutBias"), inFeatures: m, outFeatures: d)
            hook(.mlpOut(l), &mlpOut)
            resid = zip(resid, mlpOut).map { $0 + $1 }
            hook(.residPost(l), &resid)
        }
        let x = layerNorm(resid, rows: rows, gain: parameters["finalNormGain"], bias: parameters["finalNormBias"],
                          scaleHook: .lnFinalScale, normalizedHook: .lnFinalNormalized, edit: edit)
        let wu = parameters["unembedding"] ?? wte
        var logits = [Double](repeating: 0, count: rows * v)
        for r in 0..<rows {
            for token in 0..<v {
                var s = 0.0
                for c in 0..<d { s += x[r * d + c] * wu[token * d + c] }
                logits[r * v + token] = s
            }
        }
        return logits
    }

    /// Mean cross-entropy over targets `[batch·pos]` (−1 masked).
    func loss(_ batch: TokenBatch, targets: [Int32], edit: Edit? = nil) -> Double {
        let v = config.vocabSize
        let l = logits(batch, edit: edit)
        var total = 0.0, count = 0
        for (r, target) in targets.enumerated() where target >= 0 {
            let row = l[(r * v)..<(r * v + v)]
            let mx = row.max()!
            total += Foundation.log(row.reduce(0.0) { $0 + Foundation.exp($1 - mx) }) + mx - row[r * v + Int(target)]
            count += 1
        }
        return total / Double(count)
    }

    /// `Σ_rows logits[r, last_r, correct[r]] − logits[r, last_r, wrong[r]]`.
    func logitDifference(_ batch: TokenBatch, correct: [Int], wrong: [Int], edit: Edit? = nil) -> Double {
        let (t, v) = (batch.positions, config.vocabSize)
        let l = logits(batch, edit: edit)
        return (0..<batch.batch).reduce(0.0) { sum, r in
            let row = (r * t + batch.lengths[r] - 1) * v
            return sum + l[row + correct[r]] - l[row + wrong[r]]
        }
    }

    /// Layer norm with its two hooks; without normalisation (no gain), the identity with the same
    /// hooks: scale 1, normalized = x / scale.
    private func layerNorm(_ x: [Double], rows: Int, gain: [Double]?, bias: [Double]?,
                           scaleHook: HookName, normalizedHook: HookName, edit: Edit?) -> [Double] {
        guard let gain, let bias else {
            let d = config.dModel
            var scale = [Double](repeating: 1, count: rows)
            edit?(scaleHook, &scale)
            var normalized = x.indices.map { x[$0] / scale[$0 / d] }
            edit?(normalizedHook, &normalized)
            return normalized
        }
        let d = gain.count
        let eps = Double(config.layerNormEpsilon)
        var centered = x, scale = [Double](repeating: 0, count: rows)
        for r in 0..<rows {
            let mean = x[(r * d)..<(r * d + d)].reduce(0, +) / Double(d)
            for i in 0..<d { centered[r * d + i] = x[r * d + i] - mean }
            scale[r] = (centered[(r * d)..<(r * d + d)].reduce(0) { $0 + $1 * $1 } / Double(d) + eps).squareRoot()
        }
        edit?(scaleHook, &scale)
        var normalized = centered
        for i in 0..<normalized.count { normalized[i] /= scale[i / d] }
        edit?(normalizedHook, &normalized)
        return normalized.indices.map { normalized[$0] * gain[$0 % d] + bias[$0 % d] }
    }

    private func linear(_ x: [Double], rows: Int, weight: [Double], bias: [Double], inFeatures k: Int, outFeatures n: Int) -> [Double] {
        var out = [Double](repeating: 0, count: rows * n)
        for r in 0..<rows {
            for j in 0..<n { out[r * n + j] = bias[j] }
            for p in 0..<k {
                let xv = x[r * k + p]
                for j in 0..<n { out[r * n + j] += xv * weight[p * n + j] }
            }
        }
        return out
    }
}
