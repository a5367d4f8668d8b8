import Foundation
import XCTest

/// `mechanic run --prompts-file`: every prompt checked before anything is printed, results
/// streamed as they come, `--json` a valid array however many prompts.
final class RunStreamingTests: XCTestCase {
    func testPromptFilesAreCheckedFirstThenStreamedAsOneJSONArray() throws {
        let model = StoreWorkflowTests.model
        guard FileManager.default.fileExists(atPath: model + "/model.safetensors") else { throw XCTSkip("no embedded model") }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("run-stream-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = dir.appendingPathComponent("good.txt")
        try Data((0..<120).map { "When Mary and John went to the store, prompt \($0)" }.joined(separator: "\n").utf8).write(to: good)
        let run = try runMechanic(["run", "--model", model, "--prompts-file", good.path, "--top-k", "2", "--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let rows = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(rows.count, 120)
        XCTAssertEqual(rows[7]["prompt"] as? String, "When Mary and John went to the store, prompt 7")
        XCTAssertTrue(run.stderr.contains("prompts 120/120"), run.stderr)

        // A prompt longer than the context on line 3: an error naming it, and nothing on standard output.
        let bad = dir.appendingPathComponent("bad.txt")
        try Data(["short one", "short two", String(repeating: "word ", count: 400)].joined(separator: "\n").utf8).write(to: bad)
        let refused = try runMechanic(["run", "--model", model, "--prompts-file", bad.path, "--json"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertEqual(refused.stdout, "")
        XCTAssertTrue(refused.stderr.contains("prompt 3"), refused.stderr)
        XCTAssertTrue(refused.stderr.contains("context"), refused.stderr)
    }
}
