import MechanicTensor

/// Corpus v2's language-model share: stories of 4–12 sentences about a recurring cast of one to
/// three characters, so names come back the way they do in real text ("Mary walked to the park.
/// … The teacher greeted Mary."), and repeating an earlier name is often the right continuation.
///
/// The answer is the last word of the story, only loosely predictable, as in natural text.
public struct NarrativeFamily: TaskFamily {
    public var kind: TaskFamilyKind { .narrative }

    /// Number of sentences in a story.
    public static let sentenceCounts: ClosedRange<Int> = 4...12

    public init() {}

    public func sample(using rng: inout SeededRandom) -> TaskSample {
        let grammar = NarrativeGrammar()
        let cast = rng.distinct(1 + rng.below(3), of: Lexicon.names)
        let count = rng.inRange(Self.sentenceCounts)
        var text = ""
        for i in 0..<count {
            if i > 0 { text += " " }
            // One sentence in four names nobody; the others pick a cast member.
            let who: String? = rng.below(4) == 0 ? nil : rng.element(of: cast)
            text += grammar.sentence(about: who, using: &rng)
        }
        // Split off the last word (every sentence ends "word.").
        let body = text.dropLast()
        let cut = body.lastIndex(of: " ").map { body.index(after: $0) } ?? body.startIndex
        let prompt = String(body[..<cut].dropLast())
        return TaskSample(kind: .narrative, prompt: prompt, answer: " " + body[cut...], completion: ".")
    }
}
