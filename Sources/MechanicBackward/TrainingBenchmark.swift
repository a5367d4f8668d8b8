import Foundation
import MechanicModel
import MechanicTensor
import MechanicTokenizer

/// Times the training step (forward, loss and every parameter gradient) on a model with random weights.
///
/// A benchmark, not a test (STYLE.md, principle 12): `mechanic bench` can print its figures
/// beside those of `scripts/bench_training_pytorch.py`, which times PyTorch's `loss.backward()`
/// on the same shape. Only ``Transformer/languageModelLoss(_:targets:activationGradients:)`` is
/// timed; no optimiser step.
public enum TrainingBenchmark {
    /// What one benchmark run measured.
    public struct Result: Sendable, Codable, Equatable {
        public var layers: Int
        public var heads: Int
        public var dModel: Int
        public var vocabSize: Int
        /// Width of each MLP's hidden layer (GPT-2's n_inner); 0 for an attention-only model.
        public var dMLP: Int
        public var batch: Int
        public var positions: Int
        /// Timed steps (after the warm-up).
        public var steps: Int
        public var medianSeconds: Double
        public var minimumSeconds: Double
        /// `batch · positions / medianSeconds`.
        public var tokensPerSecond: Double
        /// The loss of the last step (about `log(vocab)` for random weights): a sanity check.
        public var loss: Float
    }

    /// The shape shared with `scripts/bench_training_pytorch.py`: 4 layers, 8 heads, d_model 256,
    /// vocab 2000, context 64 (run with batch 16 × 64 positions).
    public static let defaultConfig = TransformerConfig(layers: 4, heads: 8, dModel: 256, contextLength: 64, vocabSize: 2000)

    /// Runs `warmup` untimed steps, then timed steps until `seconds` have passed (at least `minimumSteps`).
    ///
    /// - Parameters:
    ///   - config: the model's shape; weights are GPT-2's seeded random initialisation.
    ///   - batch, positions: the token batch (random ids, no padding).
    ///   - seed: seed of the weights and the ids.
    public static func run(
        config: TransformerConfig = defaultConfig, batch: Int = 16, positions: Int = 64,
        seconds: Double = 5, minimumSteps: Int = 3, warmup: Int = 2, seed: UInt64 = 0
    ) throws -> Result {
        let model = try Transformer(config: config, weights: TransformerWeights.random(config: config, seed: seed))
        var rng = SeededRandom(seed: seed &+ 1)
        let tokens = TokenBatch(rows: (0..<batch).map { _ in
            (0..<positions).map { _ in Int(rng.next() % UInt64(config.vocabSize)) }
        })
        var loss: Float = 0
        for _ in 0..<warmup { loss = try model.languageModelLoss(tokens).loss }
        var times: [Double] = []
        let clock = ContinuousClock()
        let start = clock.now
        while times.count < minimumSteps || elapsed(since: start, clock) < seconds {
            let t0 = clock.now
            loss = try model.languageModelLoss(tokens).loss
            times.append(elapsed(since: t0, clock))
        }
        times.sort()
        let median = times.count % 2 == 1 ? times[times.count / 2] : (times[times.count / 2 - 1] + times[times.count / 2]) / 2
        return Result(layers: config.layers, heads: config.heads, dModel: config.dModel, vocabSize: config.vocabSize,
                      dMLP: config.attentionOnly ? 0 : config.dMLP, batch: batch, positions: positions, steps: times.count, medianSeconds: median,
                      minimumSeconds: times[0], tokensPerSecond: Double(batch * positions) / median, loss: loss)
    }

    private static func elapsed(since start: ContinuousClock.Instant, _ clock: ContinuousClock) -> Double {
        let d = clock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
}
