import MechanicTensor

/// Corpus v2's greater-than: the start and end years sit at varying distances and positions,
/// after 0–2 narrative sentences and with 0–2 sentences between them, so the model must find
/// the start year by content, not by its offset from the end of the prompt.
///
/// The prompt still ends on the end year's century (" 17") and the answer is two digits
/// greater than the start's, as in `GreaterThanFamily`.
public struct GreaterThanStoryFamily: TaskFamily {
    public var kind: TaskFamilyKind { .greaterThanStory }

    /// Openings naming the start year. Slots: `{NOUN}`, `{START}`.
    public static let openings: [String] = [
        "The {NOUN} lasted from the year {START}",
        "The {NOUN} started in the year {START}",
        "In {START}, the {NOUN} began.",
        "The {NOUN} began in {START}.",
        "It was {START} when the {NOUN} started.",
        "The {NOUN} ran from {START}",
    ]
    /// Closings naming the end year's century. Slot `{XX}`. Used after an opening ending with a
    /// year (no middle text) or a sentence (any middle text).
    public static let continuations: [String] = [" to the year {XX}", " until {XX}", " and ended in the year {XX}", " to {XX}"]
    public static let closings: [String] = ["It ended in the year {XX}", "It was over by {XX}", "The {NOUN} ended in {XX}",
                                            "Finally, in the year {XX}", "It lasted until {XX}"]

    static let parsedOpenings = openings.map(Template.init)
    static let parsedContinuations = continuations.map(Template.init)
    static let parsedClosings = closings.map(Template.init)

    public init() {}

    public func sample(using rng: inout SeededRandom) -> TaskSample {
        let grammar = NarrativeGrammar()
        let noun = rng.element(of: Lexicon.greaterThanNouns)
        let century = rng.inRange(GreaterThanFamily.centuries)
        let start = rng.inRange(GreaterThanFamily.startYears)
        let end = rng.inRange((start + 1)...99)
        func fill(_ slot: String) -> String {
            switch slot {
            case "NOUN": noun
            case "START": String(century) + GreaterThanFamily.twoDigits(start)
            case "XX": String(century)
            default: preconditionFailure("greater-than slot {\(slot)} is unknown")
            }
        }
        var prompt = grammar.nameFreeSentences([0, 0, 1, 2][rng.below(4)], using: &rng)
        let opening = rng.below(Self.openings.count)
        prompt += Self.parsedOpenings[opening].render(fill)
        if Self.openings[opening].hasSuffix(".") {
            prompt += " " + grammar.nameFreeSentences([0, 1, 2][rng.below(3)], using: &rng)
            prompt += rng.element(of: Self.parsedClosings).render(fill)
        } else {
            prompt += rng.element(of: Self.parsedContinuations).render(fill)
        }
        return TaskSample(kind: .greaterThanStory, prompt: prompt, answer: GreaterThanFamily.twoDigits(end), completion: ".")
    }
}
