import Foundation
import MechanicBackward
import MechanicModel
import MechanicSafetensors
import MechanicTensor
import MechanicTokenizer

/// Every setting of a training run: together with the corpus it determines the weights bit for bit.
public struct TrainingSettings: Codable, Equatable, Sendable {
    public var steps: Int
    public var batchSize: Int
    public var sequenceLength: Int
    public var schedule: LearningRateSchedule
    public var optimizer: AdamW.Hyperparameters
    /// Global gradient-norm limit (`torch.nn.utils.clip_grad_norm_`).
    public var clipNorm: Float
    /// Evaluate on held-out windows every this many steps (0: only at the end).
    public var evaluationInterval: Int
    /// Held-out windows per evaluation.
    public var evaluationWindows: Int
    /// Save a resumable checkpoint every this many steps (0: only at the end).
    public var checkpointInterval: Int
    /// Seed of the initial weights and the data order.
    public var seed: UInt64
    /// Shorter windows for the first steps, at `batchSize × sequenceLength` tokens per step
    /// (nil: every step uses `sequenceLength`).
    public var curriculum: SequenceLengthCurriculum? = nil

    public init(steps: Int, batchSize: Int, sequenceLength: Int, schedule: LearningRateSchedule,
                optimizer: AdamW.Hyperparameters = .init(), clipNorm: Float = 1, evaluationInterval: Int = 100,
                evaluationWindows: Int = 32, checkpointInterval: Int = 500, seed: UInt64,
                curriculum: SequenceLengthCurriculum? = nil) {
        self.steps = steps
        self.batchSize = batchSize
        self.sequenceLength = sequenceLength
        self.schedule = schedule
        self.optimizer = optimizer
        self.clipNorm = clipNorm
        self.evaluationInterval = evaluationInterval
        self.evaluationWindows = evaluationWindows
        self.checkpointInterval = checkpointInterval
        self.seed = seed
        self.curriculum = curriculum
    }

    /// Tokens in every step's batch, whatever its window.
    public var tokensPerStep: Int { batchSize * sequenceLength }

    /// The batch shape of update number `step` (0-based): the curriculum's window, with as many
    /// rows as keep `tokensPerStep` constant.
    public func batchShape(at step: Int) -> (batchSize: Int, sequenceLength: Int) {
        guard let curriculum else { return (batchSize, sequenceLength) }
        let length = curriculum.length(at: step, full: sequenceLength)
        return (tokensPerStep / length, length)
    }

    /// Why the settings cannot be used, or `nil`.
    public func problem(contextLength: Int) -> String? {
        if steps < 1 { return "steps must be at least 1" }
        if batchSize < 1 { return "batch size must be at least 1" }
        if sequenceLength < 2 || sequenceLength > contextLength {
            return "sequence length \(sequenceLength) must be between 2 and the context length \(contextLength)"
        }
        if !(schedule.peak > 0 && schedule.peak.isFinite) { return "learning rate must be positive" }
        if clipNorm <= 0 { return "clip norm must be positive" }
        if let curriculum, let problem = curriculum.problem(tokensPerStep: tokensPerStep, full: sequenceLength) { return problem }
        return nil
    }
}

/// One logged training step.
public struct TrainingRecord: Codable, Equatable, Sendable {
    public var step: Int
    public var loss: Float
    public var learningRate: Float
    public var gradientNorm: Float
    public var tokensPerSecond: Double
    /// Mean held-out loss, on steps where evaluation ran.
    public var evaluationLoss: Float?
    /// The step's window length, under a sequence-length curriculum.
    public var sequenceLength: Int? = nil
}

/// Trains a GPT-2-family model from a token stream or generated rows, with resumable checkpoints.
///
/// A checkpoint folder is an HF snapshot (config.json, model.safetensors, plus the tokenizer
/// files the caller copies in) that HF transformers and Mechanic both load, and beside it
/// `training-state.safetensors` (AdamW moments) and `training-state.json` (step, settings,
/// sampler position, log), from which ``resume(folder:training:heldOut:)`` continues exactly.
public struct Trainer: Sendable {
    public internal(set) var model: Transformer
    public internal(set) var optimizer: AdamW
    public internal(set) var sampler: BatchSampler
    public let settings: TrainingSettings
    public let heldOut: [Int]
    public internal(set) var log: [TrainingRecord] = []
    public internal(set) var step = 0

    /// Starts from seeded GPT-2 initial weights, training on windows of a token stream.
    public init(config: TransformerConfig, settings: TrainingSettings, training: [Int], heldOut: [Int]) throws {
        try self.init(config: config, settings: settings, data: .stream(training), heldOut: heldOut)
    }

    /// Starts from seeded GPT-2 initial weights.
    ///
    /// - Parameters:
    ///   - data: a token stream or a row generator (token ids below `config.vocabSize`).
    ///   - heldOut: the held-out stream for evaluation.
    public init(config: TransformerConfig, settings: TrainingSettings, data: TrainingData, heldOut: [Int]) throws {
        if let problem = settings.problem(contextLength: config.contextLength) { throw TrainingError.invalidSetting(problem) }
        if let generator = data.generator, generator.separator >= config.vocabSize {
            throw TrainingError.invalidSetting("generated tokens go up to \(generator.separator), beyond the vocabulary of \(config.vocabSize)")
        }
        model = try Transformer(config: config, weights: .random(config: config, seed: settings.seed))
        optimizer = AdamW(config: config, hyperparameters: settings.optimizer)
        sampler = try BatchSampler(data: data, batchSize: settings.batchSize, sequenceLength: settings.sequenceLength,
                                   seed: settings.seed &+ 0x5EED)
        self.settings = settings
        self.heldOut = heldOut
    }

    /// Whether all steps are done.
    public var isFinished: Bool { step >= settings.steps }

    /// Takes one optimisation step and returns its record.
    @discardableResult
    public mutating func trainStep() throws -> TrainingRecord {
        let start = DispatchTime.now().uptimeNanoseconds
        let shape = settings.batchShape(at: step)
        let share = settings.curriculum?.generatedShare(at: step) ?? 0
        let (inputs, targets) = sampler.next(batchSize: shape.batchSize, sequenceLength: shape.sequenceLength, generatedShare: share,
                                             alphabet: settings.curriculum?.generatedAlphabet(at: step))
        var (loss, gradients) = try model.languageModelLoss(inputs, targets: targets)
        guard loss.isFinite else { throw TrainingError.nonFiniteLoss(step: step) }
        let norm = GradientClipping.clip(&gradients.weights, config: model.config, maxNorm: settings.clipNorm)
        let rate = settings.schedule.rate(at: step)
        var weights = model.weights
        optimizer.update(&weights, gradients: gradients.weights, learningRate: rate)
        model = try Transformer(config: model.config, weights: weights)
        step += 1
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        var record = TrainingRecord(step: step, loss: loss, learningRate: rate, gradientNorm: norm,
                                    tokensPerSecond: Double(settings.tokensPerStep) / seconds)
        if settings.curriculum != nil { record.sequenceLength = shape.sequenceLength }
        if (settings.evaluationInterval > 0 && step % settings.evaluationInterval == 0) || isFinished {
            record.evaluationLoss = try evaluate()
        }
        log.append(record)
        return record
    }

    /// Mean next-token loss on held-out windows.
    public func evaluate() throws -> Float {
        let windows = BatchSampler.sequentialWindows(heldOut, sequenceLength: settings.sequenceLength, limit: settings.evaluationWindows)
        guard !windows.isEmpty else { return .nan }
        var total: Float = 0
        for chunk in stride(from: 0, to: windows.count, by: settings.batchSize) {
            let part = windows[chunk..<min(windows.count, chunk + settings.batchSize)]
            let batch = TokenBatch(rows: part.map(\.inputs))
            total += try model.evaluateLanguageModelLoss(batch, targets: part.map(\.targets)) * Float(part.count)
        }
        return total / Float(windows.count)
    }
}
