import Foundation
import MechanicCircuits
@testable import MechanicSinks
import MechanicSAE
@testable import MechanicStore
import MechanicTasks
import XCTest

/// What is recorded comes back as it went in, in memory and on disk.
final class RoundTripTests: XCTestCase {
    func testDiscoveryReportRoundTrips() throws {
        for store in try StoreFixtures.stores(self) {
            let run = try store.beginRun(StoreFixtures.info)
            try store.record(report: StoreFixtures.report, run: run)
            XCTAssertEqual(try store.report(run: run), StoreFixtures.report, store.path)
            XCTAssertEqual(try store.completedMethods(run: run), ["sae", "patching-resample", "hisp"])
        }
    }

    func testMethodsRecordedOneByOneRebuildTheSameReport() throws {
        for store in try StoreFixtures.stores(self) {
            let run = try store.beginRun(StoreFixtures.info)
            let report = StoreFixtures.report
            var task = StoreFixtures.task
            task.positives = Array(repeating: task.positives[0], count: report.positives)
            task.negatives = Array(repeating: task.negatives[0], count: report.negatives)
            task.droppedPositives = report.droppedPositives
            try store.record(task: task, groundTruth: report.groundTruth, run: run)
            for method in report.methods { try store.record(method: method, run: run) }
            XCTAssertEqual(try store.report(run: run), report, store.path)
        }
    }

    func testCircuitIsTheTopGroundTruthSizedHeadsAndItsEdges() throws {
        let store = try ResultStore.inMemory()
        let run = try store.beginRun(StoreFixtures.info)
        try store.record(report: StoreFixtures.report, run: run)
        let heads = try store.query("SELECT layer, head FROM circuit_heads WHERE method = 'sae' ORDER BY layer, head").rows
        XCTAssertEqual(heads, [[.integer(0), .integer(1)], [.integer(1), .integer(2)]])
        XCTAssertEqual(try store.query("SELECT circuit_rule, circuit_k FROM methods WHERE method = 'sae'").rows,
                       [[.text("top-k"), .integer(2)]])
        // Of the two sae edges only a0.1 → a1.2 joins two circuit heads.
        XCTAssertEqual(try store.query("SELECT from_layer, from_head, to_layer, to_head FROM circuit_edges").rows,
                       [[.integer(0), .integer(1), .integer(1), .integer(2)]])
        // A threshold rule, given explicitly, replaces the method's earlier result.
        try store.record(method: StoreFixtures.report.methods[0], run: run, circuit: .threshold(0.25))
        XCTAssertEqual(try store.query("SELECT count(*) FROM circuit_heads WHERE method = 'sae'").rows, [[.integer(3)]])
        XCTAssertEqual(try store.query("SELECT count(*) FROM methods").rows, [[.integer(3)]])
        XCTAssertEqual(try store.query("SELECT precision, recall, f1 FROM evaluations WHERE method = 'patching-resample'").rows,
                       [[.real(0.5), .real(0.5), .real(0.5)]])
    }

    func testNaNScoresComeBackAsNaN() throws {
        let store = try ResultStore.inMemory()
        let run = try store.beginRun(StoreFixtures.info)
        var method = StoreFixtures.report.methods[2]
        method.scores.scores[3] = .nan
        method.faithfulness = Faithfulness.Result(fullModel: .nan, circuit: 1, complement: 0, random: [.nan, .infinity])
        try store.record(method: method, run: run)
        try store.record(report: DiscoveryReport(task: "t", metric: .probabilityDifference, positives: 1, negatives: 0,
                                                 methods: []), run: run)
        let back = try XCTUnwrap(try store.report(run: run).methods.first)
        XCTAssertTrue(back.scores.scores[3].isNaN)
        XCTAssertEqual(back.scores.scores[4], 5)
        XCTAssertTrue(back.faithfulness!.fullModel.isNaN)
        XCTAssertTrue(back.faithfulness!.random[0].isNaN)
        XCTAssertEqual(back.faithfulness!.random[1], .infinity)
    }

    func testTaskPromptsAreStoredWithAnswerTexts() throws {
        let store = try ResultStore.inMemory()
        let run = try store.beginRun(StoreFixtures.info)
        try store.record(task: StoreFixtures.task, groundTruth: nil, tokenText: { "<\($0)>" }, run: run)
        let rows = try store.query("""
            SELECT kind, ordinal, text, tokens, answers, wrong_answer_texts, corrupted_text FROM prompts ORDER BY kind DESC, ordinal
            """).rows
        XCTAssertEqual(rows.count, 3)
        XCTAssertEqual(rows[0], [.text("positive"), .integer(0), .text("When Mary and John went, John gave it to"),
                                 .text("[50256,1,2,3]"), .text("[10]"), .text("[\"<11>\",\"<12>\"]"),
                                 .text("When Ann and Bob went, Eve gave it to")])
        XCTAssertEqual(rows[2][0], .text("negative"))
        XCTAssertEqual(rows[2][6], .null)
        let report = try store.report(run: run)
        XCTAssertEqual([report.positives, report.negatives, report.droppedPositives], [2, 1, 2])
        XCTAssertNil(report.groundTruth)
    }

    func testRunLifecycle() throws {
        for store in try StoreFixtures.stores(self) {
            let run = try store.beginRun(StoreFixtures.info)
            let started = try XCTUnwrap(try store.run(run))
            XCTAssertEqual(started.info, StoreFixtures.info)
            XCTAssertEqual(started.status, .running)
            XCTAssertEqual(started.pid, getpid())
            XCTAssertNil(started.finishedAt)
            try store.record(method: StoreFixtures.report.methods[0], run: run)
            try store.finishRun(run, status: .completed)
            let finished = try XCTUnwrap(try store.run(run))
            XCTAssertEqual(finished.status, .completed)
            XCTAssertGreaterThanOrEqual(finished.finishedAt!, started.startedAt)
            // A finished run takes no more results until it is resumed.
            XCTAssertEqual(StoreFixtures.storeError { try store.record(method: StoreFixtures.report.methods[1], run: run) },
                           .runNotRunning(run, status: .completed))
            XCTAssertEqual(StoreFixtures.storeError { try store.finishRun(run, status: .failed) },
                           .runNotRunning(run, status: .completed))
            XCTAssertEqual(try store.resumeRun(run), ["sae"])
            try store.record(method: StoreFixtures.report.methods[1], run: run)
            try store.finishRun(run, status: .failed, message: "out of memory")
            XCTAssertEqual(try store.run(run)?.message, "out of memory")
            XCTAssertEqual(StoreFixtures.storeError { try store.finishRun(99, status: .failed) }, .noSuchRun(99))
            XCTAssertNil(try store.run(99))

            let second = try store.beginRun(RunInfo(command: "sinks", seed: .max, version: "test"))
            XCTAssertEqual(try store.runs().map(\.id), [second, run])
            XCTAssertEqual(try store.runs(limit: 1).map(\.id), [second])
            XCTAssertEqual(try store.run(second)?.info.seed, .max)
            try store.deleteRun(run)
            XCTAssertEqual(try store.query("SELECT count(*) FROM head_scores").rows, [[.integer(0)]])
            XCTAssertEqual(try store.runs().map(\.id), [second])
        }
    }

    func testStaleRunsOfDeadProcessesAreMarkedInterrupted() throws {
        let store = try ResultStore(path: try StoreFixtures.databasePath(self))
        let mine = try store.beginRun(StoreFixtures.info)
        let dead = try store.beginRun(StoreFixtures.info)
        let elsewhere = try store.beginRun(StoreFixtures.info)
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        try store.write { db in
            try db.execute(sql: "UPDATE runs SET pid = ? WHERE id = ?", arguments: [child.processIdentifier, dead])
            try db.execute(sql: "UPDATE runs SET host = 'another-machine' WHERE id = ?", arguments: [elsewhere])
        }
        // Read-only, the same runs are found without writing anything.
        let reader = try ResultStore(path: store.path, readOnly: true)
        XCTAssertEqual(try reader.staleRuns(), [dead])
        XCTAssertEqual(try reader.run(dead)?.status, .running)
        XCTAssertEqual(try store.markStaleRunsInterrupted(), [dead])
        XCTAssertEqual(try reader.staleRuns(), [])
        XCTAssertEqual(try store.run(dead)?.status, .interrupted)
        XCTAssertEqual(try store.run(mine)?.status, .running)
        // A run on another host is not guessed at: resuming it needs it marked first.
        XCTAssertEqual(StoreFixtures.storeError { _ = try store.resumeRun(elsewhere) },
                       .runInProgress(elsewhere, pid: getpid(), host: "another-machine"))
        try store.markInterrupted(run: elsewhere)
        XCTAssertEqual(try store.resumeRun(elsewhere), [])
        XCTAssertEqual(try store.run(elsewhere)?.host, ResultStore.hostName)
    }

    func testSAEAndSinkAnalysesAreRecorded() throws {
        let store = try ResultStore.inMemory()
        let run = try store.beginRun(StoreFixtures.info)
        let configuration = SAEConfiguration(inputDimension: 64, hiddenUnits: 32, activation: .topK(4))
        try store.record(sae: configuration, name: "discover", trainingPrompts: 10, finalLoss: 0.125, run: run)
        let sae = try store.query("SELECT name, input_dimension, hidden_units, training_prompts, final_loss, configuration FROM saes").rows
        XCTAssertEqual(Array(sae[0].prefix(5)), [.text("discover"), .integer(64), .integer(32), .integer(10), .real(0.125)])
        guard case .text(let json) = sae[0][5] else { return XCTFail("configuration is not text") }
        XCTAssertEqual(try JSONDecoder().decode(SAEConfiguration.self, from: Data(json.utf8)), configuration)

        let analysis = SinkAnalysis(model: SinkModelSummary(layers: 1, heads: 2, dModel: 8, contextLength: 16, vocabSize: 10),
                                    variants: [Self.statistics(bos: true), Self.statistics(bos: false)], examples: [])
        let id = try store.record(sinks: analysis, run: run)
        let heads = try store.query("""
            SELECT bos_prepended, layer, head, first_token_mass, hidden_sinks FROM sink_heads WHERE analysis_id = \(id)
            ORDER BY bos_prepended DESC, head
            """).rows
        XCTAssertEqual(heads, [[.integer(1), .integer(0), .integer(0), .real(0.75), .integer(0)],
                               [.integer(1), .integer(0), .integer(1), .real(0.25), .integer(3)],
                               [.integer(0), .integer(0), .integer(0), .real(0.75), .integer(0)],
                               [.integer(0), .integer(0), .integer(1), .real(0.25), .integer(3)]])
        guard case .text(let report) = try store.query("SELECT report FROM sink_analyses").rows[0][0] else {
            return XCTFail("report is not text")
        }
        XCTAssertEqual(try JSONDecoder().decode(SinkAnalysis.self, from: Data(report.utf8)), analysis)
    }

    static func statistics(bos: Bool) -> SinkStatistics {
        SinkStatistics(bosPrepended: bos, promptCount: 2, tokenCount: 6, layers: 1, heads: 2, longestPrompt: 3,
                       thresholds: SinkThresholds(), firstTokenMass: [[0.75, 0.25]], firstTokenSinkRate: [[1, 0]],
                       firstTokenSinkRateOverall: 0.5, entropy: [[0.5, 1]], columnScores: [[[0.75, 0.5, 0.5], [0.25, 0.5, 0.5]]],
                       promptsPerPosition: [2, 2, 2], hiddenSinkCounts: [[0, 3]], hiddenSinksByPosition: [0, 2, 1],
                       hiddenSinkTotal: 3, hiddenSinks: [], hiddenSinkTokens: [], residualNorms: [[1, 2, 3]],
                       massiveActivationTotal: 0, massiveActivations: [], massiveDimensions: [])
    }
}
