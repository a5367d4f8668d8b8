import Foundation
import MechanicTensor

extension SparseAutoencoder {
    /// Trains an autoencoder on `data` `[n, input]` with full-batch Adam, as the reference code does.
    ///
    /// Loss = mean squared error over all elements + λ · mean over examples of Σ|h|. Each epoch,
    /// as in the reference: the weight gradients lose their component along each unit-norm vector
    /// (encoder rows, decoder columns: ``projectGradients(_:)``), Adam steps, and the weights are
    /// scaled back to unit norm (the reference rescales at the start of every forward pass, which
    /// is the same thing one step later). Deterministic for a seed.
    ///
    /// - Parameters:
    ///   - start: the untrained autoencoder to start from (default: seeded from `configuration`).
    ///   - progress: called after each epoch with (epoch, loss); return `false` to stop early.
    /// - Returns: the trained autoencoder and the loss of each epoch.
    public static func train(
        on data: Tensor, configuration: SAEConfiguration, start: SparseAutoencoder? = nil,
        progress: ((Int, Float) -> Bool)? = nil
    ) throws -> (autoencoder: SparseAutoencoder, losses: [Float]) {
        guard data.rank == 2, data.shape[0] > 0 else { throw SAEError.emptyData }
        guard data.shape[1] == configuration.inputDimension else {
            throw SAEError.wrongInputWidth(expected: configuration.inputDimension, found: data.shape[1])
        }
        guard data.storage.allSatisfy(\.isFinite) else { throw SAEError.nonFiniteData }
        if let start, start.configuration != configuration {
            throw SAEError.invalidConfiguration("the starting autoencoder has another configuration than the one to train")
        }
        var sae = try start ?? SparseAutoencoder(configuration: configuration, mean: columnMean(data))
        var adam = SAEAdam(sae, learningRate: configuration.learningRate)
        var losses: [Float] = []
        var workspace = SAEWorkspace(rows: data.shape[0], configuration: configuration)
        for epoch in 0..<configuration.epochs {
            let loss = sae.lossAndGradients(data, workspace: &workspace)
            losses.append(loss)
            sae.projectGradients(&workspace.gradients)
            adam.step(&sae, workspace.gradients)
            normalizeRows(&sae.encoderWeight)
            normalizeColumns(&sae.decoderWeight)
            if let progress, !progress(epoch + 1, loss) { break }
        }
        return (sae, losses)
    }

    /// Removes from each weight gradient its component along the unit-norm vector it would move:
    /// `g ← g − (g·w) w/‖w‖` for every encoder row and every decoder column, as the reference's
    /// backward hook does, so a plain gradient step would not change those norms.
    func projectGradients(_ g: inout Gradients) {
        let (h, d) = (configuration.hiddenUnits, configuration.inputDimension)
        encoderWeight.storage.withUnsafeBufferPointer { w in
            g.encoderWeight.storage.withUnsafeMutableBufferPointer { gs in
                for j in 0..<h {
                    var dot: Float = 0, squared: Float = 0
                    for c in 0..<d { dot += gs[j * d + c] * w[j * d + c]; squared += w[j * d + c] * w[j * d + c] }
                    let norm = squared.squareRoot()
                    guard norm > 0 else { continue }
                    for c in 0..<d { gs[j * d + c] -= dot * (w[j * d + c] / norm) }
                }
            }
        }
        decoderWeight.storage.withUnsafeBufferPointer { w in
            g.decoderWeight.storage.withUnsafeMutableBufferPointer { gs in
                var dot = [Float](repeating: 0, count: d), squared = [Float](repeating: 0, count: d)
                for j in 0..<h {
                    for c in 0..<d { dot[c] += gs[j * d + c] * w[j * d + c]; squared[c] += w[j * d + c] * w[j * d + c] }
                }
                let norms = squared.map { $0.squareRoot() }
                for j in 0..<h {
                    for c in 0..<d where norms[c] > 0 { gs[j * d + c] -= dot[c] * (w[j * d + c] / norms[c]) }
                }
            }
        }
    }

    /// Parameter gradients, in the parameter order encoderWeight, encoderBias, decoderWeight, preBias.
    struct Gradients {
        var encoderWeight: Tensor
        var encoderBias: Tensor
        var decoderWeight: Tensor
        var preBias: Tensor
    }

    /// Per-column mean of `[n, input]`, the initial pre-encoder bias.
    static func columnMean(_ x: Tensor) -> Tensor {
        let n = x.shape[0], d = x.shape[1]
        var mean = Tensor(shape: [d])
        for r in 0..<n { for c in 0..<d { mean.storage[c] += x.storage[r * d + c] } }
        for c in 0..<d { mean.storage[c] /= Float(n) }
        return mean
    }
}

/// Adam (β₁ 0.9, β₂ 0.999, ε 1e-8, as `torch.optim.Adam`'s defaults) over the four SAE tensors,
/// with its arithmetic in the order of PyTorch's single-tensor CPU path.
struct SAEAdam {
    let learningRate: Float
    var moments: [(m: [Float], v: [Float])]
    var step = 0

    init(_ sae: SparseAutoencoder, learningRate: Float) {
        self.learningRate = learningRate
        moments = [sae.encoderWeight, sae.encoderBias, sae.decoderWeight, sae.preBias].map {
            ([Float](repeating: 0, count: $0.count), [Float](repeating: 0, count: $0.count))
        }
    }

    mutating func step(_ sae: inout SparseAutoencoder, _ g: SparseAutoencoder.Gradients) {
        step += 1
        // PyTorch forms the bias corrections in double precision: step size lr / (1 − β₁ᵗ) and √(1 − β₂ᵗ).
        let stepSize = Float(Double(learningRate) / (1 - Foundation.pow(0.9, Double(step))))
        let rootCorrection = Float((1 - Foundation.pow(0.999, Double(step))).squareRoot())
        update(&sae.encoderWeight, g.encoderWeight, 0, stepSize, rootCorrection)
        update(&sae.encoderBias, g.encoderBias, 1, stepSize, rootCorrection)
        update(&sae.decoderWeight, g.decoderWeight, 2, stepSize, rootCorrection)
        update(&sae.preBias, g.preBias, 3, stepSize, rootCorrection)
    }

    private mutating func update(_ p: inout Tensor, _ g: Tensor, _ k: Int, _ stepSize: Float, _ rootCorrection: Float) {
        var (m, v) = moments[k]
        moments[k] = ([], [])                                               // m and v stay uniquely referenced
        defer { moments[k] = (m, v) }
        p.storage.withUnsafeMutableBufferPointer { ps in
            g.storage.withUnsafeBufferPointer { gs in
                m.withUnsafeMutableBufferPointer { ms in
                    v.withUnsafeMutableBufferPointer { vs in
                        let (pb, gb, mb, vb) = (ps.baseAddress!, gs.baseAddress!, ms.baseAddress!, vs.baseAddress!)
                        Kernels.parallelFor(ps.count, minimumChunk: 1 << 14) { range in
                            SAEAdam.update(pb + range.lowerBound, gb + range.lowerBound, mb + range.lowerBound, vb + range.lowerBound,
                                           count: range.count, stepSize: stepSize, rootCorrection: rootCorrection)
                        }
                    }
                }
            }
        }
    }

    /// One Adam step on `count` parameters, a block at a time in separate passes.
    ///
    /// Each element gets exactly the arithmetic of PyTorch's update, `m ← m + (1 − β₁)(g − m)`
    /// (its `lerp`), `v ← β₂v + (1 − β₂)g²`, `p ← p + (−stepSize · m) / (√v / rootCorrection + ε)`,
    /// with `stepSize = lr / (1 − β₁ᵗ)` and `rootCorrection = √(1 − β₂ᵗ)`, split into passes so that
    /// everything except the square root vectorises: on Linux `squareRoot()` goes through libm's
    /// `sqrtf` (errno), which keeps that one pass scalar.
    static func update(_ p: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ m: UnsafeMutablePointer<Float>,
                       _ v: UnsafeMutablePointer<Float>, count: Int, stepSize: Float, rootCorrection: Float) {
        let block = 1024
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * block) { scratch in
            let (denominator, root) = (scratch.baseAddress!, scratch.baseAddress! + block)   // [block] each
            for start in stride(from: 0, to: count, by: block) {
                let n = min(block, count - start)
                let (p, g, m, v) = (p + start, g + start, m + start, v + start)
                for i in 0..<n { m[i] = m[i] + 0.1 * (g[i] - m[i]) }
                for i in 0..<n { v[i] = 0.999 * v[i] + 0.001 * (g[i] * g[i]) }
                for i in 0..<n { root[i] = v[i].squareRoot() }
                for i in 0..<n { denominator[i] = root[i] / rootCorrection + 1e-8 }
                for i in 0..<n { p[i] = p[i] + (-stepSize * m[i]) / denominator[i] }
            }
        }
    }
}
