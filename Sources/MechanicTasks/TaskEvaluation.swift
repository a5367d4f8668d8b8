import MechanicModel
import MechanicTensor
import MechanicTokenizer

/// How well a model does a task on its positive prompts.
public struct TaskScore: Codable, Equatable, Sendable {
    public var task: String
    public var prompts: Int
    /// Share of prompts where every answer outscores every wrong answer
    /// (for greater-than: more probability on later years than on earlier ones).
    public var accuracy: Double
    /// Mean of the task metric.
    public var meanMetric: Float
    public var metric: TaskMetric

    /// Scores `model` on the dataset's positives (all of them, before any filtering).
    public static func evaluate(model: Transformer, dataset: TaskDataset, batchSize: Int = 32) throws -> TaskScore {
        let prompts = dataset.positives
        var correct = 0
        var total: Float = 0
        let vocab = model.config.vocabSize
        for start in stride(from: 0, to: prompts.count, by: max(1, batchSize)) {
            let part = Array(prompts[start..<min(prompts.count, start + max(1, batchSize))])
            let logits = try model.run(TokenBatch(rows: part.map(\.tokens)), logits: .last).logits!
            logits.storage.withUnsafeBufferPointer { all in
                for (i, p) in part.enumerated() {
                    let row = UnsafeBufferPointer(rebasing: all[(i * vocab)..<((i + 1) * vocab)])
                    let value = dataset.metric.value(logits: row, prompt: p)
                    total += value
                    switch dataset.metric {
                    case .probabilityDifference:
                        if value > 0 { correct += 1 }
                    case .logitDifference:
                        let worstAnswer = p.answers.map { row[$0] }.min() ?? -.infinity
                        let bestWrong = p.wrongAnswers.map { row[$0] }.max() ?? -.infinity
                        if worstAnswer > bestWrong { correct += 1 }
                    }
                }
            }
        }
        return TaskScore(task: dataset.task, prompts: prompts.count, accuracy: Double(correct) / Double(max(1, prompts.count)),
                         meanMetric: total / Float(max(1, prompts.count)), metric: dataset.metric)
    }
}
