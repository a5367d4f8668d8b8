import Foundation
import XCTest
@testable import MechanicTraining
import MechanicCorpus
import MechanicModel
import MechanicTensor

/// The sequence-length curriculum: which window at which step, constant tokens per step, and a
/// run on generated blocks that resumes exactly.
final class CurriculumTests: XCTestCase {
    func testE17WindowsDoubleAtConstantTokensPerStep() throws {
        let settings = ReferenceRecipe.probe2LCurriculum.settings
        XCTAssertEqual(settings.tokensPerStep, 4096)
        let expected: [(step: Int, length: Int)] = [(0, 32), (2999, 32), (3000, 64), (3999, 64), (4000, 128), (4999, 128),
                                                     (5000, 256), (5999, 256), (9000, 256)]
        for (step, length) in expected {
            let shape = settings.batchShape(at: step)
            XCTAssertEqual(shape.sequenceLength, length, "window at step \(step)")
            XCTAssertEqual(shape.batchSize * shape.sequenceLength, 4096, "tokens at step \(step)")
        }
        XCTAssertEqual(settings.batchShape(at: 0).batchSize, 128)
        XCTAssertEqual(settings.batchShape(at: 5000).batchSize, 16)
        XCTAssertNil(settings.problem(contextLength: 256))
        XCTAssertEqual(SequenceLengthCurriculum.e17.scaled(by: 0.5).stages.map(\.steps), [1500, 500, 500])
        XCTAssertEqual(SequenceLengthCurriculum.e17.scaled(by: 0.0001).stages.map(\.steps), [1, 1, 1])
    }

    func testCurriculumProblemsAreReported() {
        var settings = ReferenceRecipe.probe2LCurriculum.settings
        settings.curriculum = SequenceLengthCurriculum([.init(length: 48, steps: 10)])
        XCTAssertEqual(settings.problem(contextLength: 256), "curriculum window 48 must divide the 4096 tokens per step")
        settings.curriculum = SequenceLengthCurriculum([.init(length: 512, steps: 10)])
        XCTAssertEqual(settings.problem(contextLength: 256), "curriculum window 512 must be between 2 and the sequence length 256")
        settings.curriculum = SequenceLengthCurriculum([.init(length: 32, steps: 0)])
        XCTAssertNotNil(settings.problem(contextLength: 256))
    }

    func testRecipeMatchesE17() throws {
        let r = ReferenceRecipe.probe2LCurriculum
        XCTAssertEqual(ReferenceRecipe.named("probe-2l-curriculum"), r)
        XCTAssertEqual([r.layers, r.heads, r.dModel, r.contextLength, r.vocabularySize], [2, 8, 128, 256, 257])
        XCTAssertTrue(r.attentionOnly)
        XCTAssertEqual(r.settings.steps * r.settings.tokensPerStep, 24_576_000)
        XCTAssertEqual(r.settings.optimizer.weightDecay, 0)
        XCTAssertEqual((0..<6000).map(r.settings.schedule.rate(at:)).max(), 1e-3)
        XCTAssertEqual(r.settings.schedule.rate(at: 5999), 1e-3, "constant after warm-up")
        let corpus = try PreparedCorpus(recipe: r)
        XCTAssertEqual(corpus.tokenizer.vocabularySize, 257)
        XCTAssertEqual(corpus.generator, r.blocks)
        XCTAssertTrue(corpus.training.isEmpty)
        XCTAssertGreaterThanOrEqual(corpus.heldOut.count, (r.settings.evaluationWindows + 1) * 256)
        XCTAssertTrue(corpus.heldOut.allSatisfy { $0 < 257 })
    }

    func testNoSkipRecipeDiffersOnlyInItsSkipBigramShare() throws {
        let r = ReferenceRecipe.probe2LCurriculumNoSkip
        XCTAssertEqual(ReferenceRecipe.named("probe-2l-curriculum-noskip"), r)
        XCTAssertEqual(r.blocks?.skipBigramShare, 0)
        var same = r
        (same.name, same.summary, same.blocks) = (ReferenceRecipe.probe2LCurriculum.name, ReferenceRecipe.probe2LCurriculum.summary,
                                                  ReferenceRecipe.probe2LCurriculum.blocks)
        XCTAssertEqual(same, ReferenceRecipe.probe2LCurriculum, "same shape, settings, seed and curriculum")
        var rng = SeededRandom(seed: 1)
        let row = try XCTUnwrap(r.blocks).row(length: 2000, window: 256, using: &rng)
        let blocks = row.split(separator: 256, omittingEmptySubsequences: true).dropFirst().dropLast()
        XCTAssertGreaterThan(blocks.count, 10)
        // Without skip-bigram blocks every whole block is prefix + R + gap + R (|R| ≥ 5): its last 5 tokens occur earlier in it.
        for block in blocks.map(Array.init) {
            let tail = Array(block.suffix(5))
            XCTAssertTrue((0...(block.count - 10)).contains { Array(block[$0..<($0 + 5)]) == tail }, "\(block)")
        }
    }

    func testNoGapRecipeDiffersOnlyInItsGapShare() throws {
        let r = ReferenceRecipe.probe2LCurriculumNoGap
        XCTAssertEqual(ReferenceRecipe.named("probe-2l-curriculum-nogap"), r)
        let blocks = try XCTUnwrap(r.blocks)
        XCTAssertEqual(blocks.gapShare, 0)
        var original = try XCTUnwrap(ReferenceRecipe.probe2LCurriculum.blocks)
        original.gapShare = 0
        XCTAssertEqual(blocks, original, "only the gap share differs; skip-bigram blocks kept")
        var same = r
        (same.name, same.summary, same.blocks) = (ReferenceRecipe.probe2LCurriculum.name, ReferenceRecipe.probe2LCurriculum.summary,
                                                  ReferenceRecipe.probe2LCurriculum.blocks)
        XCTAssertEqual(same, ReferenceRecipe.probe2LCurriculum, "same shape, settings, seed and curriculum")
        var rng = SeededRandom(seed: 1)
        let row = blocks.row(length: 4000, window: 256, using: &rng)
        let whole = row.split(separator: 256, omittingEmptySubsequences: true).dropFirst().dropLast().map(Array.init)
        XCTAssertGreaterThan(whole.count, 20)
        // Every whole block is either skip-bigram (x[t+1] = P[x[t-1]]) or prefix + R + R (|R| ≥ 5): it ends in a span repeated right away.
        let p = blocks.permutation
        var copies = 0
        for block in whole {
            if (2..<block.count).allSatisfy({ block[$0] == p[block[$0 - 2]] }) { continue }
            copies += 1
            XCTAssertTrue((5...(block.count / 2)).contains { n in block.suffix(n).elementsEqual(block.dropLast(n).suffix(n)) }, "\(block)")
        }
        XCTAssertGreaterThan(copies, 10)
    }

    // A tiny curriculum run on generated blocks: 9 tokens (8 plus the separator), windows 4 → 8 → 16.
    let config = TransformerConfig(layers: 2, heads: 2, dModel: 16, contextLength: 16, vocabSize: 9, attentionOnly: true,
                                   bosTokenID: 8, eosTokenID: 8)
    let blocks = InductionBlocks(separator: 8, spanLengths: 2...5, prefixLengths: 0...3, gapLengths: 0...4,
                                 skipBigramLengths: 4...8, phase: 4, permutationSeed: 1)

    func settings(steps: Int) -> TrainingSettings {
        TrainingSettings(steps: steps, batchSize: 2, sequenceLength: 16,
                         schedule: LearningRateSchedule(peak: 1e-2, minimum: 1e-2, warmupSteps: 2, totalSteps: steps),
                         optimizer: .init(weightDecay: 0), evaluationInterval: 4, evaluationWindows: 4, checkpointInterval: 0, seed: 3,
                         curriculum: SequenceLengthCurriculum([.init(length: 4, steps: 3), .init(length: 8, steps: 3)]))
    }

    func testResumingACurriculumRunOnGeneratedBlocksContinuesExactly() throws {
        let heldOut = blocks.stream(count: 100, window: 16, seed: 9)
        var straight = try Trainer(config: config, settings: settings(steps: 10), data: .generated(blocks), heldOut: heldOut)
        while !straight.isFinished { try straight.trainStep() }
        XCTAssertEqual(straight.log.map(\.sequenceLength), [4, 4, 4, 8, 8, 8, 16, 16, 16, 16])
        var again = try Trainer(config: config, settings: settings(steps: 10), data: .generated(blocks), heldOut: heldOut)
        while !again.isFinished { try again.trainStep() }
        XCTAssertEqual(again.log.map(\.loss), straight.log.map(\.loss), "same seed, same run")

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("curriculum-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        var first = try Trainer(config: config, settings: settings(steps: 10), data: .generated(blocks), heldOut: heldOut)
        for _ in 0..<5 { try first.trainStep() }   // stops inside the second stage
        try first.save(to: folder)
        var resumed = try Trainer.resume(folder: folder, data: .generated(blocks), heldOut: heldOut)
        XCTAssertEqual(resumed.step, 5)
        XCTAssertEqual(resumed.settings.curriculum, settings(steps: 10).curriculum)
        while !resumed.isFinished { try resumed.trainStep() }
        for (path, keyPath) in TransformerWeights.parameterKeyPaths(for: config) {
            XCTAssertEqual(resumed.model.weights[keyPath: keyPath], straight.model.weights[keyPath: keyPath], path)
        }
        XCTAssertEqual(resumed.log.map(\.loss), straight.log.map(\.loss))
        XCTAssertEqual(resumed.log.map(\.sequenceLength), straight.log.map(\.sequenceLength))

        var other = blocks
        other.gapShare = 0
        for data in [TrainingData.generated(other), .stream(heldOut)] {
            XCTAssertThrowsError(try Trainer.resume(folder: folder, data: data, heldOut: heldOut)) {
                guard case TrainingError.resumeMismatch = $0 else { return XCTFail("\($0)") }
            }
        }
    }

    func testGeneratedTokensMustFitTheVocabulary() {
        var wide = blocks
        wide.separator = 9
        XCTAssertThrowsError(try Trainer(config: config, settings: settings(steps: 2), data: .generated(wide), heldOut: [])) {
            guard case TrainingError.invalidSetting = $0 else { return XCTFail("\($0)") }
        }
    }
}
