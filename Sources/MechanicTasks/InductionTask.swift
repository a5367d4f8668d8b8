import MechanicCorpus
import MechanicTensor
import MechanicTokenizer

/// Induction: a run of random words, then the run again; at each word of the second copy the
/// next word is predictable from the first copy ("… A B … A" → " B").
///
/// Negatives and corrupted prompts replace the first copy with other random words.
public struct InductionTask: CircuitTask {
    public let name = "induction"
    public let summary = "induction: a repeated run of random words, first copy replaced for negatives"
    public let metric = TaskMetric.logitDifference
    public var heldOutOnly: Bool

    public init(heldOutOnly: Bool = true) {
        self.heldOutOnly = heldOutOnly
    }

    public func dataset(tokenizer: any Tokenizer, count: Int, seed: UInt64, prependBOS: Bool) throws -> TaskDataset {
        let builder = TaskBuilder(task: name, tokenizer: tokenizer, prependBOS: prependBOS, heldOutOnly: heldOutOnly)
        let words = Lexicon.inductionWords.filter { tokenizer.singleTokenID(" " + $0) != nil }
        let family = InductionFamily()
        func text(_ opener: String, first: [String], second: [String]) -> String {
            opener + first.map { " " + $0 }.joined() + second.map { " " + $0 }.joined()
        }
        func draw(_ rng: inout SeededRandom) -> (clean: String, corrupted: String, answer: String, others: [String]) {
            let n = InductionFamily.runLengths.lowerBound + rng.below(InductionFamily.runLengths.count)
            let picked = rng.distinct(2 * n, of: words)
            let run = Array(picked[..<n]), replacement = Array(picked[n...])
            let answerIndex = 1 + rng.below(n - 1)
            let opener = rng.element(of: InductionFamily.openers)
            let clean = family.example(opener: opener, run: run, answerIndex: answerIndex).sample.prompt
            let corrupted = text(opener, first: replacement, second: Array(run[..<answerIndex]))
            return (clean, corrupted, run[answerIndex], run.enumerated().filter { $0.offset != answerIndex }.map(\.element))
        }
        let positives = try builder.sample(count, seed: seed) { rng in
            let d = draw(&rng)
            guard builder.admits(d.clean) else { return nil }
            let tokens = builder.tokens(d.clean), corrupted = builder.tokens(d.corrupted)
            guard tokens.count == corrupted.count else { return nil }
            return TaskPrompt(text: d.clean, tokens: tokens, answers: [try builder.single(" " + d.answer, role: "word")],
                              wrongAnswers: try d.others.map { try builder.single(" " + $0, role: "word") },
                              corruptedText: d.corrupted, corruptedTokens: corrupted)
        }
        let negatives = try builder.sample(count, seed: seed &+ 1) { rng in
            let d = draw(&rng)
            guard builder.admits(d.clean) else { return nil }
            return TaskPrompt(text: d.corrupted, tokens: builder.tokens(d.corrupted),
                              answers: [try builder.single(" " + d.answer, role: "word")],
                              wrongAnswers: try d.others.map { try builder.single(" " + $0, role: "word") })
        }
        return TaskDataset(task: name, metric: metric, positives: positives, negatives: negatives)
    }
}
