import XCTest
import MechanicCircuits
@testable import MechanicExport

/// The edge-level drawing: q/k/v edges told apart, ground-truth heads outlined, and DOT that
/// Graphviz reads whatever the scores (a fuzzer found an infinite score writing `penwidth=-nan`).
final class EdgeCircuitDOTTests: XCTestCase {
    func testEdgesAreLabelledAndEveryScoreGivesValidDOT() throws {
        let graph = ComputationalGraph(layers: 2, heads: 1)
        let index = graph.edgeIndex()
        for special: Float in [1, .infinity, -.infinity, .nan, 0] {
            var scores = [Float](repeating: 0, count: graph.edges.count)
            scores[index["input->a0.h0<q>"]!] = -2
            scores[index["a0.h0->a1.h0<k>"]!] = special
            scores[index["a1.h0->logits"]!] = 3
            var included = [Bool](repeating: false, count: graph.edges.count)
            for name in ["input->a0.h0<q>", "a0.h0->a1.h0<k>", "a1.h0->logits"] { included[index[name]!] = true }
            let dot = EdgeCircuitDOT.render(graph: graph, scores: scores, circuit: EdgeCircuit(included: included),
                                            options: .init(title: "t", highlighted: [HeadID(layer: 1, head: 0)]))
            XCTAssertFalse(dot.contains("nan"), "\(special): \(dot)")
            XCTAssertFalse(dot.contains("inf"), "\(special)")
            XCTAssertTrue(dot.contains("label=\"q\"") && dot.contains("label=\"k\""))
            XCTAssertTrue(dot.contains("\"a1.h0\" [label=\"a1.h0\", penwidth=2.5]"), dot)
            XCTAssertNoThrow(try GraphvizRenderer.render(dot: dot, format: .svg), "\(special)")
        }
    }
}
