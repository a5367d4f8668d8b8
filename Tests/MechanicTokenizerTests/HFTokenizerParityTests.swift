import Foundation
import XCTest
@testable import MechanicTokenizer

/// Each family's style of tokenizer against Hugging Face's answers, written by
/// `scripts/make_tokenizer_family_fixtures.py` into `Tests/Fixtures/tokenizers/<style>/expected.json`.
final class HFTokenizerParityTests: XCTestCase {
    /// Every style folder the script writes.
    static let styles = ["gpt2", "neox", "llama3", "qwen2", "starcoder", "llama2", "metaspace", "gemma", "spm-model"]

    /// `Tests/Fixtures/tokenizers`.
    static let folder = TokenizerFixtures.repoRoot.appendingPathComponent("Tests/Fixtures/tokenizers")

    /// One style's expected.json.
    struct Expected: Decodable {
        struct Case: Decodable {
            var text: String
            var ids: [Int]
            var idsWithSpecial: [Int]
            var tokens: [String]
            var decoded: String
            var tokenStrings: [String]
            var pieces: [String]?
        }
        var style: String
        var bosID: Int?
        var eosID: Int?
        var vocabularySize: Int
        var cases: [Case]
    }

    static func expected(_ style: String) throws -> Expected {
        let data = try Data(contentsOf: folder.appendingPathComponent("\(style)/expected.json"))
        return try JSONDecoder().decode(Expected.self, from: data)
    }

    static func tokenizer(_ style: String) throws -> HFTokenizer {
        try HFTokenizer(folder: folder.appendingPathComponent(style))
    }

    func testIDsMatchHuggingFace() throws {
        for style in Self.styles {
            let tokenizer = try Self.tokenizer(style)
            for c in try Self.expected(style).cases {
                let label = "\(style): \(c.text.debugDescription)"
                XCTAssertEqual(tokenizer.encode(c.text, prependBOS: false), c.ids, label)
                XCTAssertEqual(tokenizer.encode(c.text), c.idsWithSpecial, "with special tokens, \(label)")
                XCTAssertEqual(tokenizer.encode(c.text, naive: true), c.ids, "naive, \(label)")
            }
        }
    }

    func testPiecesMatchHuggingFacePreTokenizer() throws {
        for style in Self.styles {
            let tokenizer = try Self.tokenizer(style)
            for c in try Self.expected(style).cases {
                guard let pieces = c.pieces else { continue }
                XCTAssertEqual(tokenizer.preTokenize(c.text), pieces, "\(style): \(c.text.debugDescription)")
            }
        }
    }

    func testDecodingMatchesHuggingFace() throws {
        for style in Self.styles {
            let tokenizer = try Self.tokenizer(style)
            for c in try Self.expected(style).cases {
                let label = "\(style): \(c.text.debugDescription)"
                XCTAssertEqual(c.ids.map { tokenizer.token(for: $0) }, c.tokens, label)
                XCTAssertEqual(c.tokens.map { tokenizer.id(of: $0) }, c.ids, label)
                XCTAssertEqual(try tokenizer.decode(c.ids), c.decoded, label)
                XCTAssertEqual(try tokenizer.tokenStrings(c.ids), c.tokenStrings, label)
            }
        }
    }

    func testSpecialIDsAndVocabularySize() throws {
        for style in Self.styles {
            let tokenizer = try Self.tokenizer(style)
            let expected = try Self.expected(style)
            XCTAssertEqual(tokenizer.vocabularySize, expected.vocabularySize, style)
            if let eos = expected.eosID { XCTAssertEqual(tokenizer.eosID, eos, style) }
            XCTAssertEqual(tokenizer.bosID, expected.bosID ?? tokenizer.eosID, "no BOS falls back to EOS, \(style)")
        }
    }

    func testSentencePieceModelMatchesItsTokenizerJSON() throws {
        let fromModel = try HFTokenizer(sentencePieceModelURL: Self.folder.appendingPathComponent("llama2/tokenizer.model"))
        let fromJSON = try Self.tokenizer("llama2")
        for c in try Self.expected("llama2").cases {
            XCTAssertEqual(fromModel.encode(c.text), fromJSON.encode(c.text), c.text.debugDescription)
        }
        XCTAssertEqual(fromModel.bosID, fromJSON.bosID)
        XCTAssertEqual(fromModel.eosID, fromJSON.eosID)
    }

    func testLoadTokenizerPicksTheFolderFiles() throws {
        XCTAssertTrue(try loadTokenizer(folder: Self.folder.appendingPathComponent("llama3")) is HFTokenizer)
        XCTAssertTrue(try loadTokenizer(folder: Self.folder.appendingPathComponent("spm-model")) is HFTokenizer)
        XCTAssertTrue(try loadTokenizer(folder: TokenizerFixtures.tiny) is GPT2Tokenizer)
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("mechanic-empty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        XCTAssertThrowsError(try loadTokenizer(folder: empty)) {
            XCTAssertEqual($0 as? TokenizerError, .noTokenizerFiles(folder: empty.path))
        }
    }

    func testProtocolAPIAndBatch() throws {
        let tokenizer: any Tokenizer = try loadTokenizer(folder: Self.folder.appendingPathComponent("llama2"))
        let hello = tokenizer.encode("Hello world", prependBOS: false)
        XCTAssertEqual(tokenizer.encode("Hello world"), [tokenizer.bosID] + hello, "Llama 2 style prepends BOS")
        XCTAssertEqual(tokenizer.encode("Hello world", prependBOS: true), [tokenizer.bosID] + hello)
        let batch = try tokenizer.batch(["Hello world", "Hi", ""], prependBOS: true)
        XCTAssertEqual(batch.row(0), [tokenizer.bosID] + hello)
        XCTAssertEqual(batch.row(2), [tokenizer.bosID])
        XCTAssertThrowsError(try tokenizer.batch(["a", ""], prependBOS: false))
        XCTAssertThrowsError(try tokenizer.decode([tokenizer.vocabularySize])) {
            XCTAssertEqual($0 as? TokenizerError, .unknownID(id: tokenizer.vocabularySize, vocabularySize: tokenizer.vocabularySize))
        }
        let qwen: any Tokenizer = try loadTokenizer(folder: Self.folder.appendingPathComponent("qwen2"))
        XCTAssertEqual(qwen.encode("Hello"), qwen.encode("Hello", prependBOS: false), "Qwen adds no BOS")
    }

    func testConfigAddBOSTokenOverridesTheTemplate() throws {
        let source = Self.folder.appendingPathComponent("llama2")
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("mechanic-config-\(UUID().uuidString).json")
        try Data(#"{"bos_token": "<s>", "eos_token": "</s>", "add_bos_token": false, "add_eos_token": true}"#.utf8).write(to: config)
        defer { try? FileManager.default.removeItem(at: config) }
        let tokenizer = try HFTokenizer(tokenizerJSONURL: source.appendingPathComponent("tokenizer.json"), configURL: config)
        XCTAssertEqual(tokenizer.encode("Hello"), tokenizer.encode("Hello", prependBOS: false) + [tokenizer.eosID])
    }

    func testLongInputsAgreeWithNaiveTwin() throws {
        for style in ["llama3", "llama2"] {
            let tokenizer = try Self.tokenizer(style)
            let long = String(repeating: "a", count: 2_000) + " " + String(repeating: "ab1!é日", count: 300)
            XCTAssertEqual(tokenizer.encode(long, naive: false), tokenizer.encode(long, naive: true), style)
        }
    }
}
