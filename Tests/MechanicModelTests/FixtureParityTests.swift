import Foundation
import XCTest
@testable import MechanicModel
import MechanicSafetensors
import MechanicTensor
import MechanicTokenizer

/// Numerical identity with Hugging Face transformers, against fixtures written by
/// `scripts/make_model_fixtures.py` (tiny random GPT-2 checkpoints and every hook's expected value).
final class FixtureParityTests: XCTestCase {
    static let checkpoints = ["tiny-f32", "tiny-odd-f16", "tiny-bf16-noprefix", "tiny-attn-only"]
    static let tolerance: Float = 1e-4

    func load(_ name: String) throws -> (Transformer, SafetensorsFile) {
        let folder = TestPaths.model(name)
        let model = try CheckpointLoader.load(folder: folder)
        let expected = try SafetensorsFile(path: folder.appendingPathComponent("expected.safetensors").path)
        return (model, expected)
    }

    func batch(_ file: SafetensorsFile, ids: String = "input_ids", mask: String? = nil) throws -> TokenBatch {
        try fixtureBatch(file, ids: ids, mask: mask)
    }

    func testEveryHookAndTheLogitsMatchHuggingFace() throws {
        for name in Self.checkpoints {
            let (model, expected) = try load(name)
            let input = try batch(expected)
            let out = try model.run(input, capture: .everything)
            XCTAssertClose(out.logits, try expected.tensor("logits"), tolerance: Self.tolerance, "\(name) logits")
            for hook in model.hookNames {
                guard expected.contains(hook.description) else {
                    XCTFail("\(name): fixture lacks \(hook)")
                    continue
                }
                XCTAssertClose(out.cache[hook], try expected.tensor(hook.description), tolerance: Self.tolerance, "\(name) \(hook)")
            }
        }
    }

    func testPaddedBatchMatchesHuggingFaceWithAttentionMask() throws {
        try assertPaddedBatchMatchesHuggingFace(folder: TestPaths.model("tiny-f32"), tolerance: Self.tolerance)
    }

    func testConfigsAreReadAsWritten() throws {
        let odd = try CheckpointLoader.loadConfig(folder: TestPaths.model("tiny-odd-f16"))
        XCTAssertEqual(odd.heads, 3)
        XCTAssertEqual(odd.contextLength, 12)
        XCTAssertEqual(odd.layerNormEpsilon, 1e-6)
        let bf16 = try CheckpointLoader.loadConfig(folder: TestPaths.model("tiny-bf16-noprefix"))
        XCTAssertEqual(bf16.dMLP, 48)
        XCTAssertTrue(try CheckpointLoader.loadConfig(folder: TestPaths.model("tiny-attn-only")).attentionOnly)
    }

    func testPromptLongerThanTheContextIsRejected() throws {
        let model = try CheckpointLoader.load(folder: TestPaths.model("tiny-odd-f16"))
        XCTAssertThrowsError(try model.run(TokenBatch(Array(repeating: 1, count: 16)))) {
            XCTAssertEqual($0 as? ModelError, .promptTooLong(row: 0, length: 16, contextLength: 12))
        }
    }

    func testSavedCheckpointLoadsBackIdentically() throws {
        let model = try CheckpointLoader.load(folder: TestPaths.model("tiny-odd-f16"))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mechanic-save-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try CheckpointLoader.save(model, to: folder)
        let reloaded = try CheckpointLoader.load(folder: folder)
        XCTAssertEqual(reloaded.config, model.config)
        let input = randomBatch(rows: [5, 3], vocab: model.config.vocabSize)
        XCTAssertEqual(try reloaded.run(input).logits, try model.run(input).logits)
    }
}
