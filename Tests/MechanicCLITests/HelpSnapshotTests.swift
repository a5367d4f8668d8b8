import Foundation
import XCTest

/// `--help` of every command, frozen: help is the CLI's documentation, so a change to it should
/// be a reviewed diff. Set `MECHANIC_UPDATE_SNAPSHOTS=1` to re-record (then review and commit).
final class HelpSnapshotTests: XCTestCase {
    static let commands: [[String]] = [
        [], ["discover"], ["evaluate"], ["export"], ["db"], ["db", "runs"], ["db", "show"], ["db", "query"], ["sweep"], ["sae"], ["sae", "train"], ["sae", "capture"],
        ["report"], ["sinks"], ["tasks"], ["tasks", "list"], ["tasks", "show"], ["tasks", "make"], ["run"], ["inspect"], ["tokenize"],
        ["train"], ["card"], ["results"], ["bench"], ["bench", "forward"], ["bench", "training"], ["bench", "circuits"], ["bench", "edges"],
    ]

    func testEveryCommandsHelpMatchesItsSnapshot() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Snapshots")
        let update = ProcessInfo.processInfo.environment["MECHANIC_UPDATE_SNAPSHOTS"] == "1"
        for command in Self.commands {
            // A fixed width, so the wrapping does not depend on the terminal that runs the tests.
            let result = try runMechanic(command + ["--help"], environment: ["COLUMNS": "100"])
            XCTAssertEqual(result.status, 0, "\(command): \(result.stderr)")
            let name = "help-" + (command.isEmpty ? "mechanic" : command.joined(separator: "-")) + ".txt"
            let url = folder.appendingPathComponent(name)
            if update {
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                try Data(result.stdout.utf8).write(to: url)
                continue
            }
            guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
                XCTFail("missing snapshot \(name); run with MECHANIC_UPDATE_SNAPSHOTS=1 to record it")
                continue
            }
            XCTAssertEqual(result.stdout, expected, "\(name) changed; re-record with MECHANIC_UPDATE_SNAPSHOTS=1 if intended")
            if !command.isEmpty && command != ["db"] && command != ["tasks"] && command != ["bench"] && command != ["sae"] {
                XCTAssertTrue(result.stdout.contains("Example"), "\(command) --help has no example")
            }
        }
    }
}
