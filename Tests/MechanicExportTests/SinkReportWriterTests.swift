import Foundation
import XCTest
@testable import MechanicExport
import MechanicSinks

final class SinkReportWriterTests: XCTestCase {
    var root: URL!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("sink-report-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: root)
    }

    func contents(_ folder: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
    }

    func testWritesEveryFileWithTheRenderedContents() throws {
        let analysis = SinkReportFixture.analysis()
        let folder = root.appendingPathComponent("nested/report")
        try SinkReportWriter.write(analysis, to: folder)
        XCTAssertEqual(try contents(folder), ["first-token-mass.svg", "hidden-sinks.svg", "pattern-a0.1.svg", "report.json", "report.md"])
        for (name, text) in SinkReportWriter.files(for: analysis) {
            XCTAssertEqual(try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8), text, name)
        }
        XCTAssertEqual(try contents(root.appendingPathComponent("nested")), ["report"], "temporary folders left behind")
    }

    func testReplacesAnOldReportCompletely() throws {
        let folder = root.appendingPathComponent("report")
        var analysis = SinkReportFixture.analysis()
        analysis.examples.append(AttentionPatternExample(bosPrepended: true, prompt: 0, layer: 1, head: 1, tokens: ["a"], weights: [[1]]))
        try SinkReportWriter.write(analysis, to: folder)
        XCTAssertTrue(try contents(folder).contains("pattern-a1.1.svg"))
        try SinkReportWriter.write(SinkReportFixture.analysis(), to: folder)
        XCTAssertFalse(try contents(folder).contains("pattern-a1.1.svg"), "a stale figure survived")
        XCTAssertEqual(try contents(root), ["report"])
    }

    func testRefusesFoldersThatAreNotReports() throws {
        let folder = root.appendingPathComponent("mine")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data("keep me".utf8).write(to: folder.appendingPathComponent("notes.txt"))
        XCTAssertThrowsError(try SinkReportWriter.write(SinkReportFixture.analysis(), to: folder)) { error in
            XCTAssertEqual(error as? SinkReportError, .notAReportFolder(path: folder.path, entry: "notes.txt"))
        }
        XCTAssertEqual(try contents(folder), ["notes.txt"])
        let file = root.appendingPathComponent("file")
        try Data().write(to: file)
        XCTAssertThrowsError(try SinkReportWriter.write(SinkReportFixture.analysis(), to: file)) { error in
            XCTAssertEqual(error as? SinkReportError, .notAFolder(path: file.path))
        }
        XCTAssertEqual(try contents(root), ["file", "mine"], "temporary folders left behind")
    }

    func testWriteFailureLeavesNothingBehind() throws {
        // The parent is a file, so the folder cannot be created.
        let blocker = root.appendingPathComponent("blocker")
        try Data().write(to: blocker)
        XCTAssertThrowsError(try SinkReportWriter.write(SinkReportFixture.analysis(), to: blocker.appendingPathComponent("report"))) {
            guard case .writeFailed = $0 as? SinkReportError else { return XCTFail("\($0)") }
        }
        XCTAssertEqual(try contents(root), ["blocker"])
    }
}
