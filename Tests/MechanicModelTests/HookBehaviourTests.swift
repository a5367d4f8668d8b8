import XCTest
@testable import MechanicModel
import MechanicTensor
import MechanicTokenizer

struct Boom: Error {}

final class HookBehaviourTests: XCTestCase {
    func testEveryHookIsCapturedWithItsDeclaredShape() throws {
        for attentionOnly in [false, true] {
            let model = try tinyModel(attentionOnly: attentionOnly)
            let batch = randomBatch(rows: [6, 6])
            let out = try model.run(batch, capture: .everything)
            XCTAssertEqual(out.cache.names, model.hookNames)
            for name in model.hookNames {
                XCTAssertEqual(out.cache[name]?.shape, name.point.shape(batch: 2, positions: 6, config: model.config), "\(name)")
            }
        }
    }

    func testPatchingWithOwnCacheChangesNothing() throws {
        let model = try tinyModel()
        let batch = randomBatch(rows: [7, 7, 7])
        let clean = try model.run(batch, capture: .everything)
        for name in model.hookNames {
            // Compare against a run that takes the same code path (an active hook materialises its activation).
            let reference = try model.run(batch, capture: CaptureSpec(names: [name]))
            let patched = try model.run(batch, interventions: [Intervention(name, .patch(reference.cache))])
            XCTAssertEqual(patched.logits, reference.logits, "patching \(name) with its own value changed the logits")
            // A cache from a run that materialised every hook differs only by float rounding.
            let fromFullCache = try model.run(batch, interventions: [Intervention(name, .patch(clean.cache))])
            XCTAssertClose(fromFullCache.logits, clean.logits, tolerance: 1e-5, "\(name)")
        }
    }

    func testZeroAblatingAHeadChangesExactlyThatHead() throws {
        let model = try tinyModel()
        let batch = randomBatch(rows: [8, 8])
        let spec = CaptureSpec(where: { $0.layer != nil || $0.point == .lnFinalNormalized })
        let clean = try model.run(batch, capture: spec)
        let ablated = try model.run(batch, capture: spec, interventions: [Intervention(.z(1), heads: [2], .zero)])
        // Everything before layer 1's z is untouched.
        for name in model.hookNames where name < .z(1) && name.layer != nil {
            XCTAssertEqual(ablated.cache[name], clean.cache[name], "\(name) changed")
        }
        // In layer 1: head 2's z and result are zero; the other heads are unchanged.
        let z = ablated.cache[.z(1)]!, cleanZ = clean.cache[.z(1)]!
        let result = ablated.cache[.result(1)]!, cleanResult = clean.cache[.result(1)]!
        for b in 0..<2 { for p in 0..<8 { for h in 0..<3 {
            for i in 0..<4 { XCTAssertEqual(z[b, p, h, i], h == 2 ? 0 : cleanZ[b, p, h, i]) }
            for i in 0..<12 { XCTAssertEqual(result[b, p, h, i], h == 2 ? 0 : cleanResult[b, p, h, i]) }
        } } }
        // attn_out is now bias + the other heads' results.
        let attnOut = ablated.cache[.attnOut(1)]!
        let expected = cleanResult.storage.indices.reduce(into: [Float](repeating: 0, count: 2 * 8 * 12)) { acc, i in
            let (row, rest) = i.quotientAndRemainder(dividingBy: 3 * 12)
            let (h, d) = rest.quotientAndRemainder(dividingBy: 12)
            if h != 2 { acc[row * 12 + d] += cleanResult.storage[i] }
        }
        for row in 0..<16 { for d in 0..<12 {
            XCTAssertEqual(attnOut.storage[row * 12 + d], expected[row * 12 + d] + model.weights.blocks[1].attnOutBias!.storage[d], accuracy: 1e-5)
        } }
        XCTAssertNotEqual(ablated.logits, clean.logits)
    }

    func testInterventionsRestrictedToPositions() throws {
        let model = try tinyModel()
        let batch = randomBatch(rows: [6, 4])
        let spec = CaptureSpec(names: [.residPre(1)])
        let clean = try model.run(batch, capture: spec)
        let edited = try model.run(batch, capture: spec, interventions: [Intervention(.residPre(1), positions: [-1], .zero)])
        let r = edited.cache[.residPre(1)]!, c = clean.cache[.residPre(1)]!
        for b in 0..<2 { for p in 0..<6 { for d in 0..<12 {
            let last = batch.lengths[b] - 1
            XCTAssertEqual(r[b, p, d], p == last ? 0 : c[b, p, d])
        } } }
    }

    func testAddAndMeanBroadcastOverLeadingAxes() throws {
        let model = try tinyModel()
        let batch = randomBatch(rows: [5, 5])
        let spec = CaptureSpec(names: [.z(0)])
        let clean = try model.run(batch, capture: spec).cache[.z(0)]!
        let headMean = Tensor(shape: [3, 4], storage: (0..<12).map { Float($0) })
        let meaned = try model.run(batch, capture: spec, interventions: [Intervention(.z(0), heads: [1], .mean(headMean))]).cache[.z(0)]!
        let added = try model.run(batch, capture: spec, interventions: [Intervention(.z(0), .add(Tensor(shape: [4], repeating: 1)))]).cache[.z(0)]!
        for b in 0..<2 { for p in 0..<5 { for h in 0..<3 { for i in 0..<4 {
            XCTAssertEqual(meaned[b, p, h, i], h == 1 ? Float(h * 4 + i) : clean[b, p, h, i])
            XCTAssertEqual(added[b, p, h, i], clean[b, p, h, i] + 1)
        } } } }
    }

    func testHooksDoNotLeakAfterAThrowingRun() throws {
        let model = try tinyModel()
        let batch = randomBatch(rows: [5])
        let baseline = try model.run(batch)
        XCTAssertThrowsError(try model.run(batch, interventions: [
            Intervention(.residPre(0), .zero),
            Intervention(.pattern(1), .custom { _, _ in throw Boom() }),
        ])) { XCTAssertTrue($0 is Boom) }
        let after = try model.run(batch)
        XCTAssertEqual(after.logits, baseline.logits)
        XCTAssertTrue(after.cache.names.isEmpty)
    }

    func testCapturingByPositionKeepsOnlyThosePositions() throws {
        let model = try tinyModel()
        let batch = randomBatch(rows: [7, 4, 6])
        let names: [HookName] = [.residPost(1), .pattern(0), .result(1), .ln1Scale(0)]
        let all = try model.run(batch, capture: CaptureSpec(names: names)).cache
        let last = try model.run(batch, capture: CaptureSpec(names: names, positions: .last)).cache
        let chosen = try model.run(batch, capture: CaptureSpec(names: names, positions: .indices([0, -2]))).cache
        for name in names {
            let full = all[name]!
            XCTAssertEqual(last[name]!.shape[name.point.positionAxis], 1)
            XCTAssertEqual(chosen[name]!.shape[name.point.positionAxis], 2)
            for b in 0..<3 {
                let length = batch.lengths[b]
                XCTAssertEqual(slice(last[name]!, name, b, 0), slice(full, name, b, length - 1), "\(name)")
                XCTAssertEqual(slice(chosen[name]!, name, b, 0), slice(full, name, b, 0), "\(name)")
                XCTAssertEqual(slice(chosen[name]!, name, b, 1), slice(full, name, b, length - 2), "\(name)")
            }
        }
        XCTAssertLessThan(last.elementCount, all.elementCount)
    }

    /// All elements of row `b` at position `p` along the hook's position axis.
    func slice(_ t: Tensor, _ name: HookName, _ b: Int, _ p: Int) -> [Float] {
        let axis = name.point.positionAxis
        let outer = t.shape[1..<axis].reduce(1, *), inner = t.shape[(axis + 1)...].reduce(1, *), n = t.shape[axis]
        return (0..<outer).flatMap { o in
            let start = ((b * outer + o) * n + p) * inner
            return Array(t.storage[start..<(start + inner)])
        }
    }

    func testComputingPerHeadResultsDoesNotChangeTheOutput() throws {
        let model = try tinyModel()
        let batch = randomBatch(rows: [9, 9])
        let plain = try model.run(batch, capture: CaptureSpec(names: [.attnOut(0), .attnOut(1)]))
        let split = try model.run(batch, capture: CaptureSpec(names: [.attnOut(0), .attnOut(1), .result(0), .result(1)]))
        XCTAssertClose(plain.cache[.attnOut(1)], split.cache[.attnOut(1)], tolerance: 1e-5)
        XCTAssertClose(plain.logits, split.logits, tolerance: 1e-4)
    }

    func testPaddedAndUnpaddedRunsAgreeOnRealTokens() throws {
        let model = try tinyModel()
        let padded = randomBatch(rows: [9, 4, 6])
        let spec = CaptureSpec(names: [.residPost(1), .z(0)])
        let together = try model.run(padded, capture: spec)
        for b in 0..<3 {
            let alone = try model.run(TokenBatch(padded.row(b)), capture: spec)
            let length = padded.lengths[b]
            for name in [HookName.residPost(1), .z(0)] {
                let x = together.cache[name]!.realPositions(row: b, length: length)
                let y = alone.cache[name]!.realPositions(row: 0, length: length)
                XCTAssertLessThanOrEqual(zip(x, y).map { abs($0 - $1) }.max()!, 1e-5, "\(name) row \(b)")
            }
            let x = together.logits!.realPositions(row: b, length: length)
            let y = alone.logits!.realPositions(row: 0, length: length)
            XCTAssertLessThanOrEqual(zip(x, y).map { abs($0 - $1) }.max()!, 1e-4, "logits row \(b)")
        }
    }

    func testLogitSelections() throws {
        let model = try tinyModel()
        let batch = randomBatch(rows: [6, 3])
        let all = try model.run(batch).logits!
        let last = try model.run(batch, logits: .last).logits!
        let some = try model.run(batch, logits: .positions([0, -1])).logits!
        XCTAssertNil(try model.run(batch, logits: .none).logits)
        XCTAssertEqual(last.shape, [2, 1, 50])
        XCTAssertEqual(some.shape, [2, 2, 50])
        for b in 0..<2 {
            let l = batch.lengths[b] - 1
            for v in 0..<50 {
                XCTAssertEqual(last[b, 0, v], all[b, l, v], accuracy: 1e-5)
                XCTAssertEqual(some[b, 0, v], all[b, 0, v], accuracy: 1e-5)
                XCTAssertEqual(some[b, 1, v], all[b, l, v], accuracy: 1e-5)
            }
        }
    }

    func testRunningFromALayerMatchesTheFullRun() throws {
        let model = try tinyModel()
        let batch = randomBatch(rows: [7, 7])
        let full = try model.run(batch, capture: CaptureSpec(names: [.residPre(1)]))
        let resumed = try model.run(batch, fromLayer: 1, residual: full.cache[.residPre(1)]!)
        XCTAssertEqual(resumed.logits, full.logits)
        XCTAssertThrowsError(try model.run(batch, fromLayer: 3, residual: full.cache[.residPre(1)]!))
    }

    func testBadInputGivesTypedErrors() throws {
        let model = try tinyModel()
        let batch = randomBatch(rows: [5])
        func expect(_ expected: ModelError, _ body: () throws -> Void, line: UInt = #line) {
            XCTAssertThrowsError(try body(), line: line) { XCTAssertEqual($0 as? ModelError, expected, line: line) }
        }
        expect(.promptTooLong(row: 0, length: 17, contextLength: 16)) { _ = try model.run(randomBatch(rows: [17])) }
        expect(.tokenOutOfRange(row: 0, position: 1, id: 50, vocabSize: 50)) { _ = try model.run(TokenBatch([1, 50])) }
        expect(.unknownHook("blocks.2.attn.hook_z")) { _ = try model.run(batch, interventions: [Intervention(.z(2), .zero)]) }
        expect(.headOutOfRange(hook: "blocks.0.attn.hook_z", head: 3, heads: 3)) {
            _ = try model.run(batch, interventions: [Intervention(.z(0), heads: [3], .zero)])
        }
        expect(.headOutOfRange(hook: "blocks.0.hook_resid_pre", head: 0, heads: 0)) {
            _ = try model.run(batch, interventions: [Intervention(.residPre(0), heads: [0], .zero)])
        }
        expect(.positionOutOfRange(hook: "blocks.0.hook_resid_pre", position: 5, length: 5)) {
            _ = try model.run(batch, interventions: [Intervention(.residPre(0), positions: [5], .zero)])
        }
        expect(.interventionShape(hook: "blocks.0.attn.hook_z", expected: [1, 5, 3, 4], found: [5, 3])) {
            _ = try model.run(batch, interventions: [Intervention(.z(0), .replace(Tensor(shape: [5, 3])))])
        }
        expect(.missingPatchSource(hook: "blocks.0.attn.hook_z")) {
            _ = try model.run(batch, interventions: [Intervention(.z(0), .patch(ActivationCache()))])
        }
        expect(.positionOutOfRange(hook: "blocks.0.hook_resid_pre", position: 9, length: 5)) {
            _ = try model.run(batch, capture: CaptureSpec(names: [.residPre(0)], positions: .indices([9])))
        }
        let attnOnly = try tinyModel(attentionOnly: true)
        expect(.unknownHook("blocks.0.mlp.hook_post")) { _ = try attnOnly.run(batch, interventions: [Intervention(.mlpPost(0), .zero)]) }
    }

    func testEditingScaleAndNormalizedHooksFeedsThrough() throws {
        let model = try tinyModel()
        let batch = randomBatch(rows: [4])
        let clean = try model.run(batch, capture: CaptureSpec(names: [.ln1Normalized(0)]))
        // Doubling the scale halves the normalized values.
        let doubled = try model.run(batch, capture: CaptureSpec(names: [.ln1Normalized(0)]), interventions: [
            Intervention(.ln1Scale(0), .custom { t, _ in t.storage = t.storage.map { $0 * 2 } }),
        ])
        XCTAssertClose(doubled.cache[.ln1Normalized(0)], Tensor(shape: clean.cache[.ln1Normalized(0)]!.shape,
                       storage: clean.cache[.ln1Normalized(0)]!.storage.map { $0 / 2 }), tolerance: 1e-5)
        XCTAssertNotEqual(doubled.logits, clean.logits)
    }
}
