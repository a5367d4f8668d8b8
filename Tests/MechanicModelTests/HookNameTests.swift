import XCTest
@testable import MechanicModel

/// Hook names are public API: this list is frozen. Change it only on purpose.
final class HookNameTests: XCTestCase {
    static let frozenBlock = [
        "hook_resid_pre", "ln1.hook_scale", "ln1.hook_normalized",
        "attn.hook_q", "attn.hook_k", "attn.hook_v", "attn.hook_attn_scores", "attn.hook_pattern",
        "attn.hook_z", "attn.hook_result", "hook_attn_out", "hook_resid_mid",
        "ln2.hook_scale", "ln2.hook_normalized", "mlp.hook_pre", "mlp.hook_post", "hook_mlp_out",
        "hook_resid_post",
    ]

    func testOrderedHookNamesAreFrozen() {
        let names = HookName.all(for: TransformerConfig(layers: 2)).map(\.description)
        let expected = ["hook_embed", "hook_pos_embed"]
            + (0..<2).flatMap { l in Self.frozenBlock.map { "blocks.\(l).\($0)" } }
            + ["ln_final.hook_scale", "ln_final.hook_normalized"]
        XCTAssertEqual(names, expected)
    }

    func testAttentionOnlyModelsHaveNoMLPHooksAndNoResidMid() {
        let names = HookName.all(for: TransformerConfig(layers: 1, attentionOnly: true)).map(\.description)
        XCTAssertEqual(names, [
            "hook_embed", "hook_pos_embed",
            "blocks.0.hook_resid_pre", "blocks.0.ln1.hook_scale", "blocks.0.ln1.hook_normalized",
            "blocks.0.attn.hook_q", "blocks.0.attn.hook_k", "blocks.0.attn.hook_v",
            "blocks.0.attn.hook_attn_scores", "blocks.0.attn.hook_pattern", "blocks.0.attn.hook_z",
            "blocks.0.attn.hook_result", "blocks.0.hook_attn_out", "blocks.0.hook_resid_post",
            "ln_final.hook_scale", "ln_final.hook_normalized",
        ])
    }

    func testParsingRoundTripsAndRejectsNonsense() {
        for name in HookName.all(for: TransformerConfig(layers: 3)) {
            XCTAssertEqual(HookName(parsing: name.description), name)
        }
        for bad in ["", "blocks", "blocks.x.hook_z", "blocks.-1.attn.hook_z", "blocks.0.hook_embed", "hook_resid_pre", "attn.hook_z", "blocks.0.attn.hook_zz"] {
            XCTAssertNil(HookName(parsing: bad), bad)
        }
        XCTAssertEqual(HookName.z(3).description, "blocks.3.attn.hook_z")
    }

    func testDeclaredShapes() {
        let c = TransformerConfig(layers: 1, heads: 3, dModel: 12, innerDimension: 20)
        XCTAssertEqual(HookPoint.q.shape(batch: 2, positions: 5, config: c), [2, 5, 3, 4])
        XCTAssertEqual(HookPoint.pattern.shape(batch: 2, positions: 5, config: c), [2, 3, 5, 5])
        XCTAssertEqual(HookPoint.result.shape(batch: 2, positions: 5, config: c), [2, 5, 3, 12])
        XCTAssertEqual(HookPoint.mlpPost.shape(batch: 2, positions: 5, config: c), [2, 5, 20])
        XCTAssertEqual(HookPoint.ln1Scale.shape(batch: 2, positions: 5, config: c), [2, 5, 1])
        XCTAssertEqual(HookPoint.pattern.positionAxis, 2)
        XCTAssertEqual(HookPoint.pattern.headAxis, 1)
        XCTAssertNil(HookPoint.residPre.headAxis)
    }
}

final class WeightKeyPathTests: XCTestCase {
    func testKeyPathsCoverEveryParameterInOrder() throws {
        for attentionOnly in [false, true] {
            let config = TransformerConfig(layers: 2, heads: 2, dModel: 8, contextLength: 4, vocabSize: 5, attentionOnly: attentionOnly)
            var weights = TransformerWeights.random(config: config, seed: 1)
            let keyPaths = TransformerWeights.parameterKeyPaths(for: config)
            XCTAssertEqual(keyPaths.map(\.path), TransformerWeights.expectedShapes(for: config).map(\.path))
            for (path, keyPath) in keyPaths {
                XCTAssertEqual(weights[keyPath: keyPath], weights.tensor(at: path), path)
                weights[keyPath: keyPath].storage[0] = 42
                XCTAssertEqual(weights.tensor(at: path)?.storage[0], 42, path)
            }
            XCTAssertTrue(TransformerWeights.parameterKeyPaths(for: config).allSatisfy {
                TransformerWeights.zeros(config: config)[keyPath: $0.keyPath].storage.allSatisfy { $0 == 0 }
            })
        }
    }
}
