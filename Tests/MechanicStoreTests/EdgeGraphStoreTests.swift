import Foundation
import MechanicCircuits
@testable import MechanicStore
import XCTest

/// Edge-level results in the store: scores under MIB names, curves, and the report read back.
final class EdgeGraphStoreTests: XCTestCase {
    static let graph = ComputationalGraph(layers: 2, heads: 2)

    /// Two methods with scores (one NaN) and a curve.
    static func results() -> [EdgeDiscoveryReport.MethodResult] {
        let n = graph.edges.count
        var first = EdgeDiscoveryReport.MethodResult(method: "eap", scores: (0..<n).map { Float($0) / 10 - 1 }, seconds: 0.5, nodeAUC: 0.75)
        first.scores[3] = .nan
        first.curve = FaithfulnessCurve(fractions: [0.1, 0.5, 1], edgeCounts: FaithfulnessCurve.edgeCounts(fractions: [0.1, 0.5, 1], total: n),
                                        metrics: [0.5, 1.5, 2], fullModel: 2, emptyCircuit: 0)
        let second = EdgeDiscoveryReport.MethodResult(method: "edge-patching", scores: (0..<n).map { Float(n - $0) }, seconds: 2)
        return [first, second]
    }

    func testEdgeMethodsReadBackAsRecorded() throws {
        let store = try ResultStore(path: try StoreFixtures.databasePath(self))
        let run = try store.beginRun(StoreFixtures.info)
        XCTAssertNil(try store.edgeReport(run: run), "a run without edge methods has no edge report")
        try store.record(report: StoreFixtures.report, run: run)
        for result in Self.results() { try store.record(edgeMethod: result, graph: Self.graph, ablation: .mean, prompts: 6, run: run) }
        let report = try XCTUnwrap(try store.edgeReport(run: run))
        XCTAssertEqual(report.graph, Self.graph)
        XCTAssertEqual(report.ablation, .mean)
        XCTAssertEqual(report.prompts, 6)
        XCTAssertEqual(report.task, StoreFixtures.report.task)
        XCTAssertEqual(report.methods.map(\.method), ["eap", "edge-patching"])
        let original = Self.results()
        XCTAssertTrue(report.methods[0].scores[3].isNaN)
        XCTAssertEqual(report.methods[0].scores.enumerated().filter { $0.offset != 3 }.map(\.element),
                       original[0].scores.enumerated().filter { $0.offset != 3 }.map(\.element))
        XCTAssertEqual(report.methods[0].curve?.faithfulness, original[0].curve?.faithfulness)
        XCTAssertEqual(report.methods[0].curve?.cpr(), original[0].curve?.cpr())
        XCTAssertEqual(report.methods[0].nodeAUC, 0.75)
        XCTAssertEqual(report.methods[1], original[1])
        // Edge names are MIB's, so SQL can ask for one.
        let rows = try store.query("SELECT score FROM graph_edge_scores WHERE method = 'edge-patching' AND edge = 'input->a0.h0<q>'").rows
        XCTAssertEqual(rows.count, 1)
        // Recording a method again replaces it; a result for another graph is refused.
        try store.record(edgeMethod: original[1], graph: Self.graph, ablation: .mean, prompts: 6, run: run)
        XCTAssertEqual(try store.edgeReport(run: run)?.methods.count, 2)
        XCTAssertThrowsError(try store.record(edgeMethod: original[1], graph: ComputationalGraph(layers: 1, heads: 2), ablation: .mean,
                                              prompts: 6, run: run))
        // Only running runs take results.
        try store.finishRun(run, status: .completed)
        XCTAssertThrowsError(try store.record(edgeMethod: original[0], graph: Self.graph, ablation: .mean, prompts: 6, run: run))
    }
}
