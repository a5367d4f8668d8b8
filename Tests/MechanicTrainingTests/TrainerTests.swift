import Foundation
import XCTest
@testable import MechanicTraining
import MechanicModel
import MechanicTensor

final class TrainerTests: XCTestCase {
    let config = TransformerConfig(layers: 2, heads: 2, dModel: 16, contextLength: 16, vocabSize: 12, innerDimension: 32)

    /// A learnable stream: a counter modulo 10 with a random reset token (11) now and then.
    func stream(_ count: Int, seed: UInt64) -> [Int] {
        var rng = SeededRandom(seed: seed)
        var tokens: [Int] = [], value = 0
        for _ in 0..<count {
            if rng.next() % 17 == 0 { tokens.append(11); value = Int(rng.next() % 10) }
            tokens.append(value)
            value = (value + 1) % 10
        }
        return tokens
    }

    func settings(steps: Int) -> TrainingSettings {
        TrainingSettings(steps: steps, batchSize: 8, sequenceLength: 12,
                         schedule: LearningRateSchedule(peak: 1e-2, minimum: 1e-3, warmupSteps: 5, totalSteps: steps),
                         evaluationInterval: 20, evaluationWindows: 8, checkpointInterval: 0, seed: 3)
    }

    func testTrainingLowersTheLossAndIsReproducible() throws {
        let train = stream(4000, seed: 1), heldOut = stream(500, seed: 2)
        var a = try Trainer(config: config, settings: settings(steps: 80), training: train, heldOut: heldOut)
        let before = try a.evaluate()
        while !a.isFinished { try a.trainStep() }
        let after = a.log.last!.evaluationLoss!
        XCTAssertLessThan(after, 0.5 * before, "held-out loss \(before) → \(after)")
        var b = try Trainer(config: config, settings: settings(steps: 80), training: train, heldOut: heldOut)
        while !b.isFinished { try b.trainStep() }
        for (_, keyPath) in TransformerWeights.parameterKeyPaths(for: config) {
            XCTAssertEqual(a.model.weights[keyPath: keyPath], b.model.weights[keyPath: keyPath])
        }
    }

    func testResumingFromACheckpointContinuesExactly() throws {
        let train = stream(3000, seed: 4), heldOut = stream(400, seed: 5)
        var straight = try Trainer(config: config, settings: settings(steps: 30), training: train, heldOut: heldOut)
        while !straight.isFinished { try straight.trainStep() }

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("trainer-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        var first = try Trainer(config: config, settings: settings(steps: 30), training: train, heldOut: heldOut)
        for _ in 0..<13 { try first.trainStep() }
        try first.save(to: folder)
        try first.save(to: folder)   // overwriting a checkpoint replaces it whole
        var resumed = try Trainer.resume(folder: folder, training: train, heldOut: heldOut)
        XCTAssertEqual(resumed.step, 13)
        while !resumed.isFinished { try resumed.trainStep() }
        for (path, keyPath) in TransformerWeights.parameterKeyPaths(for: config) {
            XCTAssertEqual(resumed.model.weights[keyPath: keyPath], straight.model.weights[keyPath: keyPath], path)
        }
        XCTAssertEqual(resumed.log.map(\.loss), straight.log.map(\.loss))
        // The checkpoint is an HF folder the loader reads.
        XCTAssertEqual(try CheckpointLoader.load(folder: folder).config, config)
        XCTAssertThrowsError(try Trainer.resume(folder: folder, training: stream(3000, seed: 9), heldOut: heldOut)) {
            guard case TrainingError.resumeMismatch = $0 else { return XCTFail("\($0)") }
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.deletingLastPathComponent().path)
            .filter { $0.contains(folder.lastPathComponent) && $0.contains("partial") }
        XCTAssertTrue(leftovers.isEmpty)
    }

    func testInvalidSettingsAreRejected() {
        var bad = settings(steps: 10)
        bad.sequenceLength = 40
        XCTAssertThrowsError(try Trainer(config: config, settings: bad, training: stream(1000, seed: 1), heldOut: [])) {
            guard case TrainingError.invalidSetting = $0 else { return XCTFail("\($0)") }
        }
    }
}
