import Foundation
import XCTest

/// The README's first two commands are what a fresh machine runs: the first installs what is
/// missing and runs the main job, the second is exactly what CI runs.
final class ReadmeCommandTests: XCTestCase {
    func testTheREADMEsCommandsAreSetupThenMainJobAndCIsTestCommand() throws {
        let root = CLITests.repository
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let block = try XCTUnwrap(readme.components(separatedBy: "```sh\n").dropFirst().first?.components(separatedBy: "```").first)
        let commands = block.split(separator: "\n").map { $0.components(separatedBy: "#")[0].trimmingCharacters(in: .whitespaces) }
        XCTAssertEqual(commands.first, "scripts/setup && swift run -c release mechanic discover")
        let ci = try String(contentsOf: root.appendingPathComponent(".ci/run"), encoding: .utf8)
        let lastCI = ci.split(separator: "\n").last { !$0.hasPrefix("#") && !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        XCTAssertEqual(commands.dropFirst().first, lastCI.map(String.init), "CI runs the README's test command exactly")
        XCTAssertTrue(ci.contains("scripts/setup"), "CI installs packages as the README's first command does")
    }

    /// Where the packages are installed (this machine built Mechanic, so they are), setup does nothing and succeeds.
    func testSetupIsANoOpWhenThePackagesArePresent() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/dpkg-query") else { throw XCTSkip("not a Debian system") }
        let process = Process()
        process.executableURL = CLITests.repository.appendingPathComponent("scripts/setup")
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        process.waitUntilExit()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(process.terminationStatus, 0, message)
        XCTAssertEqual(message, "", "nothing to install, nothing said")
    }
}
