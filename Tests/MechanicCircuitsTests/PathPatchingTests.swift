import XCTest
@testable import MechanicCircuits
import MechanicModel
import MechanicTasks
import MechanicTensor
import MechanicTokenizer

/// Path patching from senders to receivers' queries, and single-head patching from aligned twins.
final class PathPatchingTests: XCTestCase {
    let config = TransformerConfig(layers: 3, heads: 4, dModel: 16, contextLength: 16, vocabSize: 30, innerDimension: 12)

    func prompts(seed: UInt64, twinsEqualClean: Bool = false) -> [TaskPrompt] {
        var rng = SeededRandom(seed: seed)
        return (0..<6).map { i in
            let length = 5 + i % 3                                          // unequal lengths: padded batches
            let tokens = (0..<length).map { _ in Int(rng.next() % 30) }
            let corrupted = twinsEqualClean ? tokens : tokens.map { rng.next() % 3 == 0 ? Int(rng.next() % 30) : $0 }
            return TaskPrompt(text: "", tokens: tokens, answers: [Int(rng.next() % 30)], wrongAnswers: [Int(rng.next() % 30)],
                              corruptedTokens: corrupted)
        }
    }

    func testIdenticalTwinsMoveNothing() throws {
        let model = try Transformer(config: config, weights: .random(config: config, seed: 3, std: 0.5))
        let same = prompts(seed: 1, twinsEqualClean: true)
        let effect = try PathPatching.senderToReceiverQueries(model: model, prompts: same, metric: .logitDifference,
                                                              senders: [HeadID(layer: 0, head: 1), HeadID(layer: 1, head: 2)],
                                                              receivers: [HeadID(layer: 2, head: 0), HeadID(layer: 2, head: 3)])
        XCTAssertEqual(effect.patched, effect.clean, accuracy: 1e-5)
        XCTAssertTrue(try PathPatching.headEffects(model: model, prompts: same, metric: .logitDifference).allSatisfy { abs($0) < 1e-5 })
    }

    func testOnlyTheReceiversQueriesChange() throws {
        let model = try Transformer(config: config, weights: .random(config: config, seed: 4, std: 0.5))
        let data = prompts(seed: 2)
        let senders = [HeadID(layer: 0, head: 0), HeadID(layer: 0, head: 2)], receivers = [HeadID(layer: 1, head: 1)]
        let effect = try PathPatching.senderToReceiverQueries(model: model, prompts: data, metric: .logitDifference,
                                                              senders: senders, receivers: receivers)
        XCTAssertNotEqual(effect.patched, effect.clean, "different twins change the receiver's query")
        // Senders after the receiver have no path to it.
        let none = try PathPatching.senderToReceiverQueries(model: model, prompts: data, metric: .logitDifference,
                                                            senders: [HeadID(layer: 2, head: 0)], receivers: receivers)
        XCTAssertEqual(none.patched, none.clean, accuracy: 1e-5)
        // Patching every layer-0 head's path into layer 1's queries equals recomputing layer 1's queries
        // from a residual stream whose layer-0 attention output is the twin's: check one prompt by hand.
        let p = data[0]
        let all0 = (0..<config.heads).map { HeadID(layer: 0, head: $0) }
        let byPaths = try PathPatching.senderToReceiverQueries(model: model, prompts: [p], metric: .logitDifference,
                                                               senders: all0, receivers: [HeadID(layer: 1, head: 3)])
        let clean = try model.run(TokenBatch(rows: [p.tokens]), logits: .none,
                                  capture: CaptureSpec(names: [HookName.residPre(1), HookName.attnOut(0)])).cache
        let twin = try model.run(TokenBatch(rows: [p.corruptedTokens!]), logits: .none, capture: CaptureSpec(names: [HookName.attnOut(0)])).cache
        var residual: Tensor = clean[HookName.residPre(1)]!
        let twinOut: [Float] = twin[HookName.attnOut(0)]!.storage, cleanOut: [Float] = clean[HookName.attnOut(0)]!.storage
        let d = config.dModel, end = p.tokens.count - 1
        for i in 0..<d {
            let delta: Float = twinOut[end * d + i] - cleanOut[end * d + i]
            residual.storage[end * d + i] += delta
        }
        let q = try model.run(TokenBatch(rows: [p.tokens]), fromLayer: 1, residual: residual, logits: .none,
                              capture: CaptureSpec(names: [HookName.q(1)])).cache
        let manual = try TaskDataset.metricValues(model: model, prompts: [p], metric: .logitDifference,
                                                  interventions: [Intervention(.q(1), heads: [3], positions: [-1], .patch(q))])[0]
        XCTAssertEqual(byPaths.patched, manual, accuracy: 1e-4)
    }

    func testStabilityIsMeanPairwiseJaccard() {
        let a = [HeadID(layer: 0, head: 0), HeadID(layer: 1, head: 1)], b = [HeadID(layer: 0, head: 0)], c: [HeadID] = []
        let s = CircuitStability(task: "t", procedure: "p", seeds: [1, 2, 3], circuits: [a, b, c])
        XCTAssertEqual(s.meanJaccard, (0.5 + 0 + 0) / 3, accuracy: 1e-12)
        XCTAssertEqual(CircuitStability(task: "t", procedure: "p", seeds: [1, 2], circuits: [a, a]).meanJaccard, 1)
    }

    func testChecksCompareAsStated() {
        XCTAssertTrue(MechanismCheck("x", measured: 0.4, .atLeast, 0.4).passed)
        XCTAssertFalse(MechanismCheck("x", measured: 0.4, .above, 0.4).passed)
        XCTAssertTrue(MechanismCheck("x", measured: 0.99, .below, 1).passed)
        XCTAssertFalse(MechanismCheck("x", measured: .nan, .below, 1).passed)
    }
}
