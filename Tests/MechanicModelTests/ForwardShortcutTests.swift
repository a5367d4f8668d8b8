import XCTest
@testable import MechanicModel
import MechanicTensor
import MechanicTokenizer

/// The forward pass skips work nothing reads: the last block off the last positions when only
/// last-position logits are wanted, and a layer's attention when `hook_z` is replaced entirely.
/// Each shortcut is checked against the straightforward pass.
final class ForwardShortcutTests: XCTestCase {
    /// The full pass's last-position logits: a captured last-block hook keeps every position.
    func fullLastLogits(_ model: Transformer, _ batch: TokenBatch, interventions: [Intervention] = []) throws -> Tensor {
        let keep = CaptureSpec(names: [.residPost(model.config.layers - 1)])
        return try model.run(batch, logits: .last, capture: keep, interventions: interventions).logits!
    }

    func testLastPositionLogitsEqualTheFullPass() throws {
        for attentionOnly in [false, true] {
            let model = try tinyModel(attentionOnly: attentionOnly, layers: 3)
            for rows in [[7], [6, 6, 6], [6, 3, 5, 1]] {                    // padded rows end at different positions
                let batch = randomBatch(rows: rows)
                XCTAssertTrue(model.lastBlockRunsAtLastPositions(2, logits: .last,
                                                                 hooks: try HookRunner(batch: batch, config: model.config, capture: nil, interventions: [])))
                let fast = try model.run(batch, logits: .last).logits!
                XCTAssertEqual(fast.shape, [rows.count, 1, 50])
                XCTAssertClose(fast, try fullLastLogits(model, batch), tolerance: 1e-5, "\(rows) attention-only \(attentionOnly)")
            }
        }
    }

    func testLastPositionLogitsOnLongPromptsEqualTheFullPass() throws {
        // Past the attention tile (64 tokens) the full pass uses BLAS tiles; the shortcut one BLAS row.
        let config = TransformerConfig(layers: 2, heads: 2, dModel: 16, contextLength: 100, vocabSize: 40, innerDimension: 24)
        let model = try Transformer(config: config, weights: .random(config: config, seed: 5, std: 0.4))
        let batch = randomBatch(rows: [90, 70], vocab: 40)
        XCTAssertClose(try model.run(batch, logits: .last).logits!, try fullLastLogits(model, batch), tolerance: 1e-5)
    }

    func testHooksInTheLastBlockKeepTheFullPass() throws {
        let model = try tinyModel(layers: 2)
        let batch = randomBatch(rows: [5, 5])
        let runner = { (capture: CaptureSpec?, interventions: [Intervention]) in
            try HookRunner(batch: batch, config: model.config, capture: capture, interventions: interventions)
        }
        XCTAssertFalse(model.lastBlockRunsAtLastPositions(1, logits: .last, hooks: try runner(CaptureSpec(names: [.mlpOut(1)]), [])))
        XCTAssertFalse(model.lastBlockRunsAtLastPositions(1, logits: .last, hooks: try runner(CaptureSpec(names: [.lnFinalScale]), [])))
        XCTAssertFalse(model.lastBlockRunsAtLastPositions(1, logits: .last, hooks: try runner(nil, [Intervention(.z(1), heads: [0], .zero)])))
        XCTAssertFalse(model.lastBlockRunsAtLastPositions(1, logits: .all, hooks: try runner(nil, [])))
        XCTAssertTrue(model.lastBlockRunsAtLastPositions(1, logits: .last, hooks: try runner(CaptureSpec(names: [.z(0)]), [])))
        let z = Tensor(shape: [2, 5, 3, 4], repeating: 0.1)
        XCTAssertTrue(model.lastBlockRunsAtLastPositions(1, logits: .last, hooks: try runner(nil, [Intervention(.z(1), .replace(z))])))
    }

    func testReplacingAllOfHookZSkipsTheAttentionAndChangesNothing() throws {
        let model = try tinyModel(layers: 3)
        let batch = randomBatch(rows: [6, 4, 6])
        let other = try model.run(randomBatch(rows: [6, 4, 6], seed: 9), logits: .none, capture: CaptureSpec(where: { $0.point == .z })).cache
        for layer in 0..<3 {
            let z = other[.z(layer)]!
            // The same edit as a custom closure: the model cannot see that it overwrites everything.
            let replace = Intervention(.z(layer), .replace(z))
            let custom = Intervention(.z(layer), .custom { t, _ in t = z })
            let runner = try HookRunner(batch: batch, config: model.config, capture: nil, interventions: [replace])
            XCTAssertTrue(model.zIsReplaced(layer, hooks: runner))
            XCTAssertFalse(model.zIsReplaced(layer, hooks: try HookRunner(batch: batch, config: model.config, capture: nil, interventions: [custom])))
            let spec = CaptureSpec(names: [.z(layer), .attnOut(layer), .residPost(2)])
            let fast = try model.run(batch, logits: .all, capture: spec, interventions: [replace])
            let slow = try model.run(batch, logits: .all, capture: spec, interventions: [custom])
            XCTAssertEqual(fast.cache[.z(layer)], z)
            XCTAssertEqual(fast.cache[.attnOut(layer)], slow.cache[.attnOut(layer)], "layer \(layer)")
            XCTAssertEqual(fast.logits, slow.logits, "layer \(layer)")
            // A hook before z (here the pattern) keeps the attention: it must still be computed.
            let withPattern = try model.run(batch, logits: .all, capture: CaptureSpec(names: [.pattern(layer)]), interventions: [replace])
            XCTAssertNotNil(withPattern.cache[.pattern(layer)])
            XCTAssertEqual(withPattern.logits, fast.logits)
            // Resumed runs and the last-position shortcut agree with the full pass.
            let resid = try model.run(batch, capture: CaptureSpec(names: [.residPre(layer)])).cache[.residPre(layer)]!
            let resumed = try model.run(batch, fromLayer: layer, residual: resid, logits: .last, interventions: [replace])
            XCTAssertClose(resumed.logits, try fullLastLogits(model, batch, interventions: [custom]), tolerance: 1e-5, "layer \(layer)")
        }
    }

    func testAVocabularySelectionUnembedsOnlyThoseTokens() throws {
        let model = try tinyModel(layers: 2)
        let batch = randomBatch(rows: [6, 4])
        let ids = [7, 0, 49, 7]
        for logits in [LogitsSelection.all, .last] {
            let full = try model.run(batch, logits: logits).logits!            // [batch, pos', vocab]
            let some = try model.run(batch, logits: logits, vocabulary: ids).logits!
            XCTAssertEqual(some.shape, [2, full.shape[1], 4])
            for b in 0..<2 { for p in 0..<full.shape[1] { for (j, id) in ids.enumerated() {
                XCTAssertEqual(some[b, p, j], full[b, p, id], accuracy: 1e-6)
            } } }
        }
        XCTAssertThrowsError(try model.run(batch, logits: .last, vocabulary: [3, 50])) {
            XCTAssertEqual($0 as? ModelError, .vocabularyOutOfRange(id: 50, vocabSize: 50))
        }
    }
}
