import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest

/// `mechanic report` and `discover --report` on runs made here on the embedded reference model:
/// the page is the same bytes for the same run, well-formed, under its size limit, has the
/// sections its run calls for, and bad input gets one clear line.
final class ReportCommandTests: XCTestCase {
    static let model = StoreWorkflowTests.model
    /// The stated limit for a reference-model report (3 methods, 3 explorer prompts, sinks).
    static let sizeLimit = 400_000

    var dir: URL!
    var db: String { dir.appendingPathComponent("results.sqlite").path }

    override func setUpWithError() throws {
        guard FileManager.default.fileExists(atPath: Self.model + "/model.safetensors") else {
            throw XCTSkip("the embedded reference model is not at \(Self.model)")
        }
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    /// A quick head-level discover on IOI (as StoreWorkflowTests makes one), recorded as run 1,
    /// with its report written by `--report`.
    static func discover(db: String, report: String) throws -> CLITests.Result {
        try runMechanic(["discover", "--model", model, "--task", "ioi", "--count", "40", "--patching-prompts", "6", "--sae-epochs", "100",
                         "--methods", "attribution,sae,patching", "--db", db, "--report", report])
    }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    func testReportOfAHeadLevelRunIsDeterministicWellFormedAndSmall() throws {
        let discover = try Self.discover(db: db, report: path("discover.html"))
        XCTAssertEqual(discover.status, 0, discover.stderr)
        XCTAssertTrue(discover.stderr.contains("report → "), discover.stderr)

        let first = try runMechanic(["report", "1", "--db", db, "--out", path("a.html")])
        XCTAssertEqual(first.status, 0, first.stderr)
        let second = try runMechanic(["report", "1", "--db", db, "--out", path("b.html")])
        XCTAssertEqual(second.status, 0, second.stderr)
        let a = try Data(contentsOf: URL(fileURLWithPath: path("a.html")))
        XCTAssertEqual(a, try Data(contentsOf: URL(fileURLWithPath: path("b.html"))), "the same run gives the same bytes")
        XCTAssertEqual(a, try Data(contentsOf: URL(fileURLWithPath: path("discover.html"))), "discover --report writes what report writes")
        XCTAssertLessThan(a.count, Self.sizeLimit, "a reference-model report stays under \(Self.sizeLimit) bytes")

        let html = String(decoding: a, as: UTF8.self)
        let parser = XMLParser(data: a)
        XCTAssertTrue(parser.parse(), "well-formed: \(parser.parserError.map { "\($0)" } ?? "") at line \(parser.lineNumber)")
        for id in ["run", "task", "methods", "methods-table", "roc", "heatmaps", "graph", "explorer", "sinks", "sinks-table",
                   "panel", "selftest", "report-data"] {
            XCTAssertTrue(html.contains("id=\"\(id)\""), "no #\(id)")
        }
        XCTAssertFalse(html.contains("id=\"edges\""), "a head-level run has no edge section")
        for method in ["attribution", "sae", "patching-resample"] { XCTAssertTrue(html.contains("<tr data-method=\"\(method)\">"), method) }
        XCTAssertEqual(html.components(separatedBy: "<figure class=\"graph-figure\"").count - 1, 3, "one Graphviz graph per method")
        XCTAssertTrue(html.contains("<title>a3.6</title>"), "graph nodes are named a{layer}.{head}")
        XCTAssertFalse(html.contains("L3H6"))
        XCTAssertFalse(html.contains("<script src") || html.contains("<link"), "nothing is loaded from elsewhere")

        // The blob holds the explorer: three prompts, 32 heads each, a lower triangle per head.
        let blob = try XCTUnwrap(html.components(separatedBy: "<script type=\"application/json\" id=\"report-data\">").last?
            .components(separatedBy: "</script>").first)
        let data = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(blob.utf8)) as? [String: Any])
        let explorer = try XCTUnwrap(data["explorer"] as? [[String: Any]])
        XCTAssertEqual(explorer.count, 3)
        for prompt in explorer {
            let tokens = try XCTUnwrap(prompt["tokens"] as? [String])
            let patterns = try XCTUnwrap(prompt["patterns"] as? [[Int]])
            XCTAssertEqual(patterns.count, 32)
            XCTAssertTrue(patterns.allSatisfy { $0.count == tokens.count * (tokens.count + 1) / 2 })
            XCTAssertEqual(tokens.first, "<|endoftext|>")
        }
        // The page's structure (elements with their ids and classes, outside SVG figures and data rows), frozen.
        let snapshot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Snapshots/report-outline-ioi.txt")
        if ProcessInfo.processInfo.environment["MECHANIC_UPDATE_SNAPSHOTS"] == "1" {
            try Data(Self.outline(a).utf8).write(to: snapshot)
        } else {
            XCTAssertEqual(Self.outline(a), try String(contentsOf: snapshot, encoding: .utf8),
                           "the report's structure changed; re-record with MECHANIC_UPDATE_SNAPSHOTS=1 if intended")
        }

        let task = try XCTUnwrap(data["task"] as? [String: Any])
        XCTAssertEqual(task["groundTruth"] as? [String], ["a0.5", "a3.0", "a3.6"])
        XCTAssertEqual((data["sinks"] as? [String: Any])?["source"] as? String, "computed")
    }

    /// The skeleton of a page: one line per element with its id and class, indented by depth,
    /// leaving out SVG content and the rows, cells and items that repeat with the data.
    static func outline(_ page: Data) -> String {
        final class Outline: NSObject, XMLParserDelegate {
            var lines: [String] = []
            var depth = 0, svg = 0
            func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                        attributes: [String: String] = [:]) {
                defer { depth += 1 }
                if name == "svg" { svg += 1 }
                if svg > 1 || (svg == 1 && name != "svg") { return }
                if attributes["id"] == nil && ["tr", "td", "li", "dt", "dd", "span", "br", "button", "code"].contains(name) { return }
                lines.append(String(repeating: "  ", count: depth) + name + (attributes["id"].map { "#" + $0 } ?? "")
                             + (attributes["class"].map { "." + $0.replacingOccurrences(of: " ", with: ".") } ?? ""))
            }
            func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
                depth -= 1
                if name == "svg" { svg -= 1 }
            }
        }
        let delegate = Outline()
        let parser = XMLParser(data: page)
        parser.delegate = delegate
        _ = parser.parse()
        return delegate.lines.joined(separator: "\n") + "\n"
    }

    func testReportOfAnEdgeLevelRunShowsTheFaithfulnessCurves() throws {
        let discover = try runMechanic(["discover", "--level", "edges", "--model", Self.model, "--task", "ioi", "--count", "40", "--patching-prompts", "4",
                                        "--methods", "eap", "--db", db])
        XCTAssertEqual(discover.status, 0, discover.stderr)
        let report = try runMechanic(["report", "1", "--db", db, "--out", path("edges.html"), "--no-sinks", "--prompts", "1"])
        XCTAssertEqual(report.status, 0, report.stderr)
        let html = try String(contentsOfFile: path("edges.html"), encoding: .utf8)
        XCTAssertTrue(XMLParser(data: Data(html.utf8)).parse())
        for id in ["edges", "edges-table", "faithfulness-chart", "graph", "explorer"] { XCTAssertTrue(html.contains("id=\"\(id)\""), "no #\(id)") }
        XCTAssertFalse(html.contains("id=\"sinks\""), "--no-sinks computes none")
        XCTAssertTrue(html.contains("<tr data-method=\"eap\">"), "an edge-level run's heads are scored from its edges")
        XCTAssertTrue(html.contains("a head's score is the total |score| of the edges"))
        XCTAssertTrue(html.contains("\"cpr\":"), "the blob holds CPR")
    }

    func testBadInputGetsOneClearLine() throws {
        XCTAssertEqual(try Self.discover(db: db, report: path("r.html")).status, 0)
        let cases: [([String], String)] = [
            (["report", "9", "--db", db], "no run 9 in"),
            (["report", "1", "--db", path("missing.sqlite")], "does not exist"),
            (["report", "1", "--db", path("corrupt.sqlite")], "not a SQLite database"),
            (["report", "1", "--db", db, "--out", path("no-such-folder/r.html")], "does not exist"),
            (["report", "1", "--db", db, "--out", dir.path], "it is a folder"),
            (["report", "1", "--db", db, "--prompts", "999"], "--prompts"),
            (["discover", "--no-db", "--report", path("x.html")], "drop --no-db"),
        ]
        try Data("not a database, just text that is long enough to have a header".utf8).write(to: URL(fileURLWithPath: path("corrupt.sqlite")))
        for (arguments, message) in cases {
            let result = try runMechanic(arguments)
            XCTAssertNotEqual(result.status, 0, "\(arguments)")
            XCTAssertTrue(result.stderr.contains(message), "\(arguments): \(result.stderr)")
            XCTAssertFalse(result.stderr.contains("Fatal error"), result.stderr)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("missing.sqlite")), "a report never creates a store")
    }

    func testAModelThatMovedIsNotedInsteadOfFailing() throws {
        // Copy the model, discover on the copy, then remove it: the report says so and still has the tables.
        let copy = dir.appendingPathComponent("model")
        try FileManager.default.copyItem(atPath: Self.model, toPath: copy.path)
        let discover = try runMechanic(["discover", "--model", copy.path, "--task", "ioi", "--count", "40", "--patching-prompts", "4", "--methods", "attribution",
                                        "--db", db])
        XCTAssertEqual(discover.status, 0, discover.stderr)
        try FileManager.default.removeItem(at: copy)
        let report = try runMechanic(["report", "1", "--db", db, "--out", path("moved.html")])
        XCTAssertEqual(report.status, 0, report.stderr)
        let html = try String(contentsOfFile: path("moved.html"), encoding: .utf8)
        XCTAssertTrue(html.contains("is not there any more"))
        XCTAssertTrue(html.contains("id=\"methods-table\""))
        XCTAssertFalse(html.contains("id=\"explorer\""))
    }
}
