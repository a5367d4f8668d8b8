import Foundation
import MechanicModel
import MechanicTensor
import MechanicTokenizer

/// One prompt of a task: its tokens, the tokens that answer it and those that do not, and a
/// corrupted counterpart for patching.
public struct TaskPrompt: Codable, Equatable, Sendable {
    public var text: String
    /// Token ids as the model sees them (BOS included when the dataset prepends it).
    public var tokens: [Int]
    /// Next tokens that count as correct (one for IOI and docstring, several for greater-than).
    public var answers: [Int]
    /// Next tokens that count as wrong (the subject name, earlier years, other parameters…).
    public var wrongAnswers: [Int]
    /// The corrupted prompt for patching (same length, the task signal removed), when the task has one.
    public var corruptedText: String?
    public var corruptedTokens: [Int]?

    public init(text: String, tokens: [Int], answers: [Int], wrongAnswers: [Int],
                corruptedText: String? = nil, corruptedTokens: [Int]? = nil) {
        self.text = text
        self.tokens = tokens
        self.answers = answers
        self.wrongAnswers = wrongAnswers
        self.corruptedText = corruptedText
        self.corruptedTokens = corruptedTokens
    }
}

/// How well the model does a prompt, from its last-position logits.
public enum TaskMetric: String, Codable, CaseIterable, Sendable {
    /// Mean logit of the answers minus mean logit of the wrong answers.
    case logitDifference = "logit-diff"
    /// Probability mass on the answers minus probability mass on the wrong answers.
    case probabilityDifference = "prob-diff"

    /// The metric for one prompt given its logits over the vocabulary.
    public func value(logits: UnsafeBufferPointer<Float>, prompt: TaskPrompt) -> Float {
        switch self {
        case .logitDifference:
            let good = prompt.answers.reduce(Float(0)) { $0 + logits[$1] } / Float(max(1, prompt.answers.count))
            let bad = prompt.wrongAnswers.reduce(Float(0)) { $0 + logits[$1] } / Float(max(1, prompt.wrongAnswers.count))
            return good - bad
        case .probabilityDifference:
            let top = logits.max() ?? 0
            var total: Double = 0
            for v in logits { total += Double(expf(v - top)) }
            let p = { (id: Int) in Float(Double(expf(logits[id] - top)) / total) }
            return prompt.answers.reduce(Float(0)) { $0 + p($1) } - prompt.wrongAnswers.reduce(Float(0)) { $0 + p($1) }
        }
    }

    /// Whether the metric says the model gets the prompt right (positive difference).
    public func isCorrect(logits: UnsafeBufferPointer<Float>, prompt: TaskPrompt) -> Bool {
        value(logits: logits, prompt: prompt) > 0
    }
}

/// A task's prompts: positives the model can answer, negatives it cannot, each with answers.
public struct TaskDataset: Codable, Equatable, Sendable {
    public var task: String
    public var metric: TaskMetric
    public var positives: [TaskPrompt]
    public var negatives: [TaskPrompt]
    /// Positives removed because the model got them wrong (see ``TaskDataset/keepingCorrect(model:)``).
    public var droppedPositives: Int

    public init(task: String, metric: TaskMetric, positives: [TaskPrompt], negatives: [TaskPrompt], droppedPositives: Int = 0) {
        self.task = task
        self.metric = metric
        self.positives = positives
        self.negatives = negatives
        self.droppedPositives = droppedPositives
    }
}

/// What went wrong building or using a task: each case says what to do.
public enum TaskError: Error, CustomStringConvertible, Equatable {
    case unknownTask(String, known: [String])
    case notSingleToken(String, role: String)
    case tooFewPrompts(task: String, wanted: Int, made: Int, reason: String)
    case corruptedLengthMismatch(index: Int)
    case unreadable(path: String, reason: String)
    case invalidPrompt(line: Int, reason: String)

    public var description: String {
        switch self {
        case .unknownTask(let name, let known):
            return "unknown task \"\(name)\"; known tasks: \(known.joined(separator: ", ")) (or a .json/.jsonl file of your own)"
        case .notSingleToken(let text, let role):
            return "\(role) \"\(text)\" is not a single token for this tokenizer; choose another or a tokenizer where it is"
        case .tooFewPrompts(let task, let wanted, let made, let reason):
            return "\(task): asked for \(wanted) prompts but only \(made) could be made (\(reason))"
        case .corruptedLengthMismatch(let index):
            return "prompt \(index): the corrupted prompt has a different token count from the clean one; patching needs equal lengths"
        case .unreadable(let path, let reason):
            return "\(path): \(reason)"
        case .invalidPrompt(let line, let reason):
            return "line \(line): \(reason)"
        }
    }
}

extension TaskDataset {
    /// The metric of each prompt under the model, from last-position logits, in batches.
    public static func metricValues(model: Transformer, prompts: [TaskPrompt], metric: TaskMetric, corrupted: Bool = false,
                                    interventions: [Intervention] = [], batchSize: Int = 32) throws -> [Float] {
        var values: [Float] = []
        for start in stride(from: 0, to: prompts.count, by: max(1, batchSize)) {
            let part = prompts[start..<min(prompts.count, start + max(1, batchSize))]
            let rows = part.map { corrupted ? ($0.corruptedTokens ?? $0.tokens) : $0.tokens }
            let logits = try model.run(TokenBatch(rows: rows), logits: .last, interventions: interventions).logits!
            let vocab = model.config.vocabSize
            logits.storage.withUnsafeBufferPointer { all in
                for (i, prompt) in part.enumerated() {
                    let row = UnsafeBufferPointer(rebasing: all[(i * vocab)..<((i + 1) * vocab)])
                    values.append(metric.value(logits: row, prompt: prompt))
                }
            }
        }
        return values
    }

    /// Keeps only the positives the model gets right (and negatives as they are), counting the dropped ones.
    public func keepingCorrect(model: Transformer) throws -> TaskDataset {
        let values = try TaskDataset.metricValues(model: model, prompts: positives, metric: metric)
        var copy = self
        copy.positives = positives.indices.filter { values[$0] > 0 }.map { positives[$0] }
        copy.droppedPositives += positives.count - copy.positives.count
        return copy
    }
}

/// A task family: makes datasets for a tokenizer. One file per task; ``TaskRegistry`` lists them.
public protocol CircuitTask: Sendable {
    /// Short name used on the command line (`ioi`, `greater-than`, …).
    var name: String { get }
    /// One line for `mechanic tasks list`.
    var summary: String { get }
    /// The metric this task is scored with.
    var metric: TaskMetric { get }
    /// Makes `count` positives and `count` negatives, deterministic for a seed.
    func dataset(tokenizer: any Tokenizer, count: Int, seed: UInt64, prependBOS: Bool) throws -> TaskDataset
    /// The SAE's L1 coefficient λ the reference protocol uses for this task (0.02; docstring 0.05).
    var saeL1: Float { get }
}

extension CircuitTask {
    public var saeL1: Float { 0.02 }
}
