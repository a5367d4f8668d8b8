import GRDB
import MechanicSinks
import XCTest
@testable import MechanicStore

/// A run's sink analyses read back as they were recorded, which the HTML report relies on.
final class SinkAnalysisReadTests: XCTestCase {
    func testSinkAnalysesReadBackInOrderAndUnknownRunsAndBadReportsAreRefused() throws {
        let store = try ResultStore(path: try StoreFixtures.databasePath(self))
        let run = try store.beginRun(RunInfo(command: "sinks", seed: 3, version: "test"))
        XCTAssertEqual(try store.sinkAnalyses(run: run), [])
        let model = SinkModelSummary(layers: 1, heads: 2, dModel: 8, contextLength: 16, vocabSize: 10)
        let first = SinkAnalysis(model: model, variants: [RoundTripTests.statistics(bos: true)], examples: [])
        let second = SinkAnalysis(model: model, variants: [RoundTripTests.statistics(bos: true), RoundTripTests.statistics(bos: false)],
                                  examples: [])
        try store.record(sinks: first, run: run)
        try store.record(sinks: second, run: run)
        XCTAssertEqual(try store.sinkAnalyses(run: run), [first, second])
        XCTAssertEqual(StoreFixtures.storeError { _ = try store.sinkAnalyses(run: 99) }, .noSuchRun(99))

        try store.write { db in try db.execute(sql: "UPDATE sink_analyses SET report = '{' WHERE run_id = ?", arguments: [run]) }
        guard case .invalidData = StoreFixtures.storeError({ _ = try store.sinkAnalyses(run: run) }) else {
            return XCTFail("a report that does not decode is invalid data")
        }
    }
}
