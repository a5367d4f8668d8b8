import MechanicCorpus
import MechanicTensor

/// Reference models v2: corpus v2 (IOI stories, narratives, repeated spans), 6 layers.
extension ReferenceRecipe {
    /// The first v2 recipe with MLPs (d_model 256, 1,800 steps of 8 × 256 tokens, no curriculum):
    /// in 59 minutes it learned no in-context copying (README, "Reference models v2"); kept so that finding reproduces.
    public static let sixLayer = ReferenceRecipe(
        name: "mechanic-6l", summary: "6-layer GPT-2 (8 heads, d_model 256, MLPs) trained on corpus v2 (IOI stories, narratives, repeated spans)",
        layers: 6, heads: 8, dModel: 256, contextLength: 256, attentionOnly: false,
        corpusSeed: 2026, trainingBytes: 24_000_000, heldOutBytes: 400_000, mix: .version2, vocabularySize: 2048,
        settings: TrainingSettings(
            steps: 1800, batchSize: 8, sequenceLength: 256,
            schedule: LearningRateSchedule(peak: 2e-3, minimum: 2e-4, warmupSteps: 150, totalSteps: 1800),
            clipNorm: 1, evaluationInterval: 100, evaluationWindows: 16, checkpointInterval: 250, seed: 11),
        repeatShare: 0.25)

    /// The first v2 recipe without MLPs: `sixLayer` with its MLPs removed, same corpus and settings.
    public static let attentionOnly6L: ReferenceRecipe = {
        var r = sixLayer
        r.name = "mechanic-attn-only-6l"
        r.summary = "6-layer attention-only transformer (8 heads, d_model 256) trained on corpus v2"
        r.attentionOnly = true
        return r
    }()

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

    /// ``version2`` and ``attentionOnlyVersion2`` on ``CorpusMix/version2IOI``: the same blocks,
    /// curriculum and steps, with about 3.3 times the IOI answers per text document.
    public static let version2IOI = withMix(version2, .version2IOI, suffix: "-ioi", ioiHeavyText)
    public static let attentionOnlyVersion2IOI = withMix(attentionOnlyVersion2, .version2IOI, suffix: "-ioi", ioiHeavyText)
    static let ioiHeavyText = "IOI-heavy text (dense IOI stories 55%, narrative 30%)"

    /// ``version2`` and ``attentionOnlyVersion2`` on ``CorpusMix/version2Drill``: bare IOI
    /// episodes packed four to eight to a document, so short windows hold whole ones.
    public static let version2Drill = withMix(version2, .version2Drill, suffix: "-drill", drillText)
    public static let attentionOnlyVersion2Drill = withMix(attentionOnlyVersion2, .version2Drill, suffix: "-drill", drillText)
    static let drillText = "IOI drill (bare episodes 30%, dense IOI stories 25%, narrative 30%)"

    /// ``attentionOnlyVersion2Drill`` at a constant 1e-3: the IOI probe (``probeIOI``) learned IOI
    /// at that rate between steps 1,500 and 3,000, while the v2 schedule has decayed to a third of it
    /// by the time windows hold whole IOI stories. Does the decay, rather than the dilution, stop it?
    public static let attentionOnlyVersion2DrillConstant = constantRate(attentionOnlyVersion2Drill)

    /// ``version2Drill`` (MLPs) at a constant 1e-3: the rate that gave the attention-only drill
    /// model its duplicate-token → S-inhibition → name-mover chain.
    public static let version2DrillConstant = constantRate(version2Drill)

    /// ``version2DrillConstant`` with MLPs one d_model wide (128, not 512): two seeds of the full-width
    /// model learned IOI through copying heads and MLPs, without the duplicate-token → S-inhibition →
    /// name-mover chain that the attention-only model formed. Does narrowing the MLPs push IOI back
    /// into attention while keeping GPT-2's architecture?
    public static let version2DrillConstantNarrow: ReferenceRecipe = {
        var r = version2DrillConstant
        r.name += "-narrow"
        r.summary += "; MLPs 128 wide (1 × d_model)"
        r.mlpWidth = r.dModel
        return r
    }()

    static func constantRate(_ base: ReferenceRecipe) -> ReferenceRecipe {
        var r = base
        r.name += "-constant"
        r.summary += "; learning rate 1e-3 constant"
        r.settings.schedule.minimum = r.settings.schedule.peak
        return r
    }

    static func withMix(_ base: ReferenceRecipe, _ mix: CorpusMix, suffix: String, _ what: String) -> ReferenceRecipe {
        var r = base
        r.name = base.name + suffix
        r.summary = base.summary + "; " + what
        r.mix = mix
        return r
    }

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
}
