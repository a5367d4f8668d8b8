import MechanicCorpus
import MechanicTensor
import MechanicTokenizer

/// Indirect-object identification (Wang et al. 2022) in corpus v2's narrative form (`ioi-story`;
/// `ioi` keeps the 18 fixed templates the v1 reference models were trained and scored on): "Sam met Tim
/// at the park. It was a windy day. Later, Sam passed a key to" → " Tim" (not " Sam").
///
/// Prompts are `IOIStory` episodes (many introductions, filler, distractor names mentioned twice,
/// S2 in varied roles), ABBA and BABA. Negatives and corrupted prompts are the ABC twins: every
/// mention of S after the introduction becomes a third name, so nothing singles out the answer,
/// and each corrupted prompt is aligned token for token with its clean one. With `distractor`,
/// a complete IOI episode with other names comes first.
public struct IOIStoryTask: CircuitTask {
    public let name = "ioi-story"
    public let summary = "indirect object identification in narratives (corpus v2): ABBA/BABA episodes, aligned ABC twins"
    public let metric = TaskMetric.logitDifference
    /// Score only on prompts of the held-out corpus split (for Mechanic's own models).
    public var heldOutOnly: Bool
    /// Put a complete IOI example with other names before each prompt.
    public var distractor: Bool

    public init(heldOutOnly: Bool = true, distractor: Bool = false) {
        self.heldOutOnly = heldOutOnly
        self.distractor = distractor
    }

    /// The names usable with `tokenizer` (one token with a leading space).
    public static func names(tokenizer: any Tokenizer) -> [String] {
        Lexicon.names.filter { tokenizer.singleTokenID(" " + $0) != nil }
    }

    /// One drawn prompt: the clean text, its ABC twin, and the names that play each role.
    public struct Draw: Sendable {
        public var clean: String
        public var corrupted: String
        public var story: IOIStory
        /// The third name that replaces S in the twin.
        public var third: String
    }

    /// A clean episode and its ABC twin, with every name a single token of `names`.
    public func draw(names: [String], using rng: inout SeededRandom) -> Draw {
        let family = IOIStoryFamily()
        var used = Set(Lexicon.names).subtracting(names)   // never draw names the tokenizer splits
        var prefix = ""
        if distractor {
            let earlier = family.story(using: &rng, avoiding: &used)
            prefix = earlier.prompt(secondSubject: earlier.subject) + " " + earlier.indirectObject + ". "
        }
        let story = family.story(using: &rng, avoiding: &used)
        let third = rng.element(of: names.filter { !used.contains($0) })
        return Draw(clean: prefix + story.prompt(secondSubject: story.subject), corrupted: prefix + story.prompt(secondSubject: third),
                    story: story, third: third)
    }

    public func dataset(tokenizer: any Tokenizer, count: Int, seed: UInt64, prependBOS: Bool) throws -> TaskDataset {
        let builder = TaskBuilder(task: name, tokenizer: tokenizer, prependBOS: prependBOS, heldOutOnly: heldOutOnly)
        let names = Self.names(tokenizer: tokenizer)
        guard names.count >= 12 else { throw TaskError.notSingleToken(" " + (Lexicon.names.first ?? ""), role: "IOI name") }
        // A name opening the text would be a different token (no leading space) from its later
        // mentions, as in GPT-2; the IOI paper's prompts have every name mid-sentence, so these do too.
        func opensWithName(_ d: Draw) -> Bool { d.clean.hasPrefix(d.story.indirectObject) || d.clean.hasPrefix(d.story.subject) }
        let positives = try builder.sample(count, seed: seed) { rng in
            let d = draw(names: names, using: &rng)
            guard builder.admits(d.clean), !opensWithName(d) else { return nil }
            let tokens = builder.tokens(d.clean), corruptedTokens = builder.tokens(d.corrupted)
            guard tokens.count == corruptedTokens.count else { return nil }
            return TaskPrompt(text: d.clean, tokens: tokens, answers: [try builder.single(" " + d.story.indirectObject, role: "IOI name")],
                              wrongAnswers: [try builder.single(" " + d.story.subject, role: "IOI name")],
                              corruptedText: d.corrupted, corruptedTokens: corruptedTokens)
        }
        let negatives = try builder.sample(count, seed: seed &+ 1) { rng in
            let d = draw(names: names, using: &rng)
            guard builder.admits(d.corrupted), !opensWithName(d) else { return nil }
            return TaskPrompt(text: d.corrupted, tokens: builder.tokens(d.corrupted),
                              answers: [try builder.single(" " + d.story.indirectObject, role: "IOI name")],
                              wrongAnswers: [try builder.single(" " + d.third, role: "IOI name")])
        }
        return TaskDataset(task: name, metric: metric, positives: positives, negatives: negatives)
    }
}
