import Foundation
import XCTest
@testable import MechanicTokenizer

/// Hostile or malformed `tokenizer.json` and `tokenizer.model` files give typed errors, never a crash.
final class HFTokenizerLoadingErrorTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("mechanic-hf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    private func fixture(_ style: String, _ name: String) throws -> Data {
        try Data(contentsOf: HFTokenizerParityTests.folder.appendingPathComponent("\(style)/\(name)"))
    }

    /// The error loading `data` as tokenizer.json, or nil if it loads.
    private func jsonError(_ data: Data) throws -> TokenizerError? {
        let url = directory.appendingPathComponent("tokenizer.json")
        try data.write(to: url)
        do {
            _ = try HFTokenizer(tokenizerJSONURL: url)
            return nil
        } catch {
            return error
        }
    }

    /// The error loading the llama3 style's tokenizer.json after `edit`.
    private func editedError(style: String = "llama3", _ edit: (inout [String: Any]) -> Void) throws -> TokenizerError? {
        var object = try XCTUnwrap(try JSONSerialization.jsonObject(with: fixture(style, "tokenizer.json")) as? [String: Any])
        edit(&object)
        return try jsonError(try JSONSerialization.data(withJSONObject: object))
    }

    private func model(_ object: [String: Any]) -> [String: Any] { object["model"] as! [String: Any] }

    func testTruncatedAndNonJSONFiles() throws {
        let full = try fixture("llama3", "tokenizer.json")
        for cut in [0, 1, 100, full.count / 2, full.count - 2] {
            let error = try jsonError(full.prefix(cut))
            guard case .notJSON? = error else { return XCTFail("cut at \(cut): \(String(describing: error))") }
        }
        guard case .notJSON? = try jsonError(Data([0xFF, 0xFE, 0x00])) else { return XCTFail("binary") }
    }

    func testWrongTypes() throws {
        for (label, edit) in [
            ("vocab as array", { (o: inout [String: Any]) in var m = self.model(o); m["vocab"] = [1, 2]; o["model"] = m }),
            ("id as string", { o in var m = self.model(o); m["vocab"] = ["a": "one"]; o["model"] = m }),
            ("merges as number", { o in var m = self.model(o); m["merges"] = 3; o["model"] = m }),
            ("added_tokens as object", { o in o["added_tokens"] = ["a": 1] }),
            ("pre_tokenizer as string", { o in o["pre_tokenizer"] = "ByteLevel" }),
            ("normalizer without type", { o in o["normalizer"] = ["prepend": "x"] }),
            ("Split without pattern", { o in o["pre_tokenizer"] = ["type": "Split", "behavior": "Isolated"] }),
            ("Split behavior as number", { o in o["pre_tokenizer"] = ["type": "Split", "pattern": ["String": " "], "behavior": 1] }),
            ("template item of the wrong shape", { o in o["post_processor"] = ["type": "TemplateProcessing", "single": [["Bogus": 1]]] }),
            ("Strip start as string", { o in o["decoder"] = ["type": "Strip", "content": " ", "start": "1"] }),
        ] as [(String, (inout [String: Any]) -> Void)] {
            let error = try editedError(edit)
            guard case .unexpectedJSON? = error else { return XCTFail("\(label): \(String(describing: error))") }
        }
    }

    func testUnknownTypesAreUnsupported() throws {
        for (label, edit) in [
            ("Unigram model", { (o: inout [String: Any]) in o["model"] = ["type": "Unigram", "vocab": [["a", 0.0]]] }),
            ("WordPiece model", { o in o["model"] = ["type": "WordPiece", "vocab": ["a": 0]] }),
            ("unknown normalizer", { o in o["normalizer"] = ["type": "Precompiled", "precompiled_charsmap": "AAAA"] }),
            ("unknown pre-tokenizer", { o in o["pre_tokenizer"] = ["type": "BertPreTokenizer"] }),
            ("unknown decoder", { o in o["decoder"] = ["type": "WordPiece"] }),
            ("unknown post-processor", { o in o["post_processor"] = ["type": "Mystery"] }),
            ("dropout", { o in var m = self.model(o); m["dropout"] = 0.1; o["model"] = m }),
            ("bad regex", { o in o["pre_tokenizer"] = ["type": "Split", "pattern": ["Regex": "(unclosed"], "behavior": "Isolated"] }),
        ] as [(String, (inout [String: Any]) -> Void)] {
            let error = try editedError(edit)
            guard case .unsupported? = error else { return XCTFail("\(label): \(String(describing: error))") }
        }
    }

    func testAbsurdIDs() throws {
        for (label, edit) in [
            ("huge vocab id", { (o: inout [String: Any]) in var m = self.model(o); var v = m["vocab"] as! [String: Any]; v["Ġhuge"] = 1 << 40; m["vocab"] = v; o["model"] = m }),
            ("negative vocab id", { o in var m = self.model(o); var v = m["vocab"] as! [String: Any]; v["Ġneg"] = -5; m["vocab"] = v; o["model"] = m }),
            ("duplicate vocab id", { o in var m = self.model(o); var v = m["vocab"] as! [String: Any]; v["Ġdup"] = 10; m["vocab"] = v; o["model"] = m }),
            ("huge added id", { o in o["added_tokens"] = [["id": Int.max, "content": "<x>", "special": true, "normalized": false]] }),
            ("template id without token", { o in
                o["post_processor"] = ["type": "TemplateProcessing", "single": [["SpecialToken": ["id": "<b>"]], ["Sequence": ["id": "A"]]],
                                       "special_tokens": ["<b>": ["id": "<b>", "ids": [99_999_999], "tokens": ["<b>"]]]]
            }),
            ("merge of unknown tokens", { o in var m = self.model(o); m["merges"] = [["zzz", "qqq"]]; o["model"] = m }),
            ("unknown unk_token", { o in var m = self.model(o); m["unk_token"] = "<nope>"; o["model"] = m }),
        ] as [(String, (inout [String: Any]) -> Void)] {
            let error = try editedError(edit)
            XCTAssertNotNil(error, label)
        }
        let error = try editedError { o in o["added_tokens"] = [["id": -1, "content": "<x>"]] }
        XCTAssertEqual(error, .negativeID(path: directory.appendingPathComponent("tokenizer.json").path, token: "<x>", id: -1))
    }

    func testBadConfigIsTyped() throws {
        let config = directory.appendingPathComponent("tokenizer_config.json")
        let json = HFTokenizerParityTests.folder.appendingPathComponent("llama2/tokenizer.json")
        for text in [#"{"add_bos_token": "yes"}"#, #"{"bos_token": 5}"#, #"[1]"#, #"{"bos_token": "<nope>"}"#, "{"] {
            try Data(text.utf8).write(to: config)
            XCTAssertThrowsError(try HFTokenizer(tokenizerJSONURL: json, configURL: config), text) {
                XCTAssertNotNil($0 as? TokenizerError, text)
            }
        }
    }

    /// The error loading `data` as tokenizer.model, or nil if it loads.
    private func modelError(_ data: Data) throws -> TokenizerError? {
        let url = directory.appendingPathComponent("tokenizer.model")
        try data.write(to: url)
        do {
            _ = try HFTokenizer(sentencePieceModelURL: url)
            return nil
        } catch {
            return error
        }
    }

    func testTruncatedAndCorruptSentencePieceModels() throws {
        let full = try fixture("llama2", "tokenizer.model")
        XCTAssertNil(try modelError(full))
        var failures = 0
        for cut in stride(from: 0, to: full.count, by: max(1, full.count / 97)) {
            // A cut may land on a message boundary and still parse; it must never crash.
            if let error = try modelError(full.prefix(cut)) {
                failures += 1
                switch error {
                case .malformedModel, .unsupported, .missingSpecialToken, .mergeTokenMissing, .duplicateID: break
                default: XCTFail("cut at \(cut): \(error)")
                }
            }
        }
        XCTAssertGreaterThan(failures, 50)
        guard case .malformedModel? = try modelError(Data("not a protobuf at all".utf8)) else { return XCTFail("text") }
        guard case .malformedModel? = try modelError(Data()) else { return XCTFail("empty") }
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            var corrupt = full
            for _ in 0..<20 { corrupt[Int.random(in: 0..<corrupt.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
            _ = try modelError(corrupt)  // any outcome but a crash
        }
    }

    func testSentencePieceSpecsAreChecked() throws {
        var proto = try Sentencepiece_ModelProto(serializedBytes: try fixture("llama2", "tokenizer.model"))
        proto.trainerSpec.modelType = .unigram
        guard case .unsupported? = try modelError(try proto.serializedData()) else { return XCTFail("unigram") }
        proto.trainerSpec.modelType = .bpe
        proto.trainerSpec.unkID = 1 << 30
        guard case .malformedModel? = try modelError(try proto.serializedData()) else { return XCTFail("unk id") }
        proto.trainerSpec.unkID = 0
        proto.pieces[5].piece = proto.pieces[6].piece
        guard case .duplicateID? = try modelError(try proto.serializedData()) else { return XCTFail("duplicate piece") }
    }
}
