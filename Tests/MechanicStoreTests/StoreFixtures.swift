import Foundation
import MechanicCircuits
@testable import MechanicStore
import MechanicTasks
import XCTest

/// Small hand-built values to record, and temporary files to record them in.
enum StoreFixtures {
    static let info = RunInfo(command: "discover", arguments: ["--task", "ioi", "--seed", "7"], seed: 7, version: "test",
                              modelPath: "artifacts/models/mechanic-mini", modelChecksum: "sha256:00")

    static let heads = HeadID.all(layers: 2, heads: 3)
    static let truth = [HeadID(layer: 0, head: 1), HeadID(layer: 1, head: 2)]

    /// A report with every optional part present in one method or another.
    static var report: DiscoveryReport {
        var full = DiscoveryReport.MethodResult(
            scores: HeadScores(method: "sae", heads: heads, scores: [0.1, 0.9, 0.2, 0.3, 0.05, 0.8],
                               edges: [EdgeScore(from: heads[1], to: heads[5], score: 0.7),
                                       EdgeScore(from: heads[0], to: heads[3], score: -0.25)], seconds: 1.5),
            auc: 0.875, match: CircuitEvaluation.Match(truePositives: 2, falsePositives: 0, falseNegatives: 0),
            faithfulness: Faithfulness.Result(fullModel: 2.5, circuit: 2.0, complement: 0.125, random: [0.5, 0.75, 1.0 / 3]))
        // A label-permutation control with a seed above Int64.max.
        full.control = LabelPermutation.HeadControl(
            permutations: 200, seed: UInt64.max - 1,
            heads: [0.1, 0.9, 0.2, 0.3, 0.05, 0.8].enumerated().map { i, s in
                LabelPermutation.Statistic(observed: s, nullMean: 0.25, nullSD: 0.125, z: (s - 0.25) / 0.125,
                                           p: Float(i + 1) / 201)
            },
            shuffledAUC: LabelPermutation.ShuffledAUC(mean: 0.625, sd: 0.0625, withinNoise: false))
        let emptyEdges = DiscoveryReport.MethodResult(
            scores: HeadScores(method: "patching-resample", heads: heads, scores: [0.3, 0.2, 0.1, 0.6, 0.5, 0.4], edges: [],
                               seconds: 0.25),
            auc: 0.5, match: CircuitEvaluation.Match(truePositives: 1, falsePositives: 1, falseNegatives: 1))
        let bare = DiscoveryReport.MethodResult(
            scores: HeadScores(method: "hisp", heads: heads.reversed(), scores: [1, 2, 3, 4, 5, 6], seconds: 0))
        return DiscoveryReport(task: "ioi", metric: .logitDifference, positives: 4, negatives: 3, droppedPositives: 1,
                               groundTruth: truth, methods: [full, emptyEdges, bare])
    }

    static var task: TaskDataset {
        let prompt = TaskPrompt(text: "When Mary and John went, John gave it to", tokens: [50256, 1, 2, 3], answers: [10],
                                wrongAnswers: [11, 12], corruptedText: "When Ann and Bob went, Eve gave it to",
                                corruptedTokens: [50256, 4, 5, 6])
        let negative = TaskPrompt(text: "The cat sat on the", tokens: [7, 8], answers: [9], wrongAnswers: [])
        return TaskDataset(task: "ioi", metric: .logitDifference, positives: [prompt, prompt], negatives: [negative],
                           droppedPositives: 2)
    }

    /// A fresh folder under the system temporary folder, removed when the test ends.
    static func folder(_ test: XCTestCase) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mechanic-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// A path for a database file that does not exist yet.
    static func databasePath(_ test: XCTestCase) throws -> String {
        try folder(test).appendingPathComponent("mechanic.sqlite").path
    }

    /// An in-memory store and an on-disk one: behaviour must not depend on which.
    static func stores(_ test: XCTestCase) throws -> [ResultStore] {
        [try ResultStore.inMemory(), try ResultStore(path: try databasePath(test))]
    }

    /// The error `body` throws, failing the test if it throws none or one of another type.
    static func storeError(_ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) -> StoreError? {
        do {
            try body()
            XCTFail("expected a StoreError, nothing was thrown", file: file, line: line)
        } catch let error as StoreError {
            return error
        } catch {
            XCTFail("expected a StoreError, got \(error)", file: file, line: line)
        }
        return nil
    }
}
