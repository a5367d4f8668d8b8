import Foundation
import XCTest
@testable import MechanicCircuits
import MechanicModel
import MechanicTensor

final class EdgeGraphTests: XCTestCase {
    /// MIB's published edge count for GPT-2 small, and the counts the receiver rules imply.
    func testEdgeCountsFollowTheReceiverRules() {
        XCTAssertEqual(ComputationalGraph(config: TransformerConfig()).edges.count, 32_491, "GPT-2 small in MIB")
        // Sequential with MLPs: a layer-l query/key/value reads 1 + (heads + 1)·l senders, its MLP 1 + (heads + 1)·l + heads.
        func sequential(_ l: Int, _ h: Int, kv: Int) -> Int {
            (0..<l).reduce(0) { $0 + (h + 2 * kv) * (1 + (h + 1) * $1) + (1 + (h + 1) * $1 + h) } + 1 + l * (h + 1)
        }
        XCTAssertEqual(ComputationalGraph(layers: 4, heads: 8).edges.count, sequential(4, 8, kv: 8))
        XCTAssertEqual(ComputationalGraph(layers: 3, heads: 4, kvHeads: 2).edges.count, sequential(3, 4, kv: 2))
        // Attention only: a layer-l receiver reads 1 + heads·l.
        let attentionOnly = (0..<4).reduce(0) { $0 + 3 * 8 * (1 + 8 * $1) } + 1 + 4 * 8
        XCTAssertEqual(ComputationalGraph(layers: 4, heads: 8, hasMLPs: false).edges.count, attentionOnly)
        // Parallel blocks: the MLP reads what its layer's heads read.
        let parallel = (0..<2).reduce(0) { $0 + (3 * 4 + 1) * (1 + 5 * $1) } + 1 + 2 * 5
        XCTAssertEqual(ComputationalGraph(layers: 2, heads: 4, parallelBlocks: true).edges.count, parallel)
    }

    func testNamesAreMIBsAndGQAReceiversAreGroups() {
        let graph = ComputationalGraph(layers: 2, heads: 2)
        let names = Set(graph.edges.map { graph.name(of: $0) })
        for name in ["input->a0.h0<q>", "input->a0.h1<k>", "a0.h1->a1.h0<v>", "a0.h0->m0", "m0->a1.h1<q>", "m1->logits", "input->logits"] {
            XCTAssertTrue(names.contains(name), name)
        }
        XCTAssertFalse(names.contains("a1.h0->m0"), "no edge runs backwards")
        XCTAssertFalse(names.contains("a0.h0->a0.h1<q>"), "no edge within a layer's heads")
        XCTAssertEqual(names.count, graph.edges.count, "names are unique")
        let gqa = ComputationalGraph(layers: 1, heads: 4, kvHeads: 2)
        let gqaNames = Set(gqa.edges.map { gqa.name(of: $0) })
        XCTAssertTrue(gqaNames.contains("input->a0.g1<k>"))
        XCTAssertFalse(gqaNames.contains("input->a0.h3<k>"))
        XCTAssertEqual(gqa.nodes(fedBy: .value(layer: 0, group: 1)), [.head(HeadID(layer: 0, head: 2)), .head(HeadID(layer: 0, head: 3))])
    }

    /// Top-n by |score|, then dangling edges pruned: an edge into a head that feeds nothing, or out
    /// of a head nothing feeds, goes.
    func testTopEdgesArePrunedToPathsFromInputToLogits() {
        let graph = ComputationalGraph(layers: 2, heads: 1, hasMLPs: false)
        let index = graph.edgeIndex()
        var scores = [Float](repeating: 0, count: graph.edges.count)
        scores[index["input->a0.h0<q>"]!] = 5       // a0.h0 is fed …
        scores[index["a0.h0->a1.h0<k>"]!] = -4      // … and feeds a1.h0 (negative: kept by |score|)
        scores[index["a1.h0->logits"]!] = 3         // which reaches the logits: a path
        scores[index["input->a1.h0<v>"]!] = 2.5
        scores[index["a0.h0->logits"]!] = .nan      // never chosen
        let absolute = EdgeCircuit.top(4, scores: scores, in: graph)
        XCTAssertEqual(Set(graph.edges.indices.filter { absolute.included[$0] }.map { graph.name(of: graph.edges[$0]) }),
                       ["input->a0.h0<q>", "a0.h0->a1.h0<k>", "a1.h0->logits", "input->a1.h0<v>"])
        // Signed ranking drops the −4 edge; a0.h0 then feeds nothing, so its input edge goes too.
        let signed = EdgeCircuit.top(3, scores: scores, in: graph, absolute: false)
        XCTAssertEqual(Set(graph.edges.indices.filter { signed.included[$0] }.map { graph.name(of: graph.edges[$0]) }),
                       ["a1.h0->logits", "input->a1.h0<v>"])
        XCTAssertEqual(EdgeCircuit.top(3, scores: scores, in: graph, absolute: false, prune: false).edgeCount, 3)
        XCTAssertEqual(EdgeCircuit.top(0, scores: scores, in: graph).edgeCount, 0)
    }

    /// Greedy selection only takes edges into nodes already in the circuit, grown from the logits:
    /// the high-scored edge into a0.h0 waits until a0.h0 has joined through its edge to the logits.
    func testGreedyGrowsTheCircuitFromTheLogits() {
        let graph = ComputationalGraph(layers: 2, heads: 1, hasMLPs: false)
        let index = graph.edgeIndex()
        var scores = [Float](repeating: 0, count: graph.edges.count)
        scores[index["input->a0.h0<q>"]!] = 10
        scores[index["a1.h0->logits"]!] = 5
        scores[index["input->a1.h0<v>"]!] = -4
        scores[index["a0.h0->logits"]!] = 0.5
        scores[index["input->logits"]!] = .nan
        func names(_ c: EdgeCircuit) -> Set<String> {
            Set(graph.edges.indices.filter { c.included[$0] }.map { graph.name(of: graph.edges[$0]) })
        }
        XCTAssertEqual(names(EdgeCircuit.top(3, scores: scores, in: graph, prune: false)),
                       ["input->a0.h0<q>", "a1.h0->logits", "input->a1.h0<v>"])
        XCTAssertEqual(names(EdgeCircuit.greedy(3, scores: scores, in: graph, prune: false)),
                       ["a1.h0->logits", "input->a1.h0<v>", "a0.h0->logits"])
        // The fourth step can take the edge into a0.h0, which then lies on a path and survives pruning.
        XCTAssertEqual(names(EdgeCircuit.greedy(4, scores: scores, in: graph)),
                       ["a1.h0->logits", "input->a1.h0<v>", "a0.h0->logits", "input->a0.h0<q>"])
        // Signed: the −4 edge ranks below the zeros.
        XCTAssertFalse(names(EdgeCircuit.greedy(3, scores: scores, in: graph, absolute: false, prune: false)).contains("input->a1.h0<v>"))
        // More than there are: every scored edge, never the NaN one.
        let all = EdgeCircuit.greedy(1000, scores: scores, in: graph, prune: false)
        XCTAssertEqual(all.edgeCount, graph.edges.count - 1)
        XCTAssertFalse(all.included[index["input->logits"]!])
        XCTAssertEqual(EdgeCircuit.greedy(0, scores: scores, in: graph).edgeCount, 0)
    }

    /// The heap-driven greedy selection equals a plain rescan of every candidate at every step, on
    /// random scores (ties included) over graphs with MLPs, GQA groups and parallel blocks.
    func testGreedyEqualsARescanOfEveryCandidate() {
        var rng = SeededRandom(seed: 11)
        let graphs = [ComputationalGraph(layers: 3, heads: 2, hasMLPs: true),
                      ComputationalGraph(layers: 3, heads: 4, kvHeads: 2, hasMLPs: true, parallelBlocks: true)]
        for graph in graphs {
            for trial in 0..<4 {
                let scores = graph.edges.indices.map { _ -> Float in
                    let u = rng.next() % 1000
                    return u < 30 ? .nan : Float(Int(u % 40) - 20) / 4        // few values: many ties
                }
                for absolute in [true, false] {
                    for count in [1, 5, graph.edges.count / 3, graph.edges.count] {
                        XCTAssertEqual(EdgeCircuit.greedy(count, scores: scores, in: graph, absolute: absolute, prune: false),
                                       naiveGreedy(count, scores: scores, in: graph, absolute: absolute), "trial \(trial) count \(count)")
                    }
                }
            }
        }
    }

    /// The greedy rule written out: at each step rescan every edge into a node in the circuit.
    func naiveGreedy(_ count: Int, scores: [Float], in graph: ComputationalGraph, absolute: Bool) -> EdgeCircuit {
        var included = [Bool](repeating: false, count: scores.count)
        var nodes: Set<ComputationalGraph.Node> = [.logits]
        for _ in 0..<count {
            var best: Int?
            for (e, edge) in graph.edges.enumerated() where !included[e] && !scores[e].isNaN
                && graph.nodes(fedBy: edge.receiver).contains(where: nodes.contains) {
                let key = absolute ? abs(scores[e]) : scores[e]
                if best == nil || key > (absolute ? abs(scores[best!]) : scores[best!]) { best = e }
            }
            guard let e = best else { break }
            included[e] = true
            nodes.insert(graph.edges[e].sender)
        }
        return EdgeCircuit(included: included)
    }

    /// Edge ground truths from a list of names or a graph file's in_graph edges; edge AUC ranks
    /// by |score| with unscored edges last; bad files say which line is wrong.
    func testEdgeGroundTruthAndEdgeAUC() throws {
        let graph = ComputationalGraph(layers: 2, heads: 1, hasMLPs: false)
        let index = graph.edgeIndex()
        let truth = try EdgeGroundTruth.read(Data("# the path\ninput->a0.h0<q>\n\n  a0.h0->a1.h0<k>  # k input\na1.h0->logits\n".utf8), graph: graph)
        XCTAssertEqual(truth.circuit.edgeCount, 3)
        XCTAssertTrue(truth.circuit.included[index["a0.h0->a1.h0<k>"]!])
        var scores = [Float](repeating: 0.1, count: graph.edges.count)
        for name in ["input->a0.h0<q>", "a0.h0->a1.h0<k>", "a1.h0->logits"] { scores[index[name]!] = -2 }
        let scored = ScoredGraph(method: "m", graph: graph, scores: scores, seconds: 0)
        XCTAssertEqual(truth.auc(scored), 1)                           // |−2| beats 0.1 everywhere
        XCTAssertEqual(truth.auc(ScoredGraph(method: "m", graph: graph, scores: scores.map { $0 < 0 ? .nan : $0 }, seconds: 0)), 0)
        // The same circuit through a graph file.
        let file = try MIBGraphFile.encode(graph: graph, scores: scores, circuit: truth.circuit, dModel: 8)
        XCTAssertEqual(try EdgeGroundTruth.read(file, graph: graph), truth)
        XCTAssertThrowsError(try EdgeGroundTruth.read(Data("input->a0.h0<q>\na9.h0->logits\n".utf8), graph: graph)) { error in
            XCTAssertEqual(error as? EdgeGroundTruth.Problem, .unknownEdge(line: 2, name: "a9.h0->logits"))
        }
        XCTAssertThrowsError(try EdgeGroundTruth.read(Data("# nothing\n".utf8), graph: graph)) { error in
            XCTAssertEqual(error as? EdgeGroundTruth.Problem, .empty)
        }
        let everything = graph.edges.map { graph.name(of: $0) }.joined(separator: "\n")
        XCTAssertThrowsError(try EdgeGroundTruth.read(Data(everything.utf8), graph: graph)) { error in
            XCTAssertEqual(error as? EdgeGroundTruth.Problem, .everything)
        }
    }

    /// CPR and CMD of hand-made curves, over MIB's raw fractions.
    func testCPRAndCMDOfHandMadeCurves() {
        let fractions = FaithfulnessCurve.mibFractions
        let counts = FaithfulnessCurve.edgeCounts(total: 32_491)
        XCTAssertEqual(counts, [32, 64, 162, 324, 649, 1624, 3249, 6498, 16245, 32491])
        // A perfect circuit at every size: f = 1, CPR = the x-span 0.999, CMD = 0.
        let perfect = FaithfulnessCurve(fractions: fractions, edgeCounts: counts, metrics: Array(repeating: 2.0, count: 10),
                                        fullModel: 2, emptyCircuit: -1)
        XCTAssertEqual(perfect.cpr(), 0.999, accuracy: 1e-12)
        XCTAssertEqual(perfect.cmd(), 0, accuracy: 1e-12)
        // f = 0 up to 50%, then 1 at 100%: only the last trapezoid has area, 0.5 · (0 + 1)/2.
        let late = FaithfulnessCurve(fractions: fractions, edgeCounts: counts, metrics: Array(repeating: -1.0, count: 9) + [2],
                                     fullModel: 2, emptyCircuit: -1)
        XCTAssertEqual(late.faithfulness.first, 0)
        XCTAssertEqual(late.faithfulness.last, 1)
        XCTAssertEqual(late.cpr(), 0.25, accuracy: 1e-12)
        XCTAssertEqual(late.cmd(), 0.999 - 0.25, accuracy: 1e-12)
        // Overshoot counts against CMD: f = 1.5 everywhere.
        let over = FaithfulnessCurve(fractions: [0.5, 1], edgeCounts: [1, 2], metrics: [3.5, 3.5], fullModel: 2, emptyCircuit: -1)
        XCTAssertEqual(over.cpr(), 0.75, accuracy: 1e-12)
        XCTAssertEqual(over.cmd(), 0.25, accuracy: 1e-12)
        XCTAssertEqual(over.cpr(logScale: true), 1.5 * Foundation.log(2.0), accuracy: 1e-12)
    }

    func testMIBGraphFilesRoundTripAndBadFilesAreRefused() throws {
        let graph = ComputationalGraph(layers: 2, heads: 3, kvHeads: 3)
        var scores = graph.edges.indices.map { Float($0 % 7) - 3 }
        scores[4] = .nan
        let circuit = EdgeCircuit.top(10, scores: scores, in: graph)
        let data = try MIBGraphFile.encode(graph: graph, scores: scores, circuit: circuit, dModel: 16)
        let back = try MIBGraphFile.decode(data, graph: graph)
        XCTAssertEqual(back.circuit, circuit)
        XCTAssertTrue(back.scores[4].isNaN)
        XCTAssertEqual(back.scores.enumerated().filter { $0.offset != 4 }.map(\.element),
                       scores.enumerated().filter { $0.offset != 4 }.map(\.element))
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let nodes = try XCTUnwrap(json["nodes"] as? [String: [String: Bool]])
        XCTAssertEqual(nodes.count, 1 + 6 + 2 + 1)
        XCTAssertEqual(nodes["input"]?["in_graph"], true)

        // Another model, an unknown edge, a missing edge, a bad score: each refused by name.
        XCTAssertThrowsError(try MIBGraphFile.decode(data, graph: ComputationalGraph(layers: 3, heads: 3))) {
            XCTAssertTrue("\($0)".contains("another model"), "\($0)")
        }
        var edited = json
        var edges = try XCTUnwrap(json["edges"] as? [String: Any])
        edges["a9.h9->logits"] = ["score": 1, "in_graph": false]
        edited["edges"] = edges
        XCTAssertThrowsError(try MIBGraphFile.decode(JSONSerialization.data(withJSONObject: edited), graph: graph)) {
            XCTAssertEqual($0 as? MIBGraphFile.Problem, .unknownEdge("a9.h9->logits"))
        }
        edges["a9.h9->logits"] = nil
        edges["input->m0"] = nil
        edited["edges"] = edges
        XCTAssertThrowsError(try MIBGraphFile.decode(JSONSerialization.data(withJSONObject: edited), graph: graph)) {
            XCTAssertEqual($0 as? MIBGraphFile.Problem, .missingEdges(count: 1, first: "input->m0"))
        }
        edges["input->m0"] = ["score": "high", "in_graph": true]
        edited["edges"] = edges
        XCTAssertThrowsError(try MIBGraphFile.decode(JSONSerialization.data(withJSONObject: edited), graph: graph)) {
            XCTAssertEqual($0 as? MIBGraphFile.Problem, .badEntry(edge: "input->m0", reason: "its score is not a number"))
        }
        edges["input->m0"] = ["score": true, "in_graph": true]
        edited["edges"] = edges
        XCTAssertThrowsError(try MIBGraphFile.decode(JSONSerialization.data(withJSONObject: edited), graph: graph))
        edges["input->m0"] = ["score": 0, "in_graph": 1]
        edited["edges"] = edges
        XCTAssertThrowsError(try MIBGraphFile.decode(JSONSerialization.data(withJSONObject: edited), graph: graph)) {
            XCTAssertEqual($0 as? MIBGraphFile.Problem, .badEntry(edge: "input->m0", reason: "in_graph is not true or false"))
        }
        XCTAssertThrowsError(try MIBGraphFile.decode(Data("[1, 2]".utf8), graph: graph))
        XCTAssertThrowsError(try MIBGraphFile.decode(Data("not json".utf8), graph: graph))
    }
}
