import MechanicCorpus
import MechanicTensor
import MechanicTokenizer

/// Indirect-object identification (Wang et al. 2022): "When Mary and John went to the store,
/// John gave a drink to" → " Mary" (not " John").
///
/// Positives use the ABBA and BABA templates; negatives and corrupted prompts are ABC: the
/// second mention of the subject is a third name, so nothing singles out the answer.
public struct IOITask: CircuitTask {
    public let name = "ioi"
    public let summary = "indirect object identification: ABBA/BABA templates, ABC negatives and corruption"
    public let metric = TaskMetric.logitDifference
    /// Score only on prompts of the held-out corpus split (for Mechanic's own models).
    public var heldOutOnly: Bool

    public init(heldOutOnly: Bool = true) {
        self.heldOutOnly = heldOutOnly
    }

    public func dataset(tokenizer: any Tokenizer, count: Int, seed: UInt64, prependBOS: Bool) throws -> TaskDataset {
        let builder = TaskBuilder(task: name, tokenizer: tokenizer, prependBOS: prependBOS, heldOutOnly: heldOutOnly)
        // Names that are one token with a leading space, for this tokenizer.
        let names = Lexicon.names.filter { tokenizer.singleTokenID(" " + $0) != nil }
        guard names.count >= 3 else { throw TaskError.notSingleToken(" " + (Lexicon.names.first ?? ""), role: "IOI name") }
        func render(_ template: String, a: String, b: String, s: String, place: String, object: String) -> String {
            template.replacingOccurrences(of: "{A}", with: a).replacingOccurrences(of: "{B}", with: b)
                .replacingOccurrences(of: "{S}", with: s).replacingOccurrences(of: "{PLACE}", with: place)
                .replacingOccurrences(of: "{OBJECT}", with: object)
        }
        func draw(_ rng: inout SeededRandom) -> (template: String, io: String, s: String, c: String, abba: Bool, place: String, object: String) {
            let picked = rng.distinct(3, of: names)
            return (IOIFamily.templates[rng.below(IOIFamily.templates.count)], picked[0], picked[1], picked[2],
                    rng.below(2) == 0, rng.element(of: Lexicon.places), rng.element(of: Lexicon.objects))
        }
        let positives = try builder.sample(count, seed: seed) { rng in
            let d = draw(&rng)
            let (a, b) = d.abba ? (d.io, d.s) : (d.s, d.io)
            let text = render(d.template, a: a, b: b, s: d.s, place: d.place, object: d.object)
            let corrupted = render(d.template, a: a, b: b, s: d.c, place: d.place, object: d.object)
            guard builder.admits(text) else { return nil }
            let tokens = builder.tokens(text), corruptedTokens = builder.tokens(corrupted)
            guard tokens.count == corruptedTokens.count else { return nil }
            return TaskPrompt(text: text, tokens: tokens, answers: [try builder.single(" " + d.io, role: "IOI name")],
                              wrongAnswers: [try builder.single(" " + d.s, role: "IOI name")],
                              corruptedText: corrupted, corruptedTokens: corruptedTokens)
        }
        let negatives = try builder.sample(count, seed: seed &+ 1) { rng in
            let d = draw(&rng)
            let text = render(d.template, a: d.io, b: d.s, s: d.c, place: d.place, object: d.object)
            guard builder.admits(text) else { return nil }
            return TaskPrompt(text: text, tokens: builder.tokens(text), answers: [try builder.single(" " + d.io, role: "IOI name")],
                              wrongAnswers: [try builder.single(" " + d.c, role: "IOI name")])
        }
        return TaskDataset(task: name, metric: metric, positives: positives, negatives: negatives)
    }
}
