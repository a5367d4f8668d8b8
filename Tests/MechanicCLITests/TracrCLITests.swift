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

    /// A bidirectional model's run gets a report without the sink section (sinks assume causal
    /// attention), where it used to fail the whole report.
    func testReportOfACompiledModelsRunLeavesOutSinks() throws {
        let folder = Self.folder("hist")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tracr-report-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("runs.sqlite").path, page = dir.appendingPathComponent("report.html").path
        let result = try runMechanic(["discover", "--model", folder, "--task", folder + "/tasks/hist.jsonl", "--methods", "patching,attribution",
                                      "--db", db, "--report", page])
        XCTAssertEqual(result.status, 0, result.stderr)
        let html = try String(contentsOfFile: page, encoding: .utf8)
        XCTAssertTrue(html.contains("a0.0"), "the report names the model's head")
        let sinks = try runMechanic(["sinks", "--model", folder, "--out", dir.appendingPathComponent("sinks").path, "abc"])
        XCTAssertNotEqual(sinks.status, 0)
        XCTAssertTrue(sinks.stderr.contains("both directions"), sinks.stderr)
    }
}
