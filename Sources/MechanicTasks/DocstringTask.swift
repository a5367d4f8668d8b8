import MechanicCorpus
import MechanicTensor
import MechanicTokenizer

/// Docstring completion (Heimersheim & Janiak 2023): after `def f(self, a, b, c):` and
/// `:param a: …`, `:param b: …`, the next `:param` is followed by " c".
///
/// Wrong answers are the other parameters of the signature. Negatives and corrupted prompts use
/// the random-random corruption: the names in the signature and in the docstring are replaced by
/// unrelated random names, so nothing says which comes next.
public struct DocstringTask: CircuitTask {
    public let name = "docstring"
    public let summary = "docstring: next :param name after def f(self, a, b, c), random-random corruption"
    public let metric = TaskMetric.logitDifference
    /// The reference protocol trains docstring's SAE with λ 0.05 (0.02 for the other tasks).
    public let saeL1: Float = 0.05
    public var heldOutOnly: Bool

    public init(heldOutOnly: Bool = true) {
        self.heldOutOnly = heldOutOnly
    }

    /// The prompt in the corpus's format, with signature and docstring names given separately.
    static func render(function: Lexicon.Function, signature: [String], docstring: [Lexicon.Parameter], lines: Int) -> String {
        var text = "def \(function.name)(self"
        for name in signature { text += ", " + name }
        text += "):\n    \"\"\"\(function.summary)\n\n"
        for p in docstring[..<lines] { text += "    :param \(p.name): \(p.description)\n" }
        return text + "    :param"
    }

    public func dataset(tokenizer: any Tokenizer, count: Int, seed: UInt64, prependBOS: Bool) throws -> TaskDataset {
        let builder = TaskBuilder(task: name, tokenizer: tokenizer, prependBOS: prependBOS, heldOutOnly: heldOutOnly)
        let parameters = Lexicon.parameters.filter { tokenizer.singleTokenID(" " + $0.name) != nil }
        guard parameters.count >= 12 else { throw TaskError.notSingleToken(" " + (Lexicon.parameterNames.first ?? ""), role: "parameter") }
        /// A clean example and its random-random corruption, with names disjoint from the clean ones.
        func draw(_ rng: inout SeededRandom) -> (clean: String, corrupted: String, answer: String, others: [String]) {
            let n = DocstringFamily.parameterCounts.lowerBound + rng.below(DocstringFamily.parameterCounts.count)
            let picked = rng.distinct(3 * n, of: parameters)
            let real = Array(picked[0..<n]), signature = picked[n..<(2 * n)].map(\.name), described = Array(picked[(2 * n)...])
            let answerIndex = 1 + rng.below(n - 1)
            let function = rng.element(of: Lexicon.functions)
            let clean = DocstringTask.render(function: function, signature: real.map(\.name), docstring: real, lines: answerIndex)
            // Same descriptions, so both prompts have the same length in tokens.
            let renamed = zip(described, real).map { Lexicon.Parameter($0.name, $1.description) }
            let corrupted = DocstringTask.render(function: function, signature: signature, docstring: renamed, lines: answerIndex)
            return (clean, corrupted, real[answerIndex].name, real.map(\.name).filter { $0 != real[answerIndex].name })
        }
        let positives = try builder.sample(count, seed: seed) { rng in
            let d = draw(&rng)
            guard builder.admits(d.clean) else { return nil }
            let tokens = builder.tokens(d.clean), corrupted = builder.tokens(d.corrupted)
            guard tokens.count == corrupted.count else { return nil }
            return TaskPrompt(text: d.clean, tokens: tokens, answers: [try builder.single(" " + d.answer, role: "parameter")],
                              wrongAnswers: try d.others.map { try builder.single(" " + $0, role: "parameter") },
                              corruptedText: d.corrupted, corruptedTokens: corrupted)
        }
        let negatives = try builder.sample(count, seed: seed &+ 1) { rng in
            let d = draw(&rng)
            guard builder.admits(d.clean) else { return nil }
            return TaskPrompt(text: d.corrupted, tokens: builder.tokens(d.corrupted),
                              answers: [try builder.single(" " + d.answer, role: "parameter")],
                              wrongAnswers: try d.others.map { try builder.single(" " + $0, role: "parameter") })
        }
        return TaskDataset(task: name, metric: metric, positives: positives, negatives: negatives)
    }
}
