import Foundation
import XCTest

/// The report in a real browser: headless Chromium opens `report.html#selftest`, the page's
/// script renders everything, clicks a graph node, hovers a token and sorts a table, and writes
/// what it found into `<pre id="selftest">`, which `--dump-dom` prints. Skips where Chromium is
/// missing, except on CI (`CI=true`), where `.ci/run` installs it and a skip would hide a failure.
final class ReportBrowserTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        guard FileManager.default.fileExists(atPath: StoreWorkflowTests.model + "/model.safetensors") else {
            throw XCTSkip("the embedded reference model is not at \(StoreWorkflowTests.model)")
        }
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("report-browser-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    /// Chromium's path, or a skip (a failure on CI) saying how to get it.
    static func chromium() throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for folder in path.split(separator: ":") {
            for name in ["chromium", "chromium-browser", "google-chrome"] {
                let candidate = "\(folder)/\(name)"
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            }
        }
        let message = "Chromium is not installed (Debian: apt-get install chromium); the report's browser test needs it"
        if ProcessInfo.processInfo.environment["CI"] == "true" { throw MissingBrowser(description: message + ", and CI must run it (.ci/run installs it)") }
        throw XCTSkip(message)
    }

    struct MissingBrowser: Error, CustomStringConvertible { var description: String }

    /// Runs headless Chromium on `url` with `arguments`; its standard output.
    func browse(_ chromium: String, _ arguments: [String], url: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: chromium)
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
                             "--user-data-dir=\(dir.appendingPathComponent("profile").path)"] + arguments + [url]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = DispatchTime.now() + .seconds(120)
        let timer = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: deadline, execute: timer)
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        timer.cancel()
        return String(decoding: data, as: UTF8.self)
    }

    /// The page's self-test result, from Chromium's dump of `url#selftest`.
    func selfTest(_ chromium: String, _ page: URL) throws -> [String: Any] {
        let dom = try browse(chromium, ["--dump-dom"], url: page.absoluteString + "#selftest")
        let text = try XCTUnwrap(dom.components(separatedBy: "<pre id=\"selftest\">").dropFirst().first?.components(separatedBy: "</pre>").first,
                                 "no self-test in the dumped page (\(dom.count) characters)")
        let json = text.replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&lt;", with: "<")
            .replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&amp;", with: "&")
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any], "self-test output: \(text)")
    }

    func testTheReportRendersAndRespondsInHeadlessChromium() throws {
        let chromium = try Self.chromium()
        let db = dir.appendingPathComponent("results.sqlite").path
        let report = dir.appendingPathComponent("report.html")
        let discover = try ReportCommandTests.discover(db: db, report: report.path)
        XCTAssertEqual(discover.status, 0, discover.stderr)

        let result = try selfTest(chromium, report)
        XCTAssertEqual(result["errors"] as? [String], [], "script errors")
        XCTAssertEqual(result["graphNodes"] as? Int, 9, "three heads in each of the three methods' graphs")
        XCTAssertEqual(result["panelOpened"] as? Bool, true, "clicking a graph node opens the head panel")
        XCTAssertEqual(result["panelHead"] as? String, result["expectedHead"] as? String)
        let cells = try XCTUnwrap(result["explorerCells"] as? Int)
        XCTAssertGreaterThan(cells, 0)
        XCTAssertEqual(cells, result["explorerExpected"] as? Int, "one explorer cell per token and head")
        XCTAssertEqual(cells % 32, 0)
        XCTAssertEqual(result["hoverColored"] as? Bool, true, "hovering a token colours every cell")
        XCTAssertEqual(result["sorted"] as? Bool, true, "clicking the AUC header sorts the methods")
        XCTAssertEqual(result["rocCurves"] as? Int, 3)
        XCTAssertEqual(result["heatmapCells"] as? Int, 3 * 32)
        XCTAssertEqual(result["truthOutlines"] as? Int, 3 * 3, "the three ground-truth heads outlined in each heat map")

        let screenshot = dir.appendingPathComponent("report.png")
        _ = try browse(chromium, ["--hide-scrollbars", "--window-size=1280,2000", "--screenshot=\(screenshot.path)"], url: report.absoluteString)
        let png = try Data(contentsOf: screenshot)
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47], "a PNG screenshot")
        XCTAssertGreaterThan(png.count, 20_000, "the screenshot shows a rendered page, not a blank one")
    }

    /// The pages of an edge-level run and of a sink run load without script errors, the edge
    /// run's curve is drawn and its MIB-named graph nodes (a3.h6) open the head panel.
    func testEdgeAndSinkReportsRenderInHeadlessChromium() throws {
        let chromium = try Self.chromium()
        let db = dir.appendingPathComponent("results.sqlite").path
        let model = StoreWorkflowTests.model
        let edges = try runMechanic(["discover", "--level", "edges", "--model", model, "--task", "ioi", "--count", "40", "--patching-prompts", "4",
                                     "--methods", "eap", "--db", db, "--report", dir.appendingPathComponent("edges.html").path])
        XCTAssertEqual(edges.status, 0, edges.stderr)
        let sinks = try runMechanic(["sinks", "--model", model, "--task", "ioi", "--count", "8", "--bos", "with",
                                     "--out", dir.appendingPathComponent("sinks").path, "--db", db])
        XCTAssertEqual(sinks.status, 0, sinks.stderr)
        let page = try runMechanic(["report", "2", "--db", db, "--out", dir.appendingPathComponent("sinks.html").path])
        XCTAssertEqual(page.status, 0, page.stderr)

        let edge = try selfTest(chromium, dir.appendingPathComponent("edges.html"))
        XCTAssertEqual(edge["errors"] as? [String], [], "script errors")
        XCTAssertEqual(edge["faithfulnessCurves"] as? Int, 1)
        XCTAssertEqual(edge["rocCurves"] as? Int, 1, "the edge-derived head scores' ROC curve")
        XCTAssertEqual(edge["heatmapCells"] as? Int, 32)
        XCTAssertGreaterThan(edge["graphNodes"] as? Int ?? 0, 0)
        XCTAssertEqual(edge["panelOpened"] as? Bool, true)
        XCTAssertEqual(edge["explorerCells"] as? Int, edge["explorerExpected"] as? Int)

        let sink = try selfTest(chromium, dir.appendingPathComponent("sinks.html"))
        XCTAssertEqual(sink["errors"] as? [String], [], "script errors")
        XCTAssertEqual(sink["explorerCells"] as? Int, 0, "a sink run records no task prompts to explore")
    }
}
