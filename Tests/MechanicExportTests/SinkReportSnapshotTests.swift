import Foundation
import XCTest
@testable import MechanicExport
import MechanicSinks

/// The report renderers against committed snapshots: any change in a text output shows up in review.
final class SinkReportSnapshotTests: XCTestCase {
    let analysis = SinkReportFixture.analysis()

    func testMarkdown() {
        assertSnapshot(SinkReportMarkdown.render(analysis), named: "report.md")
    }

    func testJSON() {
        assertSnapshot(SinkReportJSON.render(analysis), named: "report.json")
    }

    func testHeatmaps() {
        assertSnapshot(SinkReportSVG.firstTokenMass(analysis), named: "first-token-mass.svg")
        assertSnapshot(SinkReportSVG.hiddenSinks(analysis), named: "hidden-sinks.svg")
    }

    func testAttentionPattern() throws {
        let svg = try XCTUnwrap(SinkReportSVG.pattern(analysis, head: HeadIndex(layer: 0, head: 1)))
        assertSnapshot(svg, named: "pattern-a0.1.svg")
        XCTAssertNil(SinkReportSVG.pattern(analysis, head: HeadIndex(layer: 1, head: 1)))
    }

    func testRenderingIsDeterministic() {
        XCTAssertEqual(SinkReportJSON.render(analysis), SinkReportJSON.render(SinkReportFixture.analysis()))
        XCTAssertEqual(SinkReportMarkdown.render(analysis), SinkReportMarkdown.render(SinkReportFixture.analysis()))
    }

    func testJSONHoldsTheAnalysisNumbers() throws {
        let text = SinkReportJSON.render(analysis)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        XCTAssertEqual(object["format"] as? String, "mechanic.sinks")
        XCTAssertEqual(object["version"] as? Int, 1)
        let variants = try XCTUnwrap(object["variants"] as? [[String: Any]])
        XCTAssertEqual(variants.count, 2)
        XCTAssertEqual((variants[0]["hiddenSinks"] as? [[String: Any]])?.first?["token"] as? String, " |x")
        XCTAssertEqual(((variants[0]["firstTokenMass"] as? [[Double]])?[0][0]), 0.9)
        // Keys are sorted: `examples` precedes `format`, which precedes `model`.
        let examples = try XCTUnwrap(text.range(of: "\"examples\"")), format = try XCTUnwrap(text.range(of: "\"format\""))
        XCTAssertLessThan(examples.lowerBound, format.lowerBound)
        // Round trip through the analysis's own Codable conformance (numbers rounded to 6 decimals).
        let decoded = try JSONDecoder().decode(SinkAnalysis.self, from: Data(text.utf8))
        XCTAssertEqual(decoded.variants[1].entropy[0][1], 1.098612, accuracy: 1e-12)
        XCTAssertEqual(decoded.examples, analysis.examples)
    }

    func testFormattingHelpers() {
        XCTAssertEqual(SinkReportText.fixed(-0.0001, 3), "0.000")
        XCTAssertEqual(SinkReportText.fixed(2.5, 0), "2")
        XCTAssertEqual(SinkReportText.fixed(.nan, 3), "nan")
        XCTAssertEqual(SinkReportText.visible(" a\tb\n\u{7}"), "␣a⇥b↵\\x07")
        XCTAssertEqual(SinkReportText.markdownToken("a`b|c"), "``a`b\\|c``")
        XCTAssertEqual(SinkReportText.markdownToken("`"), "`` ` ``")
        XCTAssertEqual(SVGColorScale.color(0), "#440154")
        XCTAssertEqual(SVGColorScale.color(1), "#fde725")
        XCTAssertEqual(SVGDocument.escape("<a & \"b\">\u{1}"), "&lt;a &amp; &quot;b&quot;&gt;\u{FFFD}")
    }
}
