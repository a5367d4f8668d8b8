import MechanicCorpus
import MechanicTensor
import MechanicTokenizer

/// Induction on token sequences the way the literature measures it (Olsson et al. 2022; `induction-random`;
/// `induction` keeps the v1 runs of lexicon words):
/// BOS, a random prefix, a run R of random tokens from the whole vocabulary, then R again; at a
/// token of the second copy the next one is predictable only from the first copy
/// ("… A B … A" → "B").
///
/// Negatives and corrupted prompts replace the first copy with other random tokens (same length).
/// Tokens are drawn from every id except the tokenizer's special ones, so BPE fragments, digits
/// and bytes appear, and no corpus position or vocabulary cue can stand in for the earlier copy.
public struct RandomInductionTask: CircuitTask {
    public let name = "induction-random"
    public let summary = "induction: BOS + random prefix + a run of random tokens + the run again; first copy replaced for negatives"
    public let metric = TaskMetric.logitDifference
    /// Kept for the common task interface; random token runs are never training text.
    public var heldOutOnly: Bool
    /// Lengths of the run.
    public var runLengths: ClosedRange<Int>
    /// Lengths of the random prefix before it.
    public var prefixLengths: ClosedRange<Int>

    public init(heldOutOnly: Bool = true, runLengths: ClosedRange<Int> = 5...12, prefixLengths: ClosedRange<Int> = 0...20) {
        self.heldOutOnly = heldOutOnly
        self.runLengths = runLengths
        self.prefixLengths = prefixLengths
    }

    /// Token ids runs are drawn from: every id but the tokenizer's special ones.
    public static func drawable(tokenizer: any Tokenizer) -> [Int] {
        let special: Set<Int> = [tokenizer.bosID, tokenizer.eosID]
        return (0..<tokenizer.vocabularySize).filter { !special.contains($0) }
    }

    public func dataset(tokenizer: any Tokenizer, count: Int, seed: UInt64, prependBOS: Bool) throws -> TaskDataset {
        let ids = Self.drawable(tokenizer: tokenizer)
        let head = prependBOS ? [tokenizer.bosID] : []
        func text(_ tokens: [Int]) -> String { (try? tokenizer.decode(tokens)) ?? "" }
        func draw(_ rng: inout SeededRandom) -> (clean: [Int], corrupted: [Int], answer: Int, others: [Int]) {
            let n = runLengths.lowerBound + rng.below(runLengths.count)
            let picked = rng.distinct(2 * n, of: ids)
            let run = Array(picked[..<n]), replacement = Array(picked[n...])
            let prefix = (0..<(prefixLengths.lowerBound + rng.below(prefixLengths.count))).map { _ in rng.element(of: ids) }
            let answerIndex = 1 + rng.below(n - 1)
            let clean = head + prefix + run + run[..<answerIndex]
            let corrupted = head + prefix + replacement + run[..<answerIndex]
            return (clean, corrupted, run[answerIndex], run.enumerated().filter { $0.offset != answerIndex }.map(\.element))
        }
        var rng = SeededRandom(seed: seed)
        let positives = (0..<max(0, count)).map { _ in
            let d = draw(&rng)
            return TaskPrompt(text: text(d.clean), tokens: d.clean, answers: [d.answer], wrongAnswers: d.others,
                              corruptedText: text(d.corrupted), corruptedTokens: d.corrupted)
        }
        rng = SeededRandom(seed: seed &+ 1)
        let negatives = (0..<max(0, count)).map { _ in
            let d = draw(&rng)
            return TaskPrompt(text: text(d.corrupted), tokens: d.corrupted, answers: [d.answer], wrongAnswers: d.others)
        }
        return TaskDataset(task: name, metric: metric, positives: positives, negatives: negatives)
    }
}
