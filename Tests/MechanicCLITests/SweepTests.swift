import Foundation
import XCTest
import Mechanic

/// `mechanic sweep` on this machine: a plan's jobs each write a shard, a rerun does only what is
/// missing, broken shards are redone, failures are reported, and everything lands once in one store.
final class SweepTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        guard FileManager.default.fileExists(atPath: StoreWorkflowTests.model + "/model.safetensors") else {
            throw XCTSkip("the embedded reference model is not at \(StoreWorkflowTests.model)")
        }
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("sweep-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    func plan(_ text: String) throws -> String {
        let url = dir.appendingPathComponent("plan-\(UUID().uuidString).yaml")
        try Data(text.utf8).write(to: url)
        return url.path
    }

    func summary(_ result: CLITests.Result) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], result.stderr)
    }

    func testJobsRunOnceAndMergeOnce() throws {
        let out = dir.appendingPathComponent("out").path
        let file = try plan("""
            models: [\(StoreWorkflowTests.model)]
            tasks: [ioi, greater-than]
            methods: [attribution, hisp]
            options: {count: 20, patching-prompts: 4}
            """)
        let first = try runMechanic(["sweep", file, "--out", out, "--jobs", "2", "--json"])
        XCTAssertEqual(first.status, 0, first.stderr)
        let s1 = try summary(first)
        XCTAssertEqual(s1["done"] as? Int, 4)
        XCTAssertEqual(s1["mergedRuns"] as? Int, 4)
        let store = try ResultStore(path: out + "/sweep.sqlite", readOnly: true)
        XCTAssertEqual(try store.runs().count, 4)
        XCTAssertEqual(Set(try store.runs().map { try store.report(run: $0.id).methods.map(\.scores.method) }.flatMap { $0 }),
                       ["attribution", "hisp"])

        // A shard broken after the fact (a lost job) is redone; the rest are skipped and nothing merges twice.
        let shards = try FileManager.default.contentsOfDirectory(atPath: out + "/shards").filter { $0.hasSuffix(".sqlite") }.sorted()
        XCTAssertEqual(shards.count, 4)
        try Data("not a database".utf8).write(to: URL(fileURLWithPath: out + "/shards/" + shards[0]))
        let second = try runMechanic(["sweep", file, "--out", out, "--json"])
        XCTAssertEqual(second.status, 0, second.stderr)
        let s2 = try summary(second)
        XCTAssertEqual(s2["done"] as? Int, 1)
        XCTAssertEqual(s2["skipped"] as? Int, 3)
        XCTAssertEqual(try store.runs().count, 5, "the redone job is a new run; the others were not merged again")
        let third = try summary(try runMechanic(["sweep", file, "--out", out, "--json"]))
        XCTAssertEqual(third["skipped"] as? Int, 4)
        XCTAssertEqual(third["mergedRuns"] as? Int, 0)
    }

    func testFailedJobsAreReportedAndPlansChecked() throws {
        let out = dir.appendingPathComponent("out").path
        let file = try plan("""
            models: [\(StoreWorkflowTests.model)]
            tasks: [ioi, no-such-task]
            methods: [attribution]
            options: {count: 20, patching-prompts: 4}
            """)
        let result = try runMechanic(["sweep", file, "--out", out, "--attempts", "1", "--json"])
        XCTAssertNotEqual(result.status, 0)
        let s = try summary(result)
        XCTAssertEqual(s["done"] as? Int, 1)
        XCTAssertEqual(s["failed"] as? Int, 1)
        XCTAssertTrue(result.stderr.contains("1 of 2 jobs failed"), result.stderr)

        for (text, phrase) in [("models: [x]\n", "tasks is missing"),
                               ("models: [\(StoreWorkflowTests.model)]\ntasks: [ioi]\noptions: {db: x.sqlite}\n", "set by the sweep itself"),
                               ("command: card\nmodels: [m]\ntasks: [ioi]\n", "discover or sinks"),
                               ("models: [/nonexistent]\ntasks: [ioi]\n", "no model.safetensors"),
                               (": : :\n", "plan")] {
            let bad = try runMechanic(["sweep", try plan(text), "--out", out])
            XCTAssertNotEqual(bad.status, 0, text)
            XCTAssertTrue(bad.stderr.contains(phrase), "\(text): \(bad.stderr)")
            XCTAssertFalse(bad.stderr.contains("Fatal error"))
        }
    }
}
