import MechanicTensor

/// Corpus v2's indirect-object identification: IOI episodes inside varied narratives, so that a
/// model can only answer by the mechanism Wang et al. (2022) found in GPT-2 (find the duplicated
/// name, inhibit it, copy the other), not by a slot or position cue.
///
/// An episode introduces two names A and B in one of many clause shapes, may continue with
/// name-free filler or a distractor name mentioned twice, then repeats the subject S in one of
/// many syntactic roles and ends just before the indirect object IO. A document holds one to
/// three episodes with fresh names, so earlier complete examples precede the prompt; some
/// episodes instead end on a name that *should* be repeated ("… to Mary. Mary thanked" →
/// " John"), or on the only name in the story.
public struct IOIStoryFamily: TaskFamily {
    public let kind: TaskFamilyKind
    /// How many episodes a document holds, drawn uniformly from this list (repeats weight a count).
    public let episodeCounts: [Int]
    /// Whether episodes have name-free sentences before and inside them and, sometimes, a
    /// distractor mentioned twice (false: just the introduction and the ending).
    public let filler: Bool

    /// Introductions that are whole sentences. Slots: `{A}`, `{B}`, `{PLACE}`, `{OBJECT}`,
    /// `{TIME}`, `{PROF}`, `{FOOD}`, `{ADJ}`.
    public static let introductions: [String] = [
        "{A} and {B} went to the {PLACE}.",
        "{A} and {B} met at the {PLACE}.",
        "{TIME}, {A} and {B} walked to the {PLACE}.",
        "{A} met {B} at the {PLACE}.",
        "{A} visited {B} at the {PLACE}.",
        "{A} and {B} found a {OBJECT} at the {PLACE}.",
        "{A} called {B} from the {PLACE}.",
        "At the {PLACE}, {A} sat next to {B}.",
        "{A}, {B} and the {PROF} went to the {PLACE}.",
        "{A} and {B} had {FOOD} at the {PLACE}.",
        "{A} and {B} were {ADJ} and tired after the trip.",
        "The {PROF} saw {A} and {B} near the {PLACE}.",
    ]

    /// Introductions that are subordinate clauses; the ending follows after ", ".
    public static let subordinateIntroductions: [String] = [
        "When {A} and {B} went to the {PLACE},",
        "After {A} and {B} had {FOOD} at the {PLACE},",
        "While {A} and {B} were at the {PLACE},",
        "As soon as {A} met {B} at the {PLACE},",
        "Because {A} and {B} were at the {PLACE},",
    ]

    /// Endings, each a clause that repeats S and stops before IO. Those starting with `{S}` may
    /// follow a subordinate introduction.
    public static let endings: [String] = [
        "{S} gave a {OBJECT} to",
        "{S} handed the {OBJECT} to",
        "{S} wanted to give the {OBJECT} to",
        "{S} bought a {OBJECT} for",
        "{S} said goodbye to",
        "{S} threw the {OBJECT} to",
        "{S}, who was {ADJ}, passed the {OBJECT} to",
        "Then {S} gave the {OBJECT} to",
        "Later, {S} passed a {OBJECT} to",
        "{TIME}, {S} sent a {OBJECT} to",
        "It was {S} who gave the {OBJECT} to",
        "The {OBJECT} was given by {S} to",
        "Afterwards {S} showed the {OBJECT} to",
        "The {PROF} thanked {S}, and {S} gave a {OBJECT} to",
    ]

    static let parsedIntroductions = introductions.map(Template.init)
    static let parsedSubordinates = subordinateIntroductions.map(Template.init)
    static let parsedEndings = endings.map(Template.init)
    /// Indices of endings that start with S, so can follow a subordinate introduction.
    static let subjectFirstEndings = endings.indices.filter { endings[$0].hasPrefix("{S}") }

    /// Corpus v2's family: one to three episodes per document (mean 1.67).
    public init() {
        self.init(kind: .ioiStory, episodeCounts: [1, 1, 1, 2, 2, 3], filler: true)
    }

    /// The same episodes, two to four per document (mean 3), so IOI answers are about 1.8 times as
    /// frequent per document and most prompts follow complete examples.
    public static let dense = IOIStoryFamily(kind: .ioiStoryDense, episodeCounts: [2, 3, 3, 4], filler: true)

    /// A drill: four to eight bare episodes per document (introduction, ending, answer; about 18
    /// tokens each), so a 32-token window often holds a whole one and about one token in 18 is an
    /// IOI answer. The curriculum's short windows can then teach IOI, as they taught copying.
    public static let drill = IOIStoryFamily(kind: .ioiDrill, episodeCounts: [4, 5, 6, 7, 8], filler: false)

    private init(kind: TaskFamilyKind, episodeCounts: [Int], filler: Bool) {
        self.kind = kind
        self.episodeCounts = episodeCounts
        self.filler = filler
    }

    public func sample(using rng: inout SeededRandom) -> TaskSample {
        let episodes = episodeCounts[rng.below(episodeCounts.count)]
        var used = Set<String>()
        var prompt = ""
        var last: (answer: String, completion: String) = ("", "")
        for e in 0..<episodes {
            if e > 0 { prompt += last.answer + last.completion + " " }
            let kind = rng.below(10)
            if kind == 0 {
                // The only name in the episode is the right continuation.
                let who = fresh(1, avoiding: &used, using: &rng)[0]
                let grammar = NarrativeGrammar()
                prompt += grammar.sentence(about: who, using: &rng) + " " + grammar.nameFreeSentences(rng.below(2), using: &rng)
                prompt += "The \(rng.element(of: Lexicon.professions)) gave a \(rng.element(of: Lexicon.objects)) to"
                last = (" " + who, ".")
                continue
            }
            let story = story(using: &rng, avoiding: &used)
            prompt += story.prompt(secondSubject: story.subject)
            if kind <= 2 {
                // Repeating a name is right: after "S gave … to IO.", "IO thanked" → S.
                prompt += " " + story.indirectObject + ". " + story.indirectObject + " thanked"
                last = (" " + story.subject, ".")
            } else {
                last = (" " + story.indirectObject, ".")
            }
        }
        return TaskSample(kind: kind, prompt: prompt, answer: last.answer, completion: last.completion)
    }

    /// A random IOI episode whose names avoid `used` (which receives them).
    public func story(using rng: inout SeededRandom, avoiding used: inout Set<String>) -> IOIStory {
        let names = fresh(3, avoiding: &used, using: &rng)
        let subordinate = rng.below(4) == 0
        let grammar = NarrativeGrammar()
        var lead = grammar.nameFreeSentences([0, 0, 1, 2][rng.below(4)], using: &rng)
        var middle = ""
        if !subordinate {
            middle = grammar.nameFreeSentences([0, 0, 1, 1, 2, 3][rng.below(6)], using: &rng)
            if rng.below(4) == 0 {
                // A distractor mentioned twice, so it is never the answer.
                let d = names[2]
                let first = grammar.sentence(about: d, using: &rng) + " ", second = grammar.sentence(about: d, using: &rng) + " "
                if rng.below(2) == 0 { lead += first; middle = second + middle } else { middle = first + middle + second }
            }
        }
        // The filler is drawn either way, so a drill consumes the same draws as a story (the
        // shipped drill models were trained on this corpus), then dropped.
        if !filler { (lead, middle) = ("", "") }
        let introductionCount = subordinate ? Self.subordinateIntroductions.count : Self.introductions.count
        return IOIStory(
            lead: lead, subordinate: subordinate, introduction: rng.below(introductionCount),
            order: rng.below(2) == 0 ? .abba : .baba, indirectObject: names[0], subject: names[1], middle: middle,
            ending: subordinate ? rng.element(of: Self.subjectFirstEndings) : rng.below(Self.endings.count),
            words: IOIStory.Words(place: rng.element(of: Lexicon.places), object: rng.element(of: Lexicon.objects),
                                  time: rng.element(of: Lexicon.timePhrases), profession: rng.element(of: Lexicon.professions),
                                  food: rng.element(of: Lexicon.foods), adjective: rng.element(of: Lexicon.adjectives)))
    }

    /// `count` distinct names not in `used`, added to it.
    private func fresh(_ count: Int, avoiding used: inout Set<String>, using rng: inout SeededRandom) -> [String] {
        var out: [String] = []
        while out.count < count {
            let name = rng.element(of: Lexicon.names)
            if used.insert(name).inserted { out.append(name) }
        }
        return out
    }
}

/// One IOI episode of corpus v2, fixed by every choice, so datasets can render its clean prompt
/// and its ABC twin (S2 replaced by a third name) with the same tokens elsewhere.
public struct IOIStory: Sendable, Equatable, Hashable {
    /// The content words of the episode.
    public struct Words: Sendable, Equatable, Hashable {
        public var place, object, time, profession, food, adjective: String
        public init(place: String, object: String, time: String, profession: String, food: String, adjective: String) {
            (self.place, self.object, self.time, self.profession, self.food, self.adjective) = (place, object, time, profession, food, adjective)
        }
    }

    /// Text before the introduction ("" or sentences each followed by a space).
    public var lead: String
    /// Whether the introduction is a subordinate clause (then `middle` is empty).
    public var subordinate: Bool
    /// Index into `IOIStoryFamily.introductions` or `.subordinateIntroductions`.
    public var introduction: Int
    /// Whether IO (ABBA) or S (BABA) is introduced first.
    public var order: IOIExample.Order
    /// The answer name and the repeated name, without leading spaces.
    public var indirectObject: String
    public var subject: String
    /// Text between the introduction and the ending ("" or sentences each followed by a space).
    public var middle: String
    /// Index into `IOIStoryFamily.endings`.
    public var ending: Int
    public var words: Words

    public init(lead: String, subordinate: Bool, introduction: Int, order: IOIExample.Order, indirectObject: String,
                subject: String, middle: String, ending: Int, words: Words) {
        self.lead = lead
        self.subordinate = subordinate
        self.introduction = introduction
        self.order = order
        self.indirectObject = indirectObject
        self.subject = subject
        self.middle = middle
        self.ending = ending
        self.words = words
    }

    /// The episode ending just before IO, with `secondSubject` as every mention of S after the
    /// introduction (S for the clean prompt, a third name for the ABC twin).
    public func prompt(secondSubject: String) -> String {
        let (a, b) = order == .abba ? (indirectObject, subject) : (subject, indirectObject)
        func fill(_ slot: String) -> String {
            switch slot {
            case "A": a
            case "B": b
            case "S": secondSubject
            case "PLACE": words.place
            case "OBJECT": words.object
            case "TIME": words.time
            case "PROF": words.profession
            case "FOOD": words.food
            case "ADJ": words.adjective
            default: preconditionFailure("IOI story slot {\(slot)} is unknown")
            }
        }
        let intro = (subordinate ? IOIStoryFamily.parsedSubordinates : IOIStoryFamily.parsedIntroductions)[introduction].render(fill)
        return lead + intro + " " + middle + IOIStoryFamily.parsedEndings[ending].render(fill)
    }
}
