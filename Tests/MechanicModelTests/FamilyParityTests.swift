import Foundation
import XCTest
@testable import MechanicModel
import MechanicSafetensors
import MechanicTensor
import MechanicTokenizer

/// Every family computes what Hugging Face transformers computes, hook for hook, against tiny
/// random checkpoints written by `scripts/make_family_fixtures.py` (see `Tests/Fixtures/families/README.md`).
final class FamilyParityTests: XCTestCase {
    /// Folder → what it exercises (for failure messages).
    static let checkpoints: [(name: String, modelType: String)] = [
        ("pythia", "gpt_neox"), ("neox-sequential", "gpt_neox"), ("llama-gqa", "llama"), ("llama3-mqa", "llama"),
        ("mistral-window", "mistral"), ("qwen2", "qwen2"), ("qwen3", "qwen3"), ("gemma2", "gemma2"), ("gemma3", "gemma3_text"),
    ]
    static let tolerance: Float = 1e-4

    static func folder(_ name: String) -> URL { TestPaths.fixtures.appendingPathComponent("families/\(name)") }

    func load(_ name: String) throws -> (Transformer, SafetensorsFile) {
        let folder = Self.folder(name)
        let model = try CheckpointLoader.load(folder: folder)
        let expected = try SafetensorsFile(path: folder.appendingPathComponent("expected.safetensors").path)
        return (model, expected)
    }

    func batch(_ file: SafetensorsFile, ids: String = "input_ids", mask: String? = nil) throws -> TokenBatch {
        try fixtureBatch(file, ids: ids, mask: mask)
    }

    func testEveryFamilyLoadsAsItsModelType() throws {
        for (name, type) in Self.checkpoints {
            let (model, _) = try load(name)
            XCTAssertEqual(model.config.modelType, type, name)
        }
    }

    func testLogitsAndEveryHookMatchHuggingFace() throws {
        for (name, _) in Self.checkpoints {
            let (model, expected) = try load(name)
            let out = try model.run(try batch(expected), capture: .everything)
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

    /// The hook list of each family is exactly the one TransformerLens exposes for it (the fixture
    /// holds one tensor per TransformerLens hook, plus `input_ids` and `logits`).
    func testHookListsAreExactlyTheFixturesHooks() throws {
        for (name, _) in Self.checkpoints {
            let (model, expected) = try load(name)
            let fixtureHooks = Set(expected.names).subtracting(["input_ids", "logits"])
            XCTAssertEqual(Set(model.hookNames.map(\.description)), fixtureHooks, name)
        }
    }

    /// Golden ordered hook lists of one block per kind of block.
    func testOrderedHooksOfOneBlockPerFamilyStyle() throws {
        let block0 = { (name: String) throws -> [String] in
            try CheckpointLoader.load(folder: Self.folder(name)).hookNames.map(\.description)
                .filter { $0.hasPrefix("blocks.0.") }.map { String($0.dropFirst("blocks.0.".count)) }
        }
        XCTAssertEqual(try block0("pythia"), [
            "hook_resid_pre", "ln1.hook_scale", "ln1.hook_normalized", "attn.hook_q", "attn.hook_k", "attn.hook_v",
            "attn.hook_rot_q", "attn.hook_rot_k", "attn.hook_attn_scores", "attn.hook_pattern", "attn.hook_z",
            "attn.hook_result", "hook_attn_out", "ln2.hook_scale", "ln2.hook_normalized", "mlp.hook_pre", "mlp.hook_post",
            "hook_mlp_out", "hook_resid_post",
        ])
        XCTAssertEqual(try block0("gemma3"), [
            "hook_resid_pre", "ln1.hook_scale", "ln1.hook_normalized", "attn.hook_q", "attn.hook_k", "attn.hook_v",
            "attn.q_norm.hook_scale", "attn.q_norm.hook_normalized", "attn.k_norm.hook_scale", "attn.k_norm.hook_normalized",
            "attn.hook_rot_q", "attn.hook_rot_k", "attn.hook_attn_scores", "attn.hook_pattern", "attn.hook_z",
            "attn.hook_result", "ln1_post.hook_scale", "ln1_post.hook_normalized", "hook_attn_out", "hook_resid_mid",
            "ln2.hook_scale", "ln2.hook_normalized", "mlp.hook_pre", "mlp.hook_pre_linear", "mlp.hook_post",
            "ln2_post.hook_scale", "ln2_post.hook_normalized", "hook_mlp_out", "hook_resid_post",
        ])
    }

    func testPaddedLlamaBatchMatchesHuggingFaceWithAttentionMask() throws {
        try assertPaddedBatchMatchesHuggingFace(folder: Self.folder("llama-gqa"), tolerance: Self.tolerance)
    }

    /// Last-position logits and logits of a token subset are the same numbers as the full run's.
    func testLogitSelectionsAgreeWithTheFullRunOnEveryFamily() throws {
        for (name, _) in Self.checkpoints {
            let (model, expected) = try load(name)
            let input = try batch(expected)
            let full = try model.run(input).logits!                          // [batch, pos, vocab]
            let last = try model.run(input, logits: .last, vocabulary: [3, 1]).logits!
            let (t, v) = (input.positions, model.config.vocabSize)
            for r in 0..<input.batch {
                for (i, id) in [3, 1].enumerated() {
                    XCTAssertEqual(last.storage[r * 2 + i], full.storage[(r * t + t - 1) * v + id], accuracy: 1e-5, name)
                }
            }
        }
    }

    /// Configs in the keys of older and newer transformers versions describe the same model.
    func testOldAndNewConfigStylesAgree() throws {
        let folder = Self.folder("gemma3")
        let new = try ModelFamilies.config(data: try Data(contentsOf: folder.appendingPathComponent("config.json")))
        let legacy = try ModelFamilies.config(data: try Data(contentsOf: folder.appendingPathComponent("config-legacy.json")))
        XCTAssertEqual(new, legacy)
        let llama = try CheckpointLoader.loadConfig(folder: Self.folder("llama-gqa"))     // rope_theta, torch_dtype
        let llama3 = try CheckpointLoader.loadConfig(folder: Self.folder("llama3-mqa"))  // rope_parameters, dtype
        XCTAssertEqual(llama.rotary(layer: 0)?.theta, 10000)
        guard case .llama3(let factor, _, _, let original)? = llama3.rotary(layer: 0)?.scaling else {
            return XCTFail("llama3 rope scaling not read: \(String(describing: llama3.rotary(layer: 0)))")
        }
        XCTAssertEqual(factor, 8)
        XCTAssertEqual(original, 256)
    }

    /// HF's Llama 3 frequencies for this fixture (helper-checked against `_compute_llama3_parameters`):
    /// one kept, one smoothed, two divided by the factor.
    func testLlama3FrequenciesAreHuggingFacesFormula() throws {
        let config = try CheckpointLoader.loadConfig(folder: Self.folder("llama3-mqa"))
        let inverse = try XCTUnwrap(config.rotary(layer: 0)).inverseFrequencies
        let expected: [Float] = [1, 0.0105382, 1.76777e-4, 6.64787e-6]
        XCTAssertEqual(inverse.count, expected.count)
        for (a, b) in zip(inverse, expected) { XCTAssertEqual(a, b, accuracy: b * 1e-5) }
    }
}

extension FamilyParityTests {
    /// The parameter count is the number of values the checkpoint stores (a tied unembedding once).
    func testParameterCountIsWhatTheCheckpointStores() throws {
        for (name, _) in Self.checkpoints {
            let folder = Self.folder(name)
            let config = try CheckpointLoader.loadConfig(folder: folder)
            let files = try FileManager.default.contentsOfDirectory(atPath: folder.path)
                .filter { $0.hasPrefix("model") && $0.hasSuffix(".safetensors") }
            var stored = 0
            for file in files {
                let weights = try SafetensorsFile(path: folder.appendingPathComponent(file).path)
                for tensor in weights.names where !(config.tiedEmbeddings && tensor.hasPrefix("lm_head")) {
                    stored += weights.info(tensor)!.shape.reduce(1, *)
                }
            }
            XCTAssertEqual(config.parameterCount, stored, name)
        }
    }
}

extension FamilyParityTests {
    /// The ordered hook list of every family is frozen in `Tests/Fixtures/families/hook-lists.json`
    /// (hook names are public API). `MECHANIC_UPDATE_SNAPSHOTS=1` rewrites it after a deliberate change.
    func testOrderedHookListsAreFrozen() throws {
        let url = TestPaths.fixtures.appendingPathComponent("families/hook-lists.json")
        var lists: [String: [String]] = [:]
        for (name, _) in Self.checkpoints {
            lists[name] = try CheckpointLoader.load(folder: Self.folder(name)).hookNames.map(\.description)
        }
        if ProcessInfo.processInfo.environment["MECHANIC_UPDATE_SNAPSHOTS"] == "1" {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try (encoder.encode(lists) + Data("\n".utf8)).write(to: url)
        }
        let frozen = try JSONDecoder().decode([String: [String]].self, from: Data(contentsOf: url))
        XCTAssertEqual(Set(frozen.keys), Set(lists.keys))
        for (name, list) in lists { XCTAssertEqual(list, frozen[name], name) }
    }
}
