import Foundation
import XCTest
import Mechanic

/// The README's commands on models of other families, end to end through the binary: text through
/// the folder's own tokenizer (SentencePiece-style Llama, byte-level Qwen2 and GPT-NeoX) to
/// next-token logits, against what Hugging Face answers (`scripts/make_tokenized_model_fixtures.py`).
final class FamilyCLITests: XCTestCase {
    struct Expected: Decodable {
        struct Case: Decodable {
            var text: String
            var ids: [Int]
            var top_ids: [Int]
            var top_logits: [Float]
        }
        var model_type: String
        var bos_added: Bool
        var cases: [Case]
    }

    struct RunRow: Decodable {
        struct Next: Decodable { var id: Int; var logit: Float }
        var next: [Next]
    }

    struct TokenRow: Decodable { var ids: [Int] }

    static func folder(_ name: String) -> URL {
        CLITests.repository.appendingPathComponent("Tests/Fixtures/tokenized/\(name)")
    }

    func expected(_ name: String) throws -> Expected {
        try JSONDecoder().decode(Expected.self, from: Data(contentsOf: Self.folder(name).appendingPathComponent("expected.json")))
    }

    /// `mechanic tokenize` and `mechanic run` give HF's ids and HF's top next tokens and logits.
    func testRunAndTokenizeMatchHuggingFaceOnEveryTokenizerStyle() throws {
        for name in ["llama-spm", "qwen2-bytes", "neox-bytes"] {
            let e = try expected(name)
            let path = Self.folder(name).path
            // HF's default: Llama adds its BOS; Qwen2 and NeoX add nothing.
            let bos = e.bos_added ? [] : ["--no-prepend-bos"]
            for c in e.cases {
                let tokenized = try runMechanic(["tokenize", "--model", path, "--json"] + bos + [c.text])
                XCTAssertEqual(tokenized.status, 0, tokenized.stderr)
                let rows = try JSONDecoder().decode([TokenRow].self, from: Data(tokenized.stdout.utf8))
                XCTAssertEqual(rows.first?.ids, c.ids, "\(name): \(c.text)")

                let run = try runMechanic(["run", "--model", path, "--top-k", "5", "--json"] + bos + [c.text])
                XCTAssertEqual(run.status, 0, run.stderr)
                let next = try XCTUnwrap(JSONDecoder().decode([RunRow].self, from: Data(run.stdout.utf8)).first).next
                XCTAssertEqual(next.map(\.id), c.top_ids, "\(name): \(c.text)")
                for (mine, theirs) in zip(next.map(\.logit), c.top_logits) { XCTAssertEqual(mine, theirs, accuracy: 1e-4, name) }
            }
        }
    }

    /// `inspect` names the family and its features; an unknown family is one clear line.
    func testInspectNamesTheFamilyAndUnknownFamiliesAreRefused() throws {
        let inspect = try runMechanic(["inspect", "--model", Self.folder("llama-spm").path])
        XCTAssertEqual(inspect.status, 0, inspect.stderr)
        XCTAssertTrue(inspect.stdout.contains("family llama: RMSNorm"), inspect.stdout)
        XCTAssertTrue(inspect.stdout.contains("grouped-query attention (2 KV heads)"), inspect.stdout)

        let families = try runMechanic(["inspect", "--families", "--json"])
        XCTAssertEqual(families.status, 0, families.stderr)
        for type in ["gpt2", "gpt_neox", "llama", "mistral", "qwen2", "qwen3", "gemma2", "gemma3_text"] {
            XCTAssertTrue(families.stdout.contains("\"\(type)\""), type)
        }

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mechanic-bloom-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data(#"{"model_type": "bloom", "n_layer": 2}"#.utf8).write(to: folder.appendingPathComponent("config.json"))
        let refused = try runMechanic(["inspect", "--model", folder.path])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("model_type is \"bloom\""), refused.stderr)
        XCTAssertFalse(refused.stderr.contains("Fatal"), refused.stderr)
        XCTAssertEqual(refused.stderr.split(separator: "\n").count, 1, refused.stderr)
    }
}

extension FamilyCLITests {
    /// `mechanic discover` runs every method on a Llama-family model through its SentencePiece
    /// tokenizer, from a prompts file (the built-in tasks need GPT-2's vocabulary for their names).
    func testDiscoverRunsEveryMethodOnALlamaModel() throws {
        let folder = Self.folder("llama-spm")
        let tokenizer = try loadTokenizer(folder: folder)
        // SentencePiece spells a word-initial space into the token ("▁the"), so " the" is two tokens
        // there and "the" one; try both spellings.
        let candidates = ["the", "and", "to", "of", "a", "in", "is", "it", "that", "on", "for", "was", "model", "words"]
        let words = (candidates + candidates.map { " " + $0 }).filter { tokenizer.singleTokenID($0) != nil }
        guard words.count >= 4 else { return XCTFail("the fixture tokenizer has too few single-token words: \(words)") }
        var lines: [String] = []
        for i in 0..<12 {
            let answer = words[i % words.count], wrong = words[(i + 1) % words.count]
            let entry: [String: Any] = ["prompt": "When the model reads \(i) words it says", "answer": answer, "wrong": [wrong],
                                        "positive": i % 2 == 0, "corrupted": "When the model reads \(i) words it says"]
            lines.append(String(decoding: try JSONSerialization.data(withJSONObject: entry, options: [.sortedKeys]), as: UTF8.self))
        }
        let task = FileManager.default.temporaryDirectory.appendingPathComponent("mechanic-llama-task-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: task) }
        try lines.joined(separator: "\n").write(to: task, atomically: true, encoding: .utf8)
        let result = try runMechanic(["discover", "--model", folder.path, "--task", task.path, "--no-db", "--json",
                                      "--sae-hidden", "16", "--sae-epochs", "20", "--sae-prompts", "4", "--patching-prompts", "4"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let methods = try XCTUnwrap(report["methods"] as? [[String: Any]])
        XCTAssertEqual(methods.count, 7, result.stdout)
        for method in methods {
            let scores = try XCTUnwrap((method["scores"] as? [String: Any])?["scores"] as? [Double])
            XCTAssertEqual(scores.count, 2 * 4)
        }
    }
}
