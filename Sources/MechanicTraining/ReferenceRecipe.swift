import Foundation
import MechanicCorpus
import MechanicModel
import MechanicTensor
import MechanicTokenizer

/// Everything that makes one of Mechanic's reference models: architecture, corpus, vocabulary
/// and training settings. `mechanic train --recipe NAME` runs it; the same recipe and seed give
/// the same weights.
public struct ReferenceRecipe: Codable, Equatable, Sendable {
    public var name: String
    public var summary: String
    public var layers: Int
    public var heads: Int
    public var dModel: Int
    public var contextLength: Int
    public var attentionOnly: Bool
    /// Seed of the corpus text (the training seed is in `settings`).
    public var corpusSeed: UInt64
    /// Bytes of training text to generate and tokenize.
    public var trainingBytes: Int
    /// Bytes of held-out text (disjoint prompts) for evaluation.
    public var heldOutBytes: Int
    public var mix: CorpusMix
    public var vocabularySize: Int
    public var settings: TrainingSettings
    /// Corpus v2: the share of training and held-out tokens that are `RepeatDocuments`
    /// (token-level repeated spans for induction); nil for v1 recipes, which have none.
    public var repeatShare: Double? = nil
    /// Token-level training rows generated on demand: instead of text (with a byte vocabulary)
    /// when `trainingBytes` is 0, else beside the text corpus at the curriculum's generated
    /// shares (the separator must then be the corpus vocabulary's `<|endoftext|>`); nil for
    /// recipes trained on a text corpus only.
    public var blocks: InductionBlocks? = nil

    /// Whether the model was trained on generated blocks alone, with a byte vocabulary and no text.
    public var isBlocksOnly: Bool { blocks != nil && trainingBytes == 0 }

    /// The GPT-2 configuration for a vocabulary of `vocabularySize` tokens.
    public func config(vocabularySize: Int, eos: Int) -> TransformerConfig {
        TransformerConfig(layers: layers, heads: heads, dModel: dModel, contextLength: contextLength, vocabSize: vocabularySize,
                   attentionOnly: attentionOnly, bosTokenID: eos, eosTokenID: eos)
    }

    /// The multi-task GPT-2-architecture model (MLPs included).
    public static let mini = ReferenceRecipe(
        name: "mechanic-mini", summary: "4-layer GPT-2 (8 heads, d_model 256, MLPs) trained on the synthetic task corpus",
        layers: 4, heads: 8, dModel: 256, contextLength: 128, attentionOnly: false,
        corpusSeed: 2024, trainingBytes: 20_000_000, heldOutBytes: 400_000, mix: .circuitHeavy, vocabularySize: 2048,
        settings: TrainingSettings(
            steps: 5000, batchSize: 16, sequenceLength: 128,
            schedule: LearningRateSchedule(peak: 2e-3, minimum: 2e-4, warmupSteps: 200, totalSteps: 5000),
            clipNorm: 1, evaluationInterval: 100, evaluationWindows: 32, checkpointInterval: 250, seed: 7))

    /// The attention-only model, in the style of TransformerLens `attn-only-4l`.
    public static let attentionOnly4L = ReferenceRecipe(
        name: "mechanic-attn-only-4l", summary: "4-layer attention-only transformer (8 heads, d_model 256) trained on the synthetic task corpus",
        layers: 4, heads: 8, dModel: 256, contextLength: 128, attentionOnly: true,
        corpusSeed: 2024, trainingBytes: 20_000_000, heldOutBytes: 400_000, mix: .circuitHeavy, vocabularySize: 2048,
        settings: TrainingSettings(
            steps: 5000, batchSize: 16, sequenceLength: 128,
            schedule: LearningRateSchedule(peak: 2e-3, minimum: 2e-4, warmupSteps: 200, totalSteps: 5000),
            clipNorm: 1, evaluationInterval: 100, evaluationWindows: 32, checkpointInterval: 250, seed: 7))

    /// A tiny recipe for tests and smoke runs (seconds, not minutes).
    public static let smoke = ReferenceRecipe(
        name: "smoke", summary: "a 2-layer toy for smoke tests",
        layers: 2, heads: 2, dModel: 32, contextLength: 64, attentionOnly: false,
        corpusSeed: 1, trainingBytes: 300_000, heldOutBytes: 20_000, mix: .standard, vocabularySize: 1800,
        settings: TrainingSettings(
            steps: 20, batchSize: 4, sequenceLength: 32,
            schedule: LearningRateSchedule(peak: 3e-3, minimum: 3e-4, warmupSteps: 5, totalSteps: 20),
            clipNorm: 1, evaluationInterval: 10, evaluationWindows: 4, checkpointInterval: 10, seed: 1))

    /// Reference model v2 with MLPs (GPT-2 architecture), deep enough for the previous-token →
    /// induction and duplicate-token → S-inhibition → name-mover chains, trained on corpus v2.
    public static let sixLayer = ReferenceRecipe(
        name: "mechanic-6l", summary: "6-layer GPT-2 (8 heads, d_model 256, MLPs) trained on corpus v2 (IOI stories, narratives, repeated spans)",
        layers: 6, heads: 8, dModel: 256, contextLength: 256, attentionOnly: false,
        corpusSeed: 2026, trainingBytes: 24_000_000, heldOutBytes: 400_000, mix: .version2, vocabularySize: 2048,
        settings: TrainingSettings(
            steps: 1800, batchSize: 8, sequenceLength: 256,
            schedule: LearningRateSchedule(peak: 2e-3, minimum: 2e-4, warmupSteps: 150, totalSteps: 1800),
            clipNorm: 1, evaluationInterval: 100, evaluationWindows: 16, checkpointInterval: 250, seed: 11),
        repeatShare: 0.25)

    /// Reference model v2 without MLPs, in the style of TransformerLens `attn-only-*l`: `sixLayer`
    /// with its MLPs removed, same corpus and settings.
    public static let attentionOnly6L: ReferenceRecipe = {
        var r = sixLayer
        r.name = "mechanic-attn-only-6l"
        r.summary = "6-layer attention-only transformer (8 heads, d_model 256) trained on corpus v2"
        r.attentionOnly = true
        return r
    }()

    /// A 2-layer attention-only probe on corpus v2, minutes to train: whether the corpus and the
    /// trainer teach induction at all, apart from how many tokens a 6-layer model needs. `sixLayer`'s
    /// corpus and optimiser, a smaller shape and 1,500 steps.
    public static let probe2L: ReferenceRecipe = {
        var r = sixLayer
        r.name = "probe-2l"
        r.summary = "2-layer attention-only probe (8 heads, d_model 128) on corpus v2"
        (r.layers, r.dModel, r.attentionOnly) = (2, 128, true)
        r.settings.steps = 1500
        r.settings.schedule = LearningRateSchedule(peak: 2e-3, minimum: 2e-4, warmupSteps: 100, totalSteps: 1500)
        return r
    }()

    /// The probe with four fifths of its tokens in repeat documents: does dense repetition teach induction?
    public static let probe2LDense: ReferenceRecipe = {
        var r = probe2L
        r.name = "probe-2l-dense"
        r.summary = "2-layer attention-only probe on corpus v2 with 80% of tokens in repeat documents"
        r.repeatShare = 0.8
        r.settings.steps = 800
        r.settings.schedule.totalSteps = 800
        return r
    }()

    /// The recipe that taught a 2-layer attention-only model in-context copying in PyTorch (run
    /// e17 of `scripts/induction_recipe_pytorch.py`), in Mechanic: e17's shape (8 heads, d_model
    /// 128, context 256, GPT-2 init, tied unembedding), its data (``InductionBlocks``: repeated
    /// spans with random gaps, a quarter of blocks skip-bigram) over 256 byte tokens plus
    /// `<|endoftext|>` (e17: 255 plus a separator), its optimiser (AdamW 0.9/0.95 without weight
    /// decay, 1e-3 constant after 100 warm-up steps, clip 1) and its curriculum (32-token windows
    /// for 3,000 steps, then 64 and 128 for 1,000 each, then 256), at 4,096 tokens per step for
    /// 6,000 steps (24.6 M tokens).
    public static let probe2LCurriculum: ReferenceRecipe = {
        var r = probe2L
        r.name = "probe-2l-curriculum"
        r.summary = "2-layer attention-only probe (8 heads, d_model 128) on e17's copy blocks, windows 32 → 256"
        (r.corpusSeed, r.trainingBytes, r.heldOutBytes, r.vocabularySize, r.repeatShare) = (0, 0, 0, 257, nil)
        r.blocks = InductionBlocks()
        r.settings = TrainingSettings(
            steps: 6000, batchSize: 16, sequenceLength: 256,
            schedule: LearningRateSchedule(peak: 1e-3, minimum: 1e-3, warmupSteps: 100, totalSteps: 6000),
            optimizer: .init(weightDecay: 0), clipNorm: 1, evaluationInterval: 250, evaluationWindows: 16,
            checkpointInterval: 250, seed: 0, curriculum: .e17)
        return r
    }()

    /// Tests whether the skip-bigram blocks shift the induction head to i − n + 2: `probe2LCurriculum` without them.
    public static let probe2LCurriculumNoSkip = probe2LCurriculum(
        without: "noskip", summary: "skip-bigram blocks (copy blocks only)", blocks: InductionBlocks(skipBigramShare: 0))

    /// Tests whether the random gaps between the copies shift the induction head to i − n + 2: `probe2LCurriculum` without them.
    public static let probe2LCurriculumNoGap = probe2LCurriculum(
        without: "nogap", summary: "gaps between the copies (prefix + R + R)", blocks: InductionBlocks(gapShare: 0))

    /// `probe2LCurriculum` with other blocks, named `probe-2l-curriculum-<suffix>`: a data ablation.
    static func probe2LCurriculum(without suffix: String, summary: String, blocks: InductionBlocks) -> ReferenceRecipe {
        var r = probe2LCurriculum
        r.name = "probe-2l-curriculum-" + suffix
        r.summary = "probe-2l-curriculum without " + summary + ", windows 32 → 256"
        r.blocks = blocks
        return r
    }

    /// Reference model v2 with MLPs: 6 layers at d_model 128 (8 heads of 16), corpus v2's text
    /// (IOI stories, narratives, repeated spans) mixed with generated copy blocks over the whole
    /// vocabulary, under ``SequenceLengthCurriculum/version2``: what taught the 2-layer probe
    /// induction (short windows first, skip-bigram blocks for a previous-token head, no gaps
    /// between the copies, which shifted its head to i − n + 2), then ever more text. AdamW
    /// without weight decay, 1e-3 cosine to 1e-4; 5,500 steps of 4,096 tokens (22.5 M tokens).
    public static let version2: ReferenceRecipe = {
        var r = sixLayer
        r.name = "mechanic-v2"
        r.summary = "6-layer GPT-2 (8 heads, d_model 128, MLPs) on corpus v2 mixed with copy blocks, windows 32 → 256"
        r.dModel = 128
        r.blocks = InductionBlocks(separator: r.vocabularySize - 1, spanLengths: 3...60, gapShare: 0, skipBigramShare: 0.35)
        r.settings = TrainingSettings(
            steps: 5500, batchSize: 16, sequenceLength: 256,
            schedule: LearningRateSchedule(peak: 1e-3, minimum: 1e-4, warmupSteps: 100, totalSteps: 5500),
            optimizer: .init(weightDecay: 0), clipNorm: 1, evaluationInterval: 250, evaluationWindows: 16,
            checkpointInterval: 250, seed: 11, curriculum: .version2)
        return r
    }()

    /// Reference model v2 without MLPs: ``version2`` with its MLPs removed, same data and settings.
    public static let attentionOnlyVersion2: ReferenceRecipe = {
        var r = version2
        r.name = "mechanic-attn-only-v2"
        r.summary = "6-layer attention-only transformer (8 heads, d_model 128) on corpus v2 mixed with copy blocks, windows 32 → 256"
        r.attentionOnly = true
        return r
    }()

    /// `version2` and `attentionOnlyVersion2` with fewer skip-bigram blocks (10%, not 35%) and
    /// no text in the first stage: does the "two back" feature the skip-bigram rule trains, or
    /// the gapped repeats of the text, shift the induction heads to i − n + 2?
    public static let version2LowSkip = lowSkip(version2)
    public static let attentionOnlyVersion2LowSkip = lowSkip(attentionOnlyVersion2)

    static func lowSkip(_ base: ReferenceRecipe) -> ReferenceRecipe {
        var r = base
        r.name = base.name + "-lowskip"
        r.summary = base.summary + "; 10% skip-bigram blocks, no text in the 32-token stage"
        r.blocks?.skipBigramShare = 0.1
        r.settings.curriculum?.stages[0].generatedShare = 1
        return r
    }

    public static let all: [ReferenceRecipe] = [.version2, .attentionOnlyVersion2, .version2LowSkip, .attentionOnlyVersion2LowSkip, .sixLayer, .attentionOnly6L, .probe2L, .probe2LDense, .probe2LCurriculum,
                                                .probe2LCurriculumNoSkip, .probe2LCurriculumNoGap, .mini, .attentionOnly4L, .smoke]

    public static func named(_ name: String) -> ReferenceRecipe? {
        all.first { $0.name == name || $0.name == "mechanic-" + name }
    }
}

/// A recipe's corpus, tokenizer and token streams.
public struct PreparedCorpus: Sendable {
    public var tokenizer: GPT2Tokenizer
    public var vocabulary: [String: Int]
    public var merges: [(String, String)]
    public var training: [Int]
    public var heldOut: [Int]
    /// The row generator of a recipe trained on generated blocks (alone: then `training` is empty).
    public var generator: InductionBlocks? = nil

    /// What the trainer draws its rows from.
    public var trainingData: TrainingData {
        guard let generator else { return .stream(training) }
        return training.isEmpty ? .generated(generator) : .mixed(stream: training, generator: generator)
    }

    /// Generates the recipe's text, builds its vocabulary and tokenizes both splits; for a
    /// recipe with `blocks`, a byte vocabulary and a held-out stream of generated blocks.
    public init(recipe: ReferenceRecipe) throws {
        if let blocks = recipe.blocks, recipe.isBlocksOnly {
            let built = VocabularyBuilder.bytesOnly()
            (vocabulary, merges) = (built.vocab, built.merges)
            tokenizer = try GPT2Tokenizer(vocabulary: built.vocab, merges: built.merges)
            guard tokenizer.eosID == blocks.separator else {
                throw TrainingError.invalidSetting("the blocks' separator \(blocks.separator) must be <|endoftext|> (\(tokenizer.eosID))")
            }
            generator = blocks
            training = []
            let s = recipe.settings
            heldOut = blocks.stream(count: (s.evaluationWindows + 1) * s.sequenceLength + 1, window: s.sequenceLength,
                                    seed: ~recipe.corpusSeed)
            return
        }
        let trainText = CorpusGenerator(seed: recipe.corpusSeed, mix: recipe.mix, split: .train).text(minimumBytes: recipe.trainingBytes)
        let heldOutText = CorpusGenerator(seed: recipe.corpusSeed, mix: recipe.mix, split: .heldOut).text(minimumBytes: recipe.heldOutBytes)
        let built = try VocabularyBuilder.build(from: trainText, size: recipe.vocabularySize, required: VocabularyBuilder.standardRequired)
        vocabulary = built.vocab
        merges = built.merges
        tokenizer = try GPT2Tokenizer(vocabulary: built.vocab, merges: built.merges)
        training = tokenizer.encode(trainText)
        heldOut = tokenizer.encode(heldOutText)
        if let share = recipe.repeatShare, share > 0 {
            let repeats = RepeatDocuments(vocabularySize: tokenizer.vocabularySize, excluded: [tokenizer.eosID])
            training = Self.interleave(training, repeats: repeats, share: share, eos: tokenizer.eosID, seed: recipe.corpusSeed)
            heldOut = Self.interleave(heldOut, repeats: repeats, share: share, eos: tokenizer.eosID, seed: ~recipe.corpusSeed)
        }
        if let blocks = recipe.blocks {
            guard tokenizer.eosID == blocks.separator else {
                throw TrainingError.invalidSetting("the blocks' separator \(blocks.separator) must be <|endoftext|> (\(tokenizer.eosID))")
            }
            generator = blocks
        }
    }

    /// `stream`'s documents with repeat documents inserted after them until those make up `share`
    /// of the tokens; each repeat document takes its text pieces from the stream's documents.
    static func interleave(_ stream: [Int], repeats: RepeatDocuments, share: Double, eos: Int, seed: UInt64) -> [Int] {
        let documents = stream.split(separator: eos, omittingEmptySubsequences: true).map(Array.init)
        var rng = SeededRandom(seed: seed ^ 0x5EED_2E9E_A7ED_0001)
        var out: [Int] = []
        out.reserveCapacity(Int(Double(stream.count) / (1 - min(share, 0.9))) + 1024)
        var repeated = 0
        for document in documents {
            out += document
            out.append(eos)
            while Double(repeated) < share * Double(out.count) {
                let doc = repeats.document(text: documents, using: &rng)
                repeated += doc.count + 1
                out += doc
                out.append(eos)
            }
        }
        return out
    }

    /// Writes `vocab.json` and `merges.txt` into `folder`; returns their URLs.
    public func writeTokenizer(to folder: URL) throws -> [URL] {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try VocabularyBuilder.write(vocab: vocabulary, merges: merges, to: folder)
        return [folder.appendingPathComponent("vocab.json"), folder.appendingPathComponent("merges.txt")]
    }
}
