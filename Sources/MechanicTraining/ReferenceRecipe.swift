import Foundation
import MechanicCorpus
import MechanicModel
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

    public static let all: [ReferenceRecipe] = [.mini, .attentionOnly4L, .smoke]

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

    /// Generates the recipe's text, builds its vocabulary and tokenizes both splits.
    public init(recipe: ReferenceRecipe) throws {
        let trainText = CorpusGenerator(seed: recipe.corpusSeed, mix: recipe.mix, split: .train).text(minimumBytes: recipe.trainingBytes)
        let heldOutText = CorpusGenerator(seed: recipe.corpusSeed, mix: recipe.mix, split: .heldOut).text(minimumBytes: recipe.heldOutBytes)
        let built = try VocabularyBuilder.build(from: trainText, size: recipe.vocabularySize, required: VocabularyBuilder.standardRequired)
        vocabulary = built.vocab
        merges = built.merges
        tokenizer = try GPT2Tokenizer(vocabulary: built.vocab, merges: built.merges)
        training = tokenizer.encode(trainText)
        heldOut = tokenizer.encode(heldOutText)
    }

    /// Writes `vocab.json` and `merges.txt` into `folder`; returns their URLs.
    public func writeTokenizer(to folder: URL) throws -> [URL] {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try VocabularyBuilder.write(vocab: vocabulary, merges: merges, to: folder)
        return [folder.appendingPathComponent("vocab.json"), folder.appendingPathComponent("merges.txt")]
    }
}
