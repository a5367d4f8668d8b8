import MechanicTensor

/// A small sentence grammar for corpus v2: ordinary narrative text about a cast of characters,
/// used as the corpus's language-model share and as the filler that task documents put
/// between their parts, so that no task cue sits at a fixed position or slot.
///
/// Sentences mention at most one cast member, by name; `nameFree` sentences mention nobody,
/// for the gaps inside IOI stories where an extra single mention would change the answer.
public struct NarrativeGrammar: Sendable {
    public init() {}

    /// Number of sentence shapes `sentence(about:using:)` chooses from.
    static let shapeCount = 14
    /// Number of name-free shapes.
    static let nameFreeShapeCount = 9

    /// One sentence about `character` (or a nameless subject when nil), ending with ".".
    ///
    /// - Parameters:
    ///   - character: a name, mentioned exactly once, or nil.
    ///   - rng: the source of randomness.
    public func sentence(about character: String?, using rng: inout SeededRandom) -> String {
        guard let who = character else { return nameFree(using: &rng) }
        switch rng.below(Self.shapeCount) {
        case 0: return "\(who) \(rng.element(of: Lexicon.transitiveVerbs)) the \(thing(using: &rng))."
        case 1: return "\(who) walked to the \(rng.element(of: Lexicon.places))."
        case 2: return "\(rng.element(of: Lexicon.timePhrases)), \(who) \(rng.element(of: Lexicon.intransitiveVerbs)) \(rng.element(of: Lexicon.adverbs))."
        case 3: return "\(who) \(rng.element(of: Lexicon.intransitiveVerbs)) \(rng.element(of: Lexicon.adverbs))."
        case 4: return "\(who) ate \(rng.element(of: Lexicon.foods)) at the \(rng.element(of: Lexicon.places))."
        case 5: return "The \(rng.element(of: Lexicon.professions)) greeted \(who) \(rng.element(of: Lexicon.adverbs))."
        case 6: return "\(who) was \(rng.element(of: Lexicon.adjectives)) that day."
        case 7: return "\(who) had a \(rng.element(of: Lexicon.adjectives)) \(rng.element(of: Lexicon.animals))."
        case 8: return "Everyone at the \(rng.element(of: Lexicon.places)) liked \(who)."
        case 9: return "\(who) looked at the \(rng.element(of: Lexicon.fillerNouns)) for a while."
        case 10: return "\(who) wanted to see the \(rng.element(of: Lexicon.animals))."
        case 11: return "After the rain, \(who) \(rng.element(of: Lexicon.transitiveVerbs)) a \(thing(using: &rng))."
        case 12: return "\(who) told the \(rng.element(of: Lexicon.professions)) a \(["story", "joke", "secret", "poem"][rng.below(4)])."
        default: return "\(who) kept the \(rng.element(of: Lexicon.objects)) in a \(rng.element(of: Lexicon.fillerNouns))."
        }
    }

    /// A sentence that names nobody.
    public func nameFree(using rng: inout SeededRandom) -> String {
        switch rng.below(Self.nameFreeShapeCount) {
        case 0: return "The \(rng.element(of: Lexicon.places)) was \(rng.element(of: Lexicon.adjectives))."
        case 1: return "It was a \(rng.element(of: Lexicon.weather)) day."
        case 2: return "The \(rng.element(of: Lexicon.animals)) \(rng.element(of: Lexicon.intransitiveVerbs)) near the \(rng.element(of: Lexicon.places))."
        case 3: return "There was a \(thing(using: &rng)) in the \(rng.element(of: Lexicon.places))."
        case 4: return "The \(rng.element(of: Lexicon.professions)) \(rng.element(of: Lexicon.transitiveVerbs)) the \(rng.element(of: Lexicon.fillerNouns))."
        case 5: return "\(rng.element(of: Lexicon.timePhrases)), the \(rng.element(of: Lexicon.animals)) \(rng.element(of: Lexicon.intransitiveVerbs)) \(rng.element(of: Lexicon.adverbs))."
        case 6: return "Nobody \(rng.element(of: Lexicon.transitiveVerbs)) the \(rng.element(of: Lexicon.objects))."
        case 7: return "The \(rng.element(of: Lexicon.fillerNouns)) was \(rng.element(of: Lexicon.adjectives)) and \(rng.element(of: Lexicon.adjectives))."
        default: return "Some \(rng.element(of: Lexicon.foods)) was left on the \(rng.element(of: Lexicon.fillerNouns))."
        }
    }

    /// `count` name-free sentences, each followed by a space (empty for 0).
    public func nameFreeSentences(_ count: Int, using rng: inout SeededRandom) -> String {
        var out = ""
        for _ in 0..<count { out += nameFree(using: &rng) + " " }
        return out
    }

    /// "{adjective} {noun}" or "{noun}", a thing that takes "a".
    func thing(using rng: inout SeededRandom) -> String {
        let noun = rng.below(3) == 0 ? rng.element(of: Lexicon.objects) : rng.element(of: Lexicon.fillerNouns)
        return rng.below(2) == 0 ? rng.element(of: Lexicon.adjectives) + " " + noun : noun
    }
}
