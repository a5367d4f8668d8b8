import MechanicCorpus

/// Small probes that test a data recipe for induction in minutes, and their data ablations.
extension ReferenceRecipe {
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

    /// An IOI probe: can the v2 shape learn IOI at all from IOI text alone, apart from how the
    /// v2 recipes dilute it? The attention-only v2 model (6 layers, d_model 128) on
    /// ``CorpusMix/ioiOnly`` (drill and dense IOI stories, no copy blocks, no repeats), 64-token
    /// windows, 1e-3 constant, 3,000 steps of 4,096 tokens.
    public static let probeIOI: ReferenceRecipe = {
        var r = attentionOnlyVersion2
        r.name = "probe-ioi"
        r.summary = "6-layer attention-only probe (8 heads, d_model 128) on IOI text only, 64-token windows"
        (r.mix, r.blocks, r.repeatShare, r.trainingBytes) = (.ioiOnly, nil, nil, 12_000_000)
        r.settings.steps = 3000
        (r.settings.batchSize, r.settings.sequenceLength, r.settings.curriculum) = (64, 64, nil)
        r.settings.schedule = LearningRateSchedule(peak: 1e-3, minimum: 1e-3, warmupSteps: 100, totalSteps: 3000)
        return r
    }()
}

