/// Short training windows first, the full context later, at a constant number of tokens per step:
/// the batch grows as the window shrinks.
///
/// A 2-layer attention-only model trained on 64 tokens or more from step 0 stays on the "copy
/// some earlier token" plateau for thousands of steps; 32-token windows reach the induction
/// phase change first, and doubling the window every ~1,000 steps keeps it (run e17 of
/// `scripts/induction_recipe_pytorch.py`). The schedule is a pure function of the step, so a
/// resumed run trains on the same windows as an uninterrupted one.
public struct SequenceLengthCurriculum: Codable, Equatable, Sendable {
    /// `steps` updates on windows of `length` tokens.
    public struct Stage: Codable, Equatable, Sendable {
        public var length: Int
        public var steps: Int
        /// On mixed data (``TrainingData/mixed(stream:generator:)``), the share of rows generated
        /// rather than cut from the stream during the stage (nil: unused).
        public var generatedShare: Double? = nil
        /// Generated rows draw their random tokens from ids below this during the stage (nil:
        /// the generator's whole alphabet): fewer tokens, each seen more often, while the
        /// copying heads form.
        public var generatedAlphabet: Int? = nil

        public init(length: Int, steps: Int, generatedShare: Double? = nil, generatedAlphabet: Int? = nil) {
            self.length = length
            self.steps = steps
            self.generatedShare = generatedShare
            self.generatedAlphabet = generatedAlphabet
        }
    }

    /// The stages in order; after the last one training uses the full sequence length.
    public var stages: [Stage]
    /// On mixed data, the share of generated rows after the stages (nil: unused).
    public var finalGeneratedShare: Double? = nil

    public init(_ stages: [Stage], finalGeneratedShare: Double? = nil) {
        self.stages = stages
        self.finalGeneratedShare = finalGeneratedShare
    }

    /// e17's curriculum: 3,000 steps of 32 tokens, then 1,000 each of 64 and 128 (then the full 256).
    public static let e17 = SequenceLengthCurriculum([.init(length: 32, steps: 3000), .init(length: 64, steps: 1000),
                                                      .init(length: 128, steps: 1000)])

    /// Reference model v2's curriculum (4,096 tokens per step): e17's short windows first with
    /// mostly generated copy blocks, then longer windows with ever more corpus text, so induction
    /// forms early and the language and IOI stories fill the later steps. The blocks' random
    /// tokens start from the first 512 ids (bytes and the most frequent merges; e17 learned on
    /// 256) and widen to 1,024, then to the whole vocabulary: on all 2,048 from step 0, a 6-layer
    /// model showed no copying after 2,500 steps.
    public static let version2 = SequenceLengthCurriculum(
        [.init(length: 32, steps: 2500, generatedShare: 0.8, generatedAlphabet: 512),
         .init(length: 64, steps: 1000, generatedShare: 0.5, generatedAlphabet: 1024),
         .init(length: 128, steps: 1000, generatedShare: 0.35)],
        finalGeneratedShare: 0.25)

    /// The stage of update number `step` (0-based), or nil once the stages are over.
    public func stage(at step: Int) -> Stage? {
        var end = 0
        for stage in stages {
            end += stage.steps
            if step < end { return stage }
        }
        return nil
    }

    /// The share of generated rows at update number `step` on mixed data (0 when the curriculum gives none).
    public func generatedShare(at step: Int) -> Double {
        guard let stage = stage(at: step) else { return finalGeneratedShare ?? 0 }
        return stage.generatedShare ?? 0
    }

    /// The alphabet of generated rows at update number `step` (nil: the generator's own).
    public func generatedAlphabet(at step: Int) -> Int? { stage(at: step)?.generatedAlphabet }

    /// Steps covered by the stages.
    public var stagedSteps: Int { stages.reduce(0) { $0 + $1.steps } }

    /// The window length of update number `step` (0-based): the stage's, or `full` after the stages.
    public func length(at step: Int, full: Int) -> Int { stage(at: step)?.length ?? full }

    /// The same curriculum with every stage scaled by `factor` (at least one step each), for a
    /// run stretched or shortened to another number of steps.
    public func scaled(by factor: Double) -> SequenceLengthCurriculum {
        SequenceLengthCurriculum(stages.map { Stage(length: $0.length, steps: max(1, Int((Double($0.steps) * factor).rounded())),
                                                    generatedShare: $0.generatedShare, generatedAlphabet: $0.generatedAlphabet) },
                                 finalGeneratedShare: finalGeneratedShare)
    }

    /// Why the curriculum cannot be used with `tokensPerStep` tokens per step and windows of at
    /// most `full` tokens, or `nil`.
    public func problem(tokensPerStep: Int, full: Int) -> String? {
        for stage in stages {
            if stage.steps < 1 { return "curriculum stage of \(stage.length) tokens must last at least 1 step" }
            if stage.length < 2 || stage.length > full {
                return "curriculum window \(stage.length) must be between 2 and the sequence length \(full)"
            }
            if tokensPerStep % stage.length != 0 {
                return "curriculum window \(stage.length) must divide the \(tokensPerStep) tokens per step"
            }
            if let share = stage.generatedShare, !(0...1).contains(share) {
                return "curriculum generated share \(share) must be between 0 and 1"
            }
            if let alphabet = stage.generatedAlphabet, alphabet < 2 {
                return "curriculum generated alphabet \(alphabet) must be at least 2 tokens"
            }
        }
        if let share = finalGeneratedShare, !(0...1).contains(share) {
            return "curriculum generated share \(share) must be between 0 and 1"
        }
        return nil
    }
}
