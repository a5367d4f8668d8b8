import MechanicModel
import MechanicTensor
import MechanicTokenizer

/// What the sink analysis costs on top of the forward passes it needs.
public struct SinkBenchmarkResult: Codable, Sendable, Equatable {
    public var prompts: Int
    public var length: Int
    public var batchSize: Int
    public var repeats: Int
    /// Plain forward passes over the prompts (no logits, no hooks): each batch's fastest repeat, summed.
    public var forwardSeconds: Double
    /// The sink statistics over the same batches, timed the same way, plus turning the sums into statistics.
    public var analysisSeconds: Double
    /// `analysisSeconds / forwardSeconds − 1`.
    public var overhead: Double { analysisSeconds / forwardSeconds - 1 }

    public init(prompts: Int, length: Int, batchSize: Int, repeats: Int, forwardSeconds: Double, analysisSeconds: Double) {
        self.prompts = prompts
        self.length = length
        self.batchSize = batchSize
        self.repeats = repeats
        self.forwardSeconds = forwardSeconds
        self.analysisSeconds = analysisSeconds
    }
}

/// Times the sink analysis against the forward passes it needs (a benchmark, not a test).
///
/// Each batch runs twice in a row, once as a plain forward pass (no logits, no hooks) and
/// once through the analysis, the order alternating between rounds, so both see the same
/// machine load even when the machine is shared; each total sums every batch's fastest round.
/// Build in release mode for meaningful figures.
public enum SinkBenchmark {
    /// Runs the benchmark.
    ///
    /// - Parameters:
    ///   - model: the model to time; `nil` builds GPT-2 small's shape with seeded random weights.
    ///   - prompts: number of prompts (random token ids).
    ///   - length: tokens per prompt.
    ///   - batchSize: prompts per forward pass.
    ///   - repeats: timed rounds (after one warm-up round).
    ///   - seed: seed of the weights and token ids.
    public static func run(model: Transformer? = nil, prompts: Int = 64, length: Int = 64, batchSize: Int = 8,
                           repeats: Int = 3, seed: UInt64 = 0) throws -> SinkBenchmarkResult {
        guard prompts >= 1 else { throw SinkError.invalidOption(name: "prompts", value: "\(prompts)", expected: "at least 1") }
        guard length >= 1 else { throw SinkError.invalidOption(name: "length", value: "\(length)", expected: "at least 1") }
        guard repeats >= 1 else { throw SinkError.invalidOption(name: "repeats", value: "\(repeats)", expected: "at least 1") }
        let model = try model ?? Transformer(config: TransformerConfig(), weights: .random(config: TransformerConfig(), seed: seed))
        guard length <= model.config.contextLength else {
            throw SinkError.invalidOption(name: "length", value: "\(length)", expected: "at most the context, \(model.config.contextLength)")
        }
        var rng = SeededRandom(seed: seed &+ 1)
        let vocab = UInt64(model.config.vocabSize)
        let rows = (0..<prompts).map { _ in (0..<length).map { _ in Int(rng.next() % vocab) } }
        let batches = try SinkStatistics.batched(rows, padID: 0, batchSize: batchSize)
        let options = SinkOptions(batchSize: batchSize)
        let clock = ContinuousClock()
        func seconds(_ body: () throws -> Void) rethrows -> Double {
            let elapsed = try clock.measure(body)
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        }
        var forward = [Double](repeating: .infinity, count: batches.count)      // [batch]: fastest round
        var analysis = forward
        var finish = Double.infinity
        for round in 0...repeats {
            let pass = SinkPass(model: model, bosPrepended: false, options: options)
            for (k, batch) in batches.enumerated() {
                var f = 0.0, a = 0.0
                if round % 2 == 0 {
                    f = try seconds { _ = try model.run(batch.tokens, logits: .none) }
                    a = try seconds { try pass.process(batch) }
                } else {
                    a = try seconds { try pass.process(batch) }
                    f = try seconds { _ = try model.run(batch.tokens, logits: .none) }
                }
                if round > 0 {
                    forward[k] = min(forward[k], f)
                    analysis[k] = min(analysis[k], a)
                }
            }
            let done = seconds { _ = pass.finish { "#\($0)" } }
            if round > 0 { finish = min(finish, done) }
        }
        return SinkBenchmarkResult(prompts: prompts, length: length, batchSize: batchSize, repeats: repeats,
                                   forwardSeconds: forward.reduce(0, +), analysisSeconds: analysis.reduce(0, +) + finish)
    }
}
