import XCTest
@testable import MechanicModel
import MechanicTensor
import MechanicTokenizer

/// A run without logits stops after its last active hook; what it captures must not change.
final class ForwardExtentTests: XCTestCase {
    func testExtentEndsAtTheLastActiveHook() {
        typealias Extent = Transformer.ForwardExtent
        XCTAssertEqual(Extent(layers: 4, logits: .last, lastHook: .z(1)), Extent(blocks: 4, lastBlockStopsAfterZ: false, final: true))
        XCTAssertEqual(Extent(layers: 4, logits: .none, lastHook: nil), Extent(blocks: 0, lastBlockStopsAfterZ: false, final: false))
        XCTAssertEqual(Extent(layers: 4, logits: .none, lastHook: .posEmbed), Extent(blocks: 0, lastBlockStopsAfterZ: false, final: false))
        XCTAssertEqual(Extent(layers: 4, logits: .none, lastHook: .z(1)), Extent(blocks: 2, lastBlockStopsAfterZ: true, final: false))
        XCTAssertEqual(Extent(layers: 4, logits: .none, lastHook: .pattern(3)), Extent(blocks: 4, lastBlockStopsAfterZ: true, final: false))
        XCTAssertEqual(Extent(layers: 4, logits: .none, lastHook: .result(1)), Extent(blocks: 2, lastBlockStopsAfterZ: false, final: false))
        XCTAssertEqual(Extent(layers: 4, logits: .none, lastHook: .residPost(2)), Extent(blocks: 3, lastBlockStopsAfterZ: false, final: false))
        XCTAssertEqual(Extent(layers: 4, logits: .none, lastHook: .lnFinalScale), Extent(blocks: 4, lastBlockStopsAfterZ: false, final: true))
    }

    func testAShortenedRunCapturesWhatTheFullRunCaptures() throws {
        for attentionOnly in [false, true] {
            let model = try tinyModel(attentionOnly: attentionOnly, layers: 3)
            let batch = randomBatch(rows: [6, 4])
            for name in model.hookNames {
                // The same hooks are active in both runs, so both take the same code path.
                let spec = CaptureSpec(names: [.embed, name])
                let full = try model.run(batch, logits: .all, capture: spec)
                let short = try model.run(batch, logits: .none, capture: spec)
                XCTAssertNil(short.logits)
                XCTAssertEqual(short.cache[name], full.cache[name], "\(name)")
                XCTAssertEqual(short.cache[.embed], full.cache[.embed], "\(name)")
            }
            // Every hook_z at once, as head-output capture asks for them, and an edit before the last.
            let zs = (0..<3).map { HookName.z($0) }
            let edit = [Intervention(.z(1), heads: [0], .zero)]
            let full = try model.run(batch, logits: .last, capture: CaptureSpec(names: zs), interventions: edit)
            let short = try model.run(batch, logits: .none, capture: CaptureSpec(names: zs), interventions: edit)
            for name in zs { XCTAssertEqual(short.cache[name], full.cache[name], "\(name)") }
            // Resuming from a block stops early too.
            let resid = try model.run(batch, capture: CaptureSpec(names: [.residPre(1)])).cache[.residPre(1)]!
            let resumed = try model.run(batch, fromLayer: 1, residual: resid, logits: .none, capture: CaptureSpec(names: [.z(1)]))
            let direct = try model.run(batch, logits: .none, capture: CaptureSpec(names: [.z(1)]))
            XCTAssertEqual(resumed.cache[.z(1)], direct.cache[.z(1)])
        }
    }
}
