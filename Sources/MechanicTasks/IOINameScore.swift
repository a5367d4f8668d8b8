import MechanicModel
import MechanicTensor
import MechanicTokenizer

/// IOI scored the strict way: is the indirect object the model's top name among *all* names the
/// tokenizer has, and by how much does it beat the best other name? The task metric (IO − S)
/// is satisfied by a model that merely suppresses S; this one needs IO to be found.
public struct IOINameScore: Codable, Equatable, Sendable {
    /// Whether a complete IOI example with other names preceded each prompt.
    public var distractor: Bool
    public var prompts: Int
    /// Share of prompts where IO's logit beats every other name's.
    public var topAmongNames: Double
    /// Mean of IO's logit minus the best other name's.
    public var meanMarginOverNames: Float
    /// Mean IO − S logit difference (the task metric), for comparison.
    public var meanLogitDifference: Float

    /// Scores `model` on `count` held-out IOI prompts (seeded), with or without a distractor example first.
    public static func evaluate(model: Transformer, tokenizer: any Tokenizer, count: Int, seed: UInt64, distractor: Bool,
                                heldOutOnly: Bool = true, batchSize: Int = 32) throws -> IOINameScore {
        let task = IOIStoryTask(heldOutOnly: heldOutOnly, distractor: distractor)
        let prompts = try task.dataset(tokenizer: tokenizer, count: count, seed: seed, prependBOS: true).positives
            .filter { $0.tokens.count <= model.config.contextLength }
        let nameIDs = IOIStoryTask.names(tokenizer: tokenizer).compactMap { tokenizer.singleTokenID(" " + $0) }
        let vocab = model.config.vocabSize
        var top = 0
        var margin: Float = 0, difference: Float = 0
        for start in stride(from: 0, to: prompts.count, by: batchSize) {
            let part = Array(prompts[start..<min(prompts.count, start + batchSize)])
            let logits = try model.run(TokenBatch(rows: part.map(\.tokens)), logits: .last).logits!
            for (i, p) in part.enumerated() {
                let row = logits.storage[(i * vocab)..<((i + 1) * vocab)]
                let io = p.answers[0]
                let bestOther = nameIDs.filter { $0 != io }.map { row[row.startIndex + $0] }.max() ?? -.infinity
                let ioLogit = row[row.startIndex + io]
                if ioLogit > bestOther { top += 1 }
                margin += ioLogit - bestOther
                difference += ioLogit - row[row.startIndex + p.wrongAnswers[0]]
            }
        }
        let n = max(1, prompts.count)
        return IOINameScore(distractor: distractor, prompts: prompts.count, topAmongNames: Double(top) / Double(n),
                            meanMarginOverNames: margin / Float(n), meanLogitDifference: difference / Float(n))
    }
}
