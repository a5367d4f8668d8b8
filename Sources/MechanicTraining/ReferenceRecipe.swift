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
    /// Width of each MLP's hidden layer (GPT-2's `n_inner`); nil for GPT-2's 4 × d_model.
    public var mlpWidth: Int? = nil

    /// Whether the model was trained on generated blocks alone, with a byte vocabulary and no text.
    public var isBlocksOnly: Bool { blocks != nil && trainingBytes == 0 }

    /// The GPT-2 configuration for a vocabulary of `vocabularySize` tokens.
    public func config(vocabularySize: Int, eos: Int) -> TransformerConfig {
        TransformerConfig(layers: layers, heads: heads, dModel: dModel, contextLength: contextLength, vocabSize: vocabularySize,
                   innerDimension: attentionOnly ? nil : mlpWidth, attentionOnly: attentionOnly, bosTokenID: eos, eosTokenID: eos)
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

    /// Every recipe `mechanic train` knows (v2 models and their ablations in `+Version2`, probes in `+Probes`).
    public static let all: [ReferenceRecipe] = [.version2, .attentionOnlyVersion2, .version2Drill, .attentionOnlyVersion2Drill, .attentionOnlyVersion2DrillConstant, .version2DrillConstant, .version2DrillConstantNarrow, .version2IOI, .attentionOnlyVersion2IOI, .version2LowSkip, .attentionOnlyVersion2LowSkip,
                                                .sixLayer, .attentionOnly6L, .probe2L, .probe2LDense, .probe2LCurriculum,
                                                .probe2LCurriculumNoSkip, .probe2LCurriculumNoGap, .probeIOI, .mini, .attentionOnly4L, .smoke]

    public static func named(_ name: String) -> ReferenceRecipe? {
        all.first { $0.name == name || $0.name == "mechanic-" + name }
    }
}
