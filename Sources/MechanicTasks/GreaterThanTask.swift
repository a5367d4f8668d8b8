import MechanicCorpus
import MechanicTensor
import MechanicTokenizer

/// Greater-than (Hanna et al. 2023): "The war lasted from the year 1732 to the year 17" → any
/// two-digit ending above 32.
///
/// Scored by probability difference: mass on endings greater than the start year minus mass on
/// the others. Negatives and corrupted prompts start at year XX01, which removes the signal.
public struct GreaterThanTask: CircuitTask {
    public let name = "greater-than"
    public let summary = "greater-than: \"The war lasted from the year 1732 to the year 17\", negatives at YY = 01"
    public let metric = TaskMetric.probabilityDifference
    public var heldOutOnly: Bool

    public init(heldOutOnly: Bool = true) {
        self.heldOutOnly = heldOutOnly
    }

    public func dataset(tokenizer: any Tokenizer, count: Int, seed: UInt64, prependBOS: Bool) throws -> TaskDataset {
        let builder = TaskBuilder(task: name, tokenizer: tokenizer, prependBOS: prependBOS, heldOutOnly: heldOutOnly)
        // Every two-digit ending must be one token, as must " XX" for the centuries used.
        let endings = try (0...99).map { try builder.single(GreaterThanFamily.twoDigits($0), role: "two-digit year ending") }
        let family = GreaterThanFamily()
        let nouns = Lexicon.greaterThanNouns.filter { tokenizer.singleTokenID(" " + $0) != nil }
        /// The prompt for a start year, if its tokens split as " XX" + "YY" and the century is one token.
        func prompt(template: Int, noun: String, century: Int, start: Int) -> (text: String, tokens: [Int])? {
            let text = family.example(template: template, noun: noun, century: century, start: start, end: start).sample.prompt
            guard let xx = tokenizer.singleTokenID(" \(century)"),
                  tokenizer.encode(" \(century)\(GreaterThanFamily.twoDigits(start))", prependBOS: false) == [xx, endings[start]]
            else { return nil }
            return (text, builder.tokens(text))
        }
        func draw(_ rng: inout SeededRandom) -> (Int, String, Int) {
            (rng.below(GreaterThanFamily.templates.count), rng.element(of: nouns),
             GreaterThanFamily.centuries.lowerBound + rng.below(GreaterThanFamily.centuries.count))
        }
        let positives = try builder.sample(count, seed: seed) { rng in
            let (template, noun, century) = draw(&rng)
            let start = GreaterThanFamily.startYears.lowerBound + rng.below(GreaterThanFamily.startYears.count)
            guard let clean = prompt(template: template, noun: noun, century: century, start: start),
                  let corrupted = prompt(template: template, noun: noun, century: century, start: 1),
                  builder.admits(clean.text), clean.tokens.count == corrupted.tokens.count
            else { return nil }
            return TaskPrompt(text: clean.text, tokens: clean.tokens, answers: Array(endings[(start + 1)...]),
                              wrongAnswers: Array(endings[...start]), corruptedText: corrupted.text, corruptedTokens: corrupted.tokens)
        }
        let negatives = try builder.sample(count, seed: seed &+ 1) { rng in
            let (template, noun, century) = draw(&rng)
            guard let p = prompt(template: template, noun: noun, century: century, start: 1), builder.admits(p.text) else { return nil }
            return TaskPrompt(text: p.text, tokens: p.tokens, answers: Array(endings[2...]), wrongAnswers: Array(endings[...1]))
        }
        return TaskDataset(task: name, metric: metric, positives: positives, negatives: negatives)
    }
}
