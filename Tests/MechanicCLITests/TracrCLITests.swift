import Foundation
import XCTest
import Mechanic

/// The compiled tracr models through the binary: `run` reads their outputs, `discover` finds their
/// task file and, at edge level, scores against the compiler's edge-level truth by itself.
final class TracrCLITests: XCTestCase {
    static func folder(_ program: String) -> String {
        CLITests.repository.appendingPathComponent("artifacts/models/tracr-\(program)").path
    }

    func testRunReadsTheProgramsOutputAtEveryInput() throws {
        // reverse: the last position outputs the first token.
        let result = try runMechanic(["run", "--model", Self.folder("reverse"), "--top-k", "1", "--json", "abc", "cab", "bbca"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let rows = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        let tops = rows.map { (($0["next"] as? [[String: Any]])?.first?["token"] as? String) }
        XCTAssertEqual(tops, ["=a", "=c", "=b"])
    }

    func testDiscoverAtEdgeLevelScoresAgainstTheCompilersEdges() throws {
        let folder = Self.folder("sort")
        let result = try runMechanic(["discover", "--model", folder, "--task", folder + "/tasks/sort.jsonl", "--level", "edges",
                                      "--methods", "eap,edge-patching", "--no-db", "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let methods = try XCTUnwrap(report["methods"] as? [[String: Any]])
        XCTAssertEqual(methods.count, 2)
        for m in methods {
            let auc = try XCTUnwrap(m["edgeAUC"] as? Double, "\(m["method"] ?? "?") has no edge AUC")
            XCTAssertGreaterThan(auc, 0.5, "\(m["method"] ?? "?")")
            XCTAssertLessThanOrEqual(auc, 1)
        }
        // An edge truth naming an edge the graph lacks is refused with the line.
        let bad = FileManager.default.temporaryDirectory.appendingPathComponent("tracr-bad-edges-\(getpid()).txt")
        try "input->a0.h0<q>\na9.h9->logits\n".write(to: bad, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: bad) }
        let refused = try runMechanic(["discover", "--model", folder, "--task", folder + "/tasks/sort.jsonl", "--level", "edges",
                                       "--methods", "eap", "--no-db", "--edge-truth", bad.path])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("a9.h9->logits"), refused.stderr)
        XCTAssertFalse(refused.signaled)
    }
}
