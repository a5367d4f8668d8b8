import Foundation
import XCTest
@testable import MechanicTraining
import MechanicCorpus
import MechanicModel
import MechanicTensor
import MechanicTokenizer

/// Mixed training data (reference model v2): rows cut from a text stream or generated as copy
/// blocks, at each curriculum stage's generated share; seeded, and resumed exactly.
final class MixedDataTests: XCTestCase {
    // 9 tokens: a stream over 0..<8 with no repeats of length ≥ 3, blocks with separator 8.
    let config = TransformerConfig(layers: 2, heads: 2, dModel: 16, contextLength: 16, vocabSize: 9, attentionOnly: true,
                                   bosTokenID: 8, eosTokenID: 8)
    let blocks = InductionBlocks(separator: 8, spanLengths: 2...5, prefixLengths: 0...3, gapShare: 0,
                                 skipBigramShare: 0, phase: 4, permutationSeed: 1)
    let stream = (0..<400).map { ($0 * 5 + $0 / 8) % 8 }

    func settings(steps: Int, shares: (Double, Double, Double)) -> TrainingSettings {
        TrainingSettings(steps: steps, batchSize: 2, sequenceLength: 16,
                         schedule: LearningRateSchedule(peak: 1e-2, minimum: 1e-2, warmupSteps: 2, totalSteps: steps),
                         optimizer: .init(weightDecay: 0), evaluationInterval: 4, evaluationWindows: 4, checkpointInterval: 0, seed: 3,
                         curriculum: SequenceLengthCurriculum([.init(length: 4, steps: 3, generatedShare: shares.0),
                                                               .init(length: 8, steps: 3, generatedShare: shares.1)],
                                                              finalGeneratedShare: shares.2))
    }

    func testGeneratedShareFollowsTheStages() {
        let c = SequenceLengthCurriculum.version2
        XCTAssertEqual([0, 2499, 2500, 3499, 3500, 4499, 4500, 9000].map(c.generatedShare(at:)), [0.8, 0.8, 0.5, 0.5, 0.35, 0.35, 0.25, 0.25])
        XCTAssertEqual(SequenceLengthCurriculum.e17.generatedShare(at: 0), 0, "no shares given: none")
        XCTAssertEqual(c.scaled(by: 0.5).stages.map(\.generatedShare), c.stages.map(\.generatedShare))
        XCTAssertEqual(c.scaled(by: 0.5).finalGeneratedShare, 0.25)
        var bad = c
        bad.stages[1].generatedShare = 1.5
        XCTAssertEqual(bad.problem(tokensPerStep: 4096, full: 256), "curriculum generated share 1.5 must be between 0 and 1")
        bad = c
        bad.finalGeneratedShare = -0.1
        XCTAssertNotNil(bad.problem(tokensPerStep: 4096, full: 256))
    }

    /// A share of 0 takes every row from the stream, 1 every row from the generator, and a share
    /// in between both, in about that proportion.
    func testRowsComeFromTheStreamOrTheGeneratorAtTheShare() throws {
        var sampler = try BatchSampler(data: .mixed(stream: stream, generator: blocks), batchSize: 400, sequenceLength: 16, seed: 5)
        func generatedRows(_ share: Double) -> Int {
            let (inputs, _) = sampler.next(batchSize: 400, sequenceLength: 16, generatedShare: share)
            // Only generated rows hold the separator (the stream has no 8) within a row of 16 + phase.
            return rows(inputs).filter { $0.contains(8) }.count
        }
        XCTAssertEqual(generatedRows(0), 0)
        XCTAssertEqual(generatedRows(1), 400)
        let half = generatedRows(0.5)
        XCTAssertTrue((150...250).contains(half), "\(half) of 400 rows generated at share 0.5")
        // Stream rows are windows of the stream; targets are the inputs shifted by one.
        let (inputs, targets) = sampler.next(batchSize: 20, sequenceLength: 16, generatedShare: 0)
        for (row, target) in zip(rows(inputs), targets) {
            XCTAssertTrue((0...(stream.count - 17)).contains { stream[$0..<($0 + 16)].elementsEqual(row) })
            XCTAssertEqual(Array(row.dropFirst()), Array(target.dropLast()))
        }
    }

    /// The batch's rows, `[batch][positions]`.
    func rows(_ batch: TokenBatch) -> [[Int]] {
        (0..<batch.batch).map { b in batch.ids[(b * batch.positions)..<((b + 1) * batch.positions)].map(Int.init) }
    }

    /// A stage's alphabet limits the generated rows' random tokens; without one the whole
    /// alphabet is drawn, exactly as before alphabets existed.
    func testGeneratedAlphabetLimitsTheRandomTokens() throws {
        let wide = InductionBlocks(separator: 2047, gapShare: 0, skipBigramShare: 0)
        var rng = SeededRandom(seed: 4)
        let narrow = wide.row(length: 3000, window: 64, alphabet: 256, using: &rng)
        XCTAssertTrue(narrow.allSatisfy { $0 < 256 || $0 == 2047 })
        rng = SeededRandom(seed: 4)
        let full = wide.row(length: 3000, window: 64, using: &rng)
        XCTAssertGreaterThan(full.filter { $0 >= 256 && $0 != 2047 }.count, 2000)
        var a = SeededRandom(seed: 4), b = SeededRandom(seed: 4)
        XCTAssertEqual(wide.row(length: 500, window: 64, alphabet: 2047, using: &a), wide.row(length: 500, window: 64, using: &b))
        let c = SequenceLengthCurriculum([.init(length: 4, steps: 2, generatedAlphabet: 16), .init(length: 8, steps: 2)])
        XCTAssertEqual((0..<6).map(c.generatedAlphabet(at:)), [16, 16, nil, nil, nil, nil])
        XCTAssertEqual(c.scaled(by: 2).stages.map(\.generatedAlphabet), [16, nil])
        XCTAssertEqual(SequenceLengthCurriculum([.init(length: 4, steps: 2, generatedAlphabet: 1)]).problem(tokensPerStep: 8, full: 8),
                       "curriculum generated alphabet 1 must be at least 2 tokens")
    }

    func testMixedRunsAreSeededAndResumeExactly() throws {
        let heldOut = Array(stream.prefix(100))
        let s = settings(steps: 10, shares: (0.8, 0.5, 0.25))
        var straight = try Trainer(config: config, settings: s, data: .mixed(stream: stream, generator: blocks), heldOut: heldOut)
        while !straight.isFinished { try straight.trainStep() }
        var again = try Trainer(config: config, settings: s, data: .mixed(stream: stream, generator: blocks), heldOut: heldOut)
        while !again.isFinished { try again.trainStep() }
        XCTAssertEqual(again.log.map(\.loss), straight.log.map(\.loss), "same seed, same run")
        var streamOnly = try Trainer(config: config, settings: settings(steps: 10, shares: (0, 0, 0)),
                                     data: .mixed(stream: stream, generator: blocks), heldOut: heldOut)
        while !streamOnly.isFinished { try streamOnly.trainStep() }
        XCTAssertNotEqual(streamOnly.log.map(\.loss), straight.log.map(\.loss), "the shares change the data")

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mixed-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        var first = try Trainer(config: config, settings: s, data: .mixed(stream: stream, generator: blocks), heldOut: heldOut)
        for _ in 0..<4 { try first.trainStep() }
        try first.save(to: folder)
        var resumed = try Trainer.resume(folder: folder, data: .mixed(stream: stream, generator: blocks), heldOut: heldOut)
        while !resumed.isFinished { try resumed.trainStep() }
        XCTAssertEqual(resumed.log.map(\.loss), straight.log.map(\.loss))
        for (path, keyPath) in TransformerWeights.parameterKeyPaths(for: config) {
            XCTAssertEqual(resumed.model.weights[keyPath: keyPath], straight.model.weights[keyPath: keyPath], path)
        }
        var other = blocks
        other.gapShare = 0.5
        for data in [TrainingData.mixed(stream: stream, generator: other), .mixed(stream: heldOut, generator: blocks),
                     .stream(stream), .generated(blocks)] {
            XCTAssertThrowsError(try Trainer.resume(folder: folder, data: data, heldOut: heldOut)) {
                guard case TrainingError.resumeMismatch = $0 else { return XCTFail("\($0)") }
            }
        }
    }

    func testVersion2RecipesShareEverythingButTheMLPs() throws {
        let mlp = ReferenceRecipe.version2, attn = ReferenceRecipe.attentionOnlyVersion2
        XCTAssertEqual(ReferenceRecipe.named("mechanic-v2"), mlp)
        XCTAssertEqual(ReferenceRecipe.named("attn-only-v2"), attn)
        XCTAssertEqual([mlp.layers, mlp.heads, mlp.dModel, mlp.contextLength, mlp.vocabularySize], [6, 8, 128, 256, 2048])
        XCTAssertFalse(mlp.attentionOnly)
        XCTAssertFalse(mlp.isBlocksOnly)
        XCTAssertEqual(mlp.blocks?.separator, 2047, "blocks end in the text vocabulary's <|endoftext|>")
        XCTAssertEqual(mlp.blocks?.gapShare, 0)
        XCTAssertNil(mlp.settings.problem(contextLength: mlp.contextLength))
        var same = attn
        (same.name, same.summary, same.attentionOnly) = (mlp.name, mlp.summary, false)
        XCTAssertEqual(same, mlp)
        // Parameters stay far under the 25 MB (float32).
        let config = mlp.config(vocabularySize: 2048, eos: 2047)
        XCTAssertLessThan(config.parameterCount * 4, 25_000_000)
    }

    func testIOIRecipesDifferOnlyInTheirTextMixAndSchedule() {
        for (base, variant, mix) in [(ReferenceRecipe.version2, ReferenceRecipe.version2IOI, CorpusMix.version2IOI),
                                     (.attentionOnlyVersion2, .attentionOnlyVersion2IOI, .version2IOI),
                                     (.version2, .version2Drill, .version2Drill),
                                     (.attentionOnlyVersion2, .attentionOnlyVersion2Drill, .version2Drill)] {
            XCTAssertEqual(ReferenceRecipe.named(variant.name), variant)
            XCTAssertEqual(variant.mix, mix)
            XCTAssertGreaterThanOrEqual(mix.probability(of: .narrative), 0.3, "a language-model share of 30–50%")
            var same = variant
            (same.name, same.summary, same.mix) = (base.name, base.summary, base.mix)
            XCTAssertEqual(same, base)
        }
        for (base, constant) in [(ReferenceRecipe.attentionOnlyVersion2Drill, ReferenceRecipe.attentionOnlyVersion2DrillConstant),
                                 (.version2Drill, .version2DrillConstant)] {
            XCTAssertEqual(ReferenceRecipe.named(base.name + "-constant"), constant)
            XCTAssertEqual(constant.settings.schedule.rate(at: 5000), 1e-3)
            XCTAssertLessThan(base.settings.schedule.rate(at: 5000), 2e-4)
            var same = constant
            (same.name, same.summary, same.settings.schedule) = (base.name, base.summary, base.settings.schedule)
            XCTAssertEqual(same, base)
        }
        let narrow = ReferenceRecipe.version2DrillConstantNarrow
        XCTAssertEqual(ReferenceRecipe.named("mechanic-v2-drill-constant-narrow"), narrow)
        XCTAssertEqual(narrow.config(vocabularySize: 2048, eos: 2047).dMLP, 128)
        XCTAssertEqual(ReferenceRecipe.version2DrillConstant.config(vocabularySize: 2048, eos: 2047).dMLP, 512)
        XCTAssertNil(ReferenceRecipe.attentionOnlyVersion2.config(vocabularySize: 2048, eos: 2047).innerDimension)
        var wide = narrow
        (wide.name, wide.summary, wide.mlpWidth) = (ReferenceRecipe.version2DrillConstant.name, ReferenceRecipe.version2DrillConstant.summary, nil)
        XCTAssertEqual(wide, .version2DrillConstant)
        let probe = ReferenceRecipe.probeIOI
        XCTAssertEqual(ReferenceRecipe.named("probe-ioi"), probe)
        XCTAssertNil(probe.blocks)
        XCTAssertNil(probe.repeatShare)
        XCTAssertEqual(probe.mix.probability(of: .ioiDrill) + probe.mix.probability(of: .ioiStoryDense), 1)
        XCTAssertNil(probe.settings.problem(contextLength: probe.contextLength))
    }

    func testLowSkipRecipesDifferOnlyInSkipBigramsAndTheFirstStage() {
        for (base, low) in [(ReferenceRecipe.version2, ReferenceRecipe.version2LowSkip),
                            (.attentionOnlyVersion2, .attentionOnlyVersion2LowSkip)] {
            XCTAssertEqual(ReferenceRecipe.named(base.name + "-lowskip"), low)
            XCTAssertEqual(low.blocks?.skipBigramShare, 0.1)
            XCTAssertEqual(low.settings.curriculum?.generatedShare(at: 0), 1)
            var same = low
            (same.name, same.summary) = (base.name, base.summary)
            same.blocks?.skipBigramShare = base.blocks!.skipBigramShare
            same.settings.curriculum?.stages[0].generatedShare = base.settings.curriculum?.stages[0].generatedShare
            XCTAssertEqual(same, base)
        }
    }

    /// A recipe with text and blocks prepares both, and refuses blocks whose separator is not the
    /// text vocabulary's `<|endoftext|>`.
    func testPreparedCorpusMixesTextAndBlocks() throws {
        var r = ReferenceRecipe.smoke
        r.repeatShare = 0.25
        r.mix = .version2
        r.blocks = InductionBlocks(separator: r.vocabularySize - 1, gapShare: 0)
        let corpus = try PreparedCorpus(recipe: r)
        XCTAssertEqual(corpus.tokenizer.eosID, r.vocabularySize - 1)
        guard case .mixed(let training, let generator) = corpus.trainingData else { return XCTFail("not mixed") }
        XCTAssertFalse(training.isEmpty)
        XCTAssertEqual(generator, r.blocks)
        r.blocks?.separator = 256
        XCTAssertThrowsError(try PreparedCorpus(recipe: r)) {
            guard case TrainingError.invalidSetting = $0 else { return XCTFail("\($0)") }
        }
    }
}
