import Foundation
import XCTest
@testable import MechanicModel
import MechanicSafetensors
import MechanicTensor

/// Malformed checkpoints give typed errors naming the file and tensor, never a crash.
final class CheckpointErrorTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("mechanic-ckpt-\(UUID().uuidString)")
        try CheckpointLoader.save(try tinyModel(), to: folder)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    var weightsURL: URL { folder.appendingPathComponent("model.safetensors") }
    var configURL: URL { folder.appendingPathComponent("config.json") }

    func rewriteWeights(_ edit: (inout [String: Tensor]) -> Void) throws {
        let file = try SafetensorsFile(path: weightsURL.path)
        var tensors: [String: Tensor] = [:]
        for name in file.names { tensors[name] = try file.tensor(name) }
        edit(&tensors)
        try SafetensorsWriter.write(tensors, to: weightsURL)
    }

    func rewriteConfig(_ edit: (inout [String: Any]) -> Void) throws {
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as! [String: Any]
        edit(&json)
        try JSONSerialization.data(withJSONObject: json).write(to: configURL)
    }

    func expectError(_ check: (Error) -> Bool, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try CheckpointLoader.load(folder: folder), file: file, line: line) { error in
            XCTAssertTrue(check(error), "unexpected error: \(error)", file: file, line: line)
            XCTAssertFalse(String(describing: error).isEmpty)
        }
    }

    func testValidCheckpointLoads() throws {
        XCTAssertNoThrow(try CheckpointLoader.load(folder: folder))
    }

    func testMissingFolderAndFiles() throws {
        try FileManager.default.removeItem(at: weightsURL)
        expectError { if case ModelError.missingFile(let path, _) = $0 { return path.hasSuffix("model.safetensors") }; return false }
        try FileManager.default.removeItem(at: configURL)
        expectError { if case ModelError.missingFile(let path, _) = $0 { return path.hasSuffix("config.json") }; return false }
    }

    func testPyTorchBinOnlyExplainsHowToConvert() throws {
        try FileManager.default.removeItem(at: weightsURL)
        try Data([0x80]).write(to: folder.appendingPathComponent("pytorch_model.bin"))
        expectError { if case ModelError.missingFile(_, let hint) = $0 { return hint.contains("safetensors") }; return false }
    }

    func testMissingTensor() throws {
        try rewriteWeights { $0["transformer.h.1.mlp.c_fc.bias"] = nil }
        expectError { $0 as? ModelError == .missingTensor(file: self.weightsURL.path, tensor: "h.1.mlp.c_fc.bias") }
    }

    func testMisShapedTensorAndConfigDisagreeingWithWeights() throws {
        try rewriteWeights { $0["transformer.h.0.attn.c_attn.weight"] = Tensor(shape: [36, 12]) }
        expectError {
            $0 as? ModelError == .wrongShape(file: self.weightsURL.path, tensor: "transformer.h.0.attn.c_attn.weight", expected: [12, 36], found: [36, 12])
        }
        try CheckpointLoader.save(try tinyModel(), to: folder)
        try rewriteConfig { $0["n_embd"] = 24; $0["n_head"] = 3 }
        expectError { if case ModelError.wrongShape = $0 { return true }; return false }
    }

    func testNonFiniteWeights() throws {
        try rewriteWeights { $0["transformer.ln_f.bias"]!.storage[3] = .nan }
        expectError { $0 as? ModelError == .nonFiniteWeights(file: self.weightsURL.path, tensor: "transformer.ln_f.bias") }
        try rewriteWeights { $0["transformer.ln_f.bias"]!.storage[3] = -.infinity }
        expectError { "\($0)".contains("transformer.ln_f.bias") && "\($0)".contains("allowNonFiniteWeights") }
    }

    func testNonFiniteWeightsLoadWhenAllowed() throws {
        try rewriteWeights { $0["transformer.ln_f.bias"]!.storage[3] = .nan }
        let model = try CheckpointLoader.load(folder: folder, allowNonFiniteWeights: true)
        XCTAssertEqual(model.weights.tensor(at: "finalNormBias")?.storage[3].isNaN, true)
    }

    /// A config that describes less than the weights hold is an error naming the tensors it
    /// leaves out; known buffers are not; the option loads anyway.
    func testTensorsTheConfigDoesNotAccountForAreAnError() throws {
        try rewriteConfig { $0["n_layer"] = 1 }
        expectError {
            guard case ModelError.unaccountedTensors(_, let count, let examples) = $0 else { return false }
            return count > 0 && examples.allSatisfy { $0.hasPrefix("transformer.h.1.") } && "\($0)".contains("allowUnusedTensors")
        }
        XCTAssertEqual(try CheckpointLoader.load(folder: folder, allowUnusedTensors: true).config.layers, 1)
        try CheckpointLoader.save(try tinyModel(), to: folder)
        try rewriteConfig { $0["attn_only"] = true }
        expectError {
            guard case ModelError.unaccountedTensors(_, _, let examples) = $0 else { return false }
            return examples.allSatisfy { $0.contains("mlp") || $0.contains("ln_2") }
        }
        // GPT-2's causal-mask buffers and a tied model's saved lm_head are not parameters: they load.
        try CheckpointLoader.save(try tinyModel(), to: folder)
        try rewriteWeights {
            $0["transformer.h.0.attn.bias"] = Tensor(shape: [1, 1, 4, 4])
            $0["transformer.h.0.attn.masked_bias"] = Tensor(shape: [1])
            $0["lm_head.weight"] = $0["transformer.wte.weight"]
        }
        XCTAssertNoThrow(try CheckpointLoader.load(folder: folder))
        try rewriteWeights { $0["transformer.h.0.attn.extra_projection"] = Tensor(shape: [2]) }
        expectError { if case ModelError.unaccountedTensors(_, 1, ["transformer.h.0.attn.extra_projection"]) = $0 { return true }; return false }
    }

    /// A config.json that is not JSON says where it breaks, in lines and columns, in one sentence.
    func testBrokenJSONSaysWhere() throws {
        try Data("{\n  \"n_layer\": 2,\n  \"n_head\": 3,,\n}\n".utf8).write(to: configURL)
        expectError { "\($0)".contains("not valid JSON (line 3, column 15: invalid value)") && !"\($0)".contains("..") }
        try Data("{\"n_layer\": 1e999}".utf8).write(to: configURL)
        expectError { "\($0)".contains("not valid JSON (number 1e999 is not representable in Swift)") }
    }

    func testInsaneConfigs() throws {
        let cases: [([String: Any], String)] = [
            (["n_embd": 13], "not divisible"),
            (["n_head": 0], "n_head"),
            (["n_layer": -2], "n_layer"),
            (["layer_norm_epsilon": -1.0], "layer_norm_epsilon"),
            (["activation_function": "relu"], "activation_function"),
            (["model_type": "bloom"], "model_type"),
            (["model_type": "llama"], "num_hidden_layers is missing"),
            (["n_embd": "wide"], "n_embd"),
            (["bos_token_id": 999_999], "bos_token_id is 999999; the vocabulary has ids"),
            (["eos_token_id": [1, -3]], "eos_token_id is -3"),
        ]
        for (edit, phrase) in cases {
            try CheckpointLoader.save(try tinyModel(), to: folder)
            try rewriteConfig { for (k, v) in edit { $0[k] = v } }
            expectError {
                guard case ModelError.invalidConfig(let file, let reason) = $0 else { return false }
                return file == self.configURL.path && reason.contains(phrase)
            }
        }
        try Data("{ not json".utf8).write(to: configURL)
        expectError { if case ModelError.invalidConfig = $0 { return true }; return false }
    }

    /// A repeated key would be read one way here and another way by Python: refused, naming it.
    func testRepeatedConfigKeysAreRefused() throws {
        try CheckpointLoader.save(try tinyModel(), to: folder)
        let text = try String(contentsOf: configURL, encoding: .utf8)
        try Data(text.replacingOccurrences(of: "{", with: "{\"n_layer\": 7, ", options: [], range: text.range(of: "{")).utf8).write(to: configURL)
        expectError {
            guard case ModelError.invalidConfig(_, let reason) = $0 else { return false }
            return reason.contains("\"n_layer\" appears twice")
        }
    }

    func testTruncatedWeightsFileIsASafetensorsError() throws {
        let data = try Data(contentsOf: weightsURL)
        for cut in [0, 4, 8, 100, data.count / 2, data.count - 1] {
            try data.prefix(cut).write(to: weightsURL)
            expectError { $0 is SafetensorsError }
        }
    }
}
