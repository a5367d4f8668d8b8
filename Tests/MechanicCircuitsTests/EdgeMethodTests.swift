import Foundation
import XCTest
@testable import MechanicCircuits
import MechanicModel
import MechanicTasks
import MechanicTensor
import MechanicTokenizer

/// Edge interventions and the edge methods on tiny random models of every family (GPT-2,
/// attention-only, parallel blocks, GQA/MQA, rotary, QK-norm, and Gemma's post-norms, through
/// which a layer's heads reach the residual together).
final class EdgeMethodTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/families")

    /// (name, model): two GPT-2 shapes built here, and family checkpoints.
    func models(_ families: [String] = ["pythia", "llama-gqa", "llama3-mqa", "qwen3", "gemma2", "gemma3"]) throws -> [(String, Transformer)] {
        let gpt2 = TransformerConfig(layers: 2, heads: 3, dModel: 12, contextLength: 16, vocabSize: 96, innerDimension: 8)
        let attentionOnly = TransformerConfig(layers: 2, heads: 2, dModel: 8, contextLength: 16, vocabSize: 96, attentionOnly: true)
        var list = [("gpt2", try Transformer(config: gpt2, weights: .random(config: gpt2, seed: 4, std: 0.5))),
                    ("attn-only", try Transformer(config: attentionOnly, weights: .random(config: attentionOnly, seed: 5, std: 0.5)))]
        for name in families {
            list.append((name, try CheckpointLoader.load(folder: Self.fixtures.appendingPathComponent(name))))
        }
        return list
    }

    /// Prompts of random ids 5…89 of two lengths (so the batch is padded), with corrupted twins.
    func prompts(seed: UInt64, count: Int = 3) -> [TaskPrompt] {
        var rng = SeededRandom(seed: seed)
        return (0..<count).map { i in
            let n = 6 + i % 2
            let tokens = (0..<n).map { _ in 5 + Int(rng.next() % 85) }
            let corrupted = (0..<n).map { _ in 5 + Int(rng.next() % 85) }
            return TaskPrompt(text: "", tokens: tokens, answers: [5 + Int(rng.next() % 85)], wrongAnswers: [5 + Int(rng.next() % 85)],
                              corruptedTokens: corrupted)
        }
    }

    func meanMetric(_ model: Transformer, _ set: [TaskPrompt], corrupted: Bool = false) throws -> Double {
        let values = try TaskDataset.metricValues(model: model, prompts: set, metric: .logitDifference, corrupted: corrupted)
        return values.reduce(0.0) { $0 + Double($1) } / Double(values.count)
    }

    /// Every receiver recomputed from its own residual, every edge "patched" with the clean run's
    /// own outputs: the model's logits, to float rounding.
    func testPatchingEveryEdgeWithItsOwnCleanValueChangesNothing() throws {
        for (name, model) in try models(["pythia", "neox-sequential", "llama-gqa", "llama3-mqa", "mistral-window", "qwen2", "qwen3", "gemma2", "gemma3"]) {
            let set = prompts(seed: 3)
            let batch = TokenBatch(rows: set.map(\.tokens))
            let graph = ComputationalGraph(config: model.config)
            let clean = try SenderOutputs.run(model: model, graph: graph, batch: batch)
            let patch = EdgePatch(math: try ReceiverMath(model: model), graph: graph, patched: graph.edges.map { _ in true })
            let plain = try model.run(batch, logits: .all).logits!
            let patched = try model.run(batch, logits: .all, interventions: patch.interventions(replacement: clean)).logits!
            let scale = plain.storage.map(abs).max()!
            XCTAssertLessThan(patched.maxAbsDifference(plain), 1e-4 * max(1, scale), name)
            // And the patch does act: a replacement of zeros changes the logits.
            let zeros = SenderOutputs(senders: clean.senders, rows: clean.rows, dModel: clean.dModel,
                                      storage: [Float](repeating: 0, count: clean.storage.count))
            let ablated = try model.run(batch, logits: .all, interventions: patch.interventions(replacement: zeros)).logits!
            XCTAssertGreaterThan(ablated.maxAbsDifference(plain), 1e-3, name)
        }
    }

    /// f's anchors: the full circuit is the clean model and the empty one, under counterfactual
    /// patching, is the model on the corrupted prompts (every receiver sees only corrupted senders).
    func testFullCircuitIsTheModelAndTheEmptyOneTheCorruptedRun() throws {
        for (name, model) in try models() {
            let set = prompts(seed: 5)
            let edges = ComputationalGraph(config: model.config).edges.count
            let full = try EdgeFaithfulness.metric(model: model, prompts: set, metric: .logitDifference,
                                                   circuit: EdgeCircuit(included: [Bool](repeating: true, count: edges)))
            let empty = try EdgeFaithfulness.metric(model: model, prompts: set, metric: .logitDifference,
                                                    circuit: EdgeCircuit(included: [Bool](repeating: false, count: edges)))
            let (clean, corrupted) = (try meanMetric(model, set), try meanMetric(model, set, corrupted: true))
            XCTAssertEqual(full, clean, accuracy: 1e-4 * max(1, abs(clean)), name)
            XCTAssertEqual(empty, corrupted, accuracy: 1e-3 * max(1, abs(corrupted)), name)
            XCTAssertGreaterThan(abs(clean - corrupted), 1e-3, "\(name): the test needs prompts the model tells apart")
        }
    }

    /// Exact edge patching (stacked runs resumed at the receiver's layer) equals one hooked run per
    /// edge through the general edge patch.
    func testExactEdgePatchingEqualsOneRunPerEdge() throws {
        for (name, model) in try models() {
            let set = prompts(seed: 7)
            let exact = try EdgePatching.run(model: model, prompts: set, metric: .logitDifference, maxRows: 7)
            let context = try EdgeFaithfulness.Context(model: model, prompts: set, ablation: .counterfactual)
            let clean = try meanMetric(model, set)
            let graph = exact.graph
            XCTAssertFalse(exact.scores.contains { $0.isNaN }, name)
            for e in stride(from: 0, to: graph.edges.count, by: max(1, graph.edges.count / 40)) {
                var included = [Bool](repeating: true, count: graph.edges.count)
                included[e] = false
                let single = try context.metric(circuit: EdgeCircuit(included: included), metric: .logitDifference) - clean
                XCTAssertEqual(Double(exact.scores[e]), single, accuracy: 1e-4 * max(1, abs(clean)), "\(name) \(graph.name(of: graph.edges[e]))")
            }
            XCTAssertGreaterThan(exact.scores.map(abs).max()!, 1e-3, name)
        }
    }

    /// What an edge from a head to its own layer's MLP means, built without the edge machinery: the
    /// model runs clean except that MLP l's output is the one it gives in a run where head h writes
    /// its corrupted output (its `hook_z` slice replaced). With Gemma's post-norms the head's change
    /// reaches the MLP through the norm of the layer's attention sum, which this construction
    /// includes by running the model; exact edge patching must agree.
    func testAHeadToMLPEdgeIsTheMLPReadingTheHeadsCorruptedOutput() throws {
        for (name, model) in try models() where !model.config.attentionOnly && !model.config.parallelBlocks {
            let set = prompts(seed: 23)
            let exact = try EdgePatching.run(model: model, prompts: set, metric: .logitDifference)
            let index = exact.graph.edgeIndex()
            let c = model.config
            let batch = TokenBatch(rows: set.map(\.tokens))
            let corruptedZ = try model.run(try ActivationPatching.corruptedBatch(set), logits: .none,
                                           capture: CaptureSpec(names: (0..<c.layers).map { HookName.z($0) })).cache
            let vocabulary = ActivationPatching.metricVocabulary(set, metric: .logitDifference)
            let clean = try meanMetric(model, set)
            var checked = 0
            for layer in 0..<c.layers {
                for head in 0..<c.heads {
                    let e = try XCTUnwrap(index["a\(layer).h\(head)->m\(layer)"], name)
                    let source = corruptedZ[.z(layer)]!                        // [batch, pos, head, dHead]
                    let replaceHead = Intervention(.z(layer), .custom { z, _ in
                        for row in 0..<(z.count / (c.heads * c.dHead)) {
                            let range = ((row * c.heads + head) * c.dHead)..<((row * c.heads + head + 1) * c.dHead)
                            z.storage.replaceSubrange(range, with: source.storage[range])
                        }
                    })
                    let mlp = try model.run(batch, logits: .none, capture: CaptureSpec(names: [.mlpOut(layer)]),
                                            interventions: [replaceHead]).cache[.mlpOut(layer)]!
                    let logits = try model.run(batch, logits: .last, vocabulary: vocabulary,
                                               interventions: [Intervention(.mlpOut(layer), .replace(mlp))]).logits!
                    let values = ActivationPatching.values(logits, prompts: set, metric: .logitDifference, vocabulary: vocabulary,
                                                           vocab: c.vocabSize)
                    let effect = values.reduce(0.0) { $0 + Double($1) } / Double(values.count) - clean
                    XCTAssertEqual(Double(exact.scores[e]), effect, accuracy: 1e-4 * max(1, abs(clean)), "\(name) a\(layer).h\(head)->m\(layer)")
                    checked += 1
                }
            }
            XCTAssertGreaterThan(checked, 0, name)
        }
    }

    /// EAP is the derivative of the metric along each edge's patch: central differences of a patch
    /// scaled by ±ε, edge by edge.
    func testEAPScoresAreTheFirstOrderChangeOfPatchingEachEdge() throws {
        for (name, model) in try models() {
            let set = prompts(seed: 9)
            let eap = try EdgeAttribution.run(model: model, prompts: set, metric: .logitDifference)
            let context = try EdgeFaithfulness.Context(model: model, prompts: set, ablation: .counterfactual)
            let graph = eap.graph
            let epsilon: Float = 1e-2
            var checked = 0
            for e in stride(from: 0, to: graph.edges.count, by: max(1, graph.edges.count / 30)) {
                var included = [Bool](repeating: true, count: graph.edges.count)
                included[e] = false
                let circuit = EdgeCircuit(included: included)
                let plus = try context.metric(circuit: circuit, metric: .logitDifference, strength: epsilon)
                let minus = try context.metric(circuit: circuit, metric: .logitDifference, strength: -epsilon)
                let numeric = (plus - minus) / Double(2 * epsilon)
                XCTAssertEqual(Double(eap.scores[e]), numeric, accuracy: 2e-3 + 0.02 * abs(numeric), "\(name) \(graph.name(of: graph.edges[e]))")
                checked += 1
            }
            XCTAssertGreaterThan(checked, 10)
            XCTAssertGreaterThan(eap.scores.map(abs).max()!, 1e-3, name)
        }
    }

    /// Integrated gradients along the input embeddings are complete: the input's edges to every
    /// receiver together carry m(corrupt) − m(clean), up to the error of the left Riemann sum
    /// over α = k/steps, which shrinks like 1/steps (a quarter of it at 4× the steps).
    func testEAPIGInputEdgesSumToTheCorruptionEffect() throws {
        for (name, model) in try models(["llama-gqa", "gemma2"]) {
            let set = prompts(seed: 13)
            let target = try meanMetric(model, set, corrupted: true) - meanMetric(model, set)
            func error(steps: Int) throws -> Double {
                let scored = try EdgeAttribution.run(model: model, prompts: set, metric: .logitDifference,
                                                     method: .integratedGradients(steps: steps))
                let total = scored.graph.edges.indices.filter { scored.graph.edges[$0].sender == .input }
                    .reduce(0.0) { $0 + Double(scored.scores[$1]) }
                return abs(total - target)
            }
            let (e100, e400) = (try error(steps: 100), try error(steps: 400))
            XCTAssertLessThan(e400, 0.35 * e100 + 1e-4, name)
            XCTAssertLessThan(e400, 0.02 * max(1, abs(target)), name)
        }
    }

    /// EAP-IG on the activations with one step holds each group at its clean value in turn: every
    /// run's forward pass is the clean one, so the logits' gradient (which no held group lies
    /// beyond) is EAP's and edges into the logits score as in EAP; gradients of earlier receivers
    /// lose the paths through the held group, so other edges differ.
    func testEAPIGOnActivationsWithOneStepMatchesEAPAtTheLogits() throws {
        for (name, model) in try models(["pythia"]) {
            let set = prompts(seed: 17)
            let eap = try EdgeAttribution.run(model: model, prompts: set, metric: .logitDifference)
            let ig = try EdgeAttribution.run(model: model, prompts: set, metric: .logitDifference,
                                             method: .integratedGradientsOnActivations(steps: 1))
            let graph = eap.graph
            var differing = 0
            for (e, edge) in graph.edges.enumerated() {
                if edge.receiver == .logits {
                    XCTAssertEqual(ig.scores[e], eap.scores[e], accuracy: 1e-5 + 1e-4 * abs(eap.scores[e]), "\(name) \(graph.name(of: edge))")
                } else if abs(ig.scores[e] - eap.scores[e]) > 1e-4 * (1 + abs(eap.scores[e])) {
                    differing += 1
                }
            }
            XCTAssertGreaterThan(differing, 0, name)
            let multi = try EdgeAttribution.run(model: model, prompts: set, metric: .logitDifference, method: .integratedGradientsOnActivations(steps: 3),
                                                ablation: .mean)
            XCTAssertFalse(multi.scores.contains { $0.isNaN }, name)
        }
    }

    /// Edge ACDC keeps exactly the edges whose removal, given the removals before them, cost at
    /// least τ; a huge τ removes everything; a negative one is refused.
    func testEdgeACDCKeepsWhatCostsAtLeastTheThreshold() throws {
        let (_, model) = try models([])[0]
        let set = prompts(seed: 19)
        let result = try EdgeACDC.run(model: model, prompts: set, metric: .logitDifference, threshold: 1e-3)
        let graph = result.scores.graph
        for e in graph.edges.indices {
            XCTAssertEqual(result.circuit.included[e], result.scores.scores[e] >= 1e-3, graph.name(of: graph.edges[e]))
        }
        XCTAssertGreaterThan(result.circuit.edgeCount, 0)
        XCTAssertLessThan(result.circuit.edgeCount, graph.edges.count)
        let everything = try EdgeACDC.run(model: model, prompts: set, metric: .logitDifference, threshold: 1e9)
        XCTAssertEqual(everything.circuit.edgeCount, 0)
        XCTAssertThrowsError(try EdgeACDC.run(model: model, prompts: set, metric: .logitDifference, threshold: -1))
    }

    /// Same prompts on both sides: nothing to patch, every score zero.
    func testIdenticalCounterfactualsScoreZero() throws {
        let (_, model) = try models([])[0]
        let set = prompts(seed: 2).map { TaskPrompt(text: "", tokens: $0.tokens, answers: $0.answers, wrongAnswers: $0.wrongAnswers,
                                                    corruptedTokens: $0.tokens) }
        for scored in [try EdgeAttribution.run(model: model, prompts: set, metric: .logitDifference),
                       try EdgeAttribution.run(model: model, prompts: set, metric: .logitDifference, method: .integratedGradients(steps: 3)),
                       try EdgeAttribution.run(model: model, prompts: set, metric: .logitDifference,
                                               method: .integratedGradientsOnActivations(steps: 2)),
                       try EdgePatching.run(model: model, prompts: set, metric: .logitDifference)] {
            XCTAssertEqual(scored.scores.map(abs).max()!, 0, accuracy: 1e-5, scored.method)
        }
    }

    func testBadOptionsAreRefusedClearly() throws {
        let (_, model) = try models([])[0]
        XCTAssertThrowsError(try EdgeAttribution.run(model: model, prompts: [], metric: .logitDifference))
        XCTAssertThrowsError(try EdgeAttribution.run(model: model, prompts: prompts(seed: 1), metric: .logitDifference,
                                                     method: .integratedGradients(steps: 0)))
        XCTAssertThrowsError(try EdgeAttribution.run(model: model, prompts: prompts(seed: 1), metric: .logitDifference,
                                                     method: .integratedGradients(steps: 5), ablation: .mean))
    }

    /// Edge methods size their buffers before starting and refuse what the memory left cannot hold.
    func testEdgeMethodsRefuseWorkThatDoesNotFitInMemory() throws {
        let (_, model) = try models([])[0]
        setenv(MemoryBudget.limitVariable, "4K", 1)
        defer { unsetenv(MemoryBudget.limitVariable) }
        XCTAssertThrowsError(try EdgeAttribution.run(model: model, prompts: prompts(seed: 1), metric: .logitDifference)) { error in
            XCTAssertTrue("\(error)".hasPrefix("eap on 3 prompts × 7 positions needs about"), "\(error)")
        }
        XCTAssertThrowsError(try EdgePatching.run(model: model, prompts: prompts(seed: 1), metric: .logitDifference)) { error in
            XCTAssertTrue("\(error)".contains("--patching-prompts"), "\(error)")
        }
        setenv(MemoryBudget.limitVariable, "1G", 1)
        XCTAssertNoThrow(try EdgeAttribution.run(model: model, prompts: prompts(seed: 1), metric: .logitDifference))
    }

    /// The curve's ends are f(∅-side) = 0-anchored and f(100%) = 1, and node scores follow the edges.
    func testFaithfulnessCurveReachesOneAtTheFullGraph() throws {
        let (_, model) = try models([])[0]
        let set = prompts(seed: 21, count: 4)
        let eap = try EdgeAttribution.run(model: model, prompts: set, metric: .logitDifference)
        let curve = try EdgeFaithfulness.curve(model: model, prompts: set, metric: .logitDifference, scores: eap,
                                               fractions: [0.1, 0.5, 1])
        XCTAssertEqual(curve.faithfulness.last!, 1, accuracy: 1e-3)
        // Grown from the logits, every edge is reachable at 100%, so the greedy curve ends at 1 too.
        let greedy = try EdgeFaithfulness.curve(model: model, prompts: set, metric: .logitDifference, scores: eap, selection: .greedy,
                                                fractions: [0.1, 0.5, 1])
        XCTAssertEqual(greedy.faithfulness.last!, 1, accuracy: 1e-3)
        XCTAssertEqual(curve.edgeCounts, FaithfulnessCurve.edgeCounts(fractions: [0.1, 0.5, 1], total: eap.graph.edges.count))
        let nodes = eap.nodeScores()
        XCTAssertEqual(nodes.scores.count, model.config.layers * model.config.heads)
        XCTAssertTrue(nodes.scores.allSatisfy { $0 >= 0 } && nodes.scores.contains { $0 > 0 })
        XCTAssertThrowsError(try EdgeFaithfulness.curve(model: model, prompts: set, metric: .logitDifference, scores: eap, fractions: [0.5, 0.1]))
    }
}
