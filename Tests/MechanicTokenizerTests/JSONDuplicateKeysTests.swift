import Foundation
import XCTest
@testable import MechanicTokenizer

final class JSONDuplicateKeysTests: XCTestCase {
    func duplicate(_ text: String) -> JSONDuplicateKeys.Duplicate? { JSONDuplicateKeys.first(in: Data(text.utf8)) }

    func testRepeatedKeysAreFoundOnlyWithinOneObject() {
        XCTAssertNil(duplicate(#"{"a": 1, "b": {"a": 2}, "c": [{"a": 3}, {"a": 4}]}"#), "the same key in different objects is fine")
        XCTAssertNil(duplicate(#"{"a": "a", "b": ["a", "a"], "c": "{\"a\": 1, \"a\": 2}"}"#), "values and strings are not keys")
        XCTAssertEqual(duplicate(#"{"a": 1, "b": 2, "a": 3}"#)?.key, "a")
        XCTAssertEqual(duplicate(#"{"x": {"k": 1, "k": 2}}"#)?.key, "k")
        XCTAssertEqual(duplicate(#"[{"ok": 1}, {"n": [1, {"z": 0}], "n": 2}]"#)?.key, "n")
        XCTAssertEqual(duplicate(#"{"a": 1, "\u0061": 2}"#)?.key, "a", "escapes are decoded")
        XCTAssertEqual(duplicate(#"{"q\"uote": 1, "q\"uote": 2}"#)?.key, "q\"uote")
        XCTAssertNil(duplicate(#"{"é": 1, "e": 2}"#))
    }

    func testTheRepeatIsLocatedByLineAndColumn() throws {
        let found = try XCTUnwrap(duplicate("{\n  \"n_layer\": 2,\n  \"n_head\": 4,\n  \"n_layer\": 12\n}"))
        XCTAssertEqual(found.line, 4)
        XCTAssertEqual(found.column, 3)
        XCTAssertTrue(found.description.contains("\"n_layer\" appears twice"), found.description)
    }

    func testVocabularyFilesWithARepeatedTokenAreRefused() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("dup-vocab-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data(#"{"a": 0, "b": 1, "a": 2}"#.utf8).write(to: folder.appendingPathComponent("vocab.json"))
        try Data("#version: 0.2\n".utf8).write(to: folder.appendingPathComponent("merges.txt"))
        XCTAssertThrowsError(try GPT2Tokenizer(folder: folder)) { error in
            XCTAssertTrue("\(error)".contains("\"a\" appears twice"), "\(error)")
        }
    }
}
