import Foundation
import XCTest
@testable import MechanicCircuits
import MechanicModel

final class GroundTruthFileTests: XCTestCase {
    func testPublishedCircuitsAreRead() throws {
        let shared = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/reference/published-circuits.json")
        guard FileManager.default.fileExists(atPath: shared.path) else {
            throw XCTSkip("\(shared.path) (../shared/reference) is absent")
        }
        let ioi = try GroundTruthFile.heads(shared.path + "#gpt2-small/ioi")
        XCTAssertEqual(ioi.count, 26)
        XCTAssertTrue(ioi.contains(HeadID(layer: 9, head: 9)))
        XCTAssertEqual(try GroundTruthFile.heads(shared.path + "#gpt2-small/greater-than").count, 9)
        XCTAssertEqual(try GroundTruthFile.heads(shared.path + "#attn-only-4l/docstring").count, 6)
        XCTAssertThrowsError(try GroundTruthFile.heads(shared.path + "#gpt2-small/nothing"))
    }

    func testOwnCircuitFilesAndErrors() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("gt-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        try #"{"heads": [[0, 1], [2, 3]]}"#.write(to: file, atomically: true, encoding: .utf8)
        XCTAssertEqual(try GroundTruthFile.heads(file.path), [HeadID(layer: 0, head: 1), HeadID(layer: 2, head: 3)])
        // Heads outside the model (a circuit of another model) are an error naming the head and the shape.
        XCTAssertEqual(try GroundTruthFile.heads(file.path, for: TransformerConfig(layers: 4, heads: 4, dModel: 16)).count, 2)
        XCTAssertThrowsError(try GroundTruthFile.heads(file.path, for: TransformerConfig(layers: 2, heads: 4, dModel: 16))) {
            XCTAssertTrue("\($0)".contains("a2.3") && "\($0)".contains("2 layers × 4 heads"), "\($0)")
        }
        XCTAssertThrowsError(try GroundTruthFile.heads(file.path, for: TransformerConfig(layers: 4, heads: 3, dModel: 12))) {
            XCTAssertTrue("\($0)".contains("head 3") && "\($0)".contains("4 layers × 3 heads"), "\($0)")
        }
        try "nope".write(to: file, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try GroundTruthFile.heads(file.path))
        XCTAssertThrowsError(try GroundTruthFile.heads("/no/such/file.json"))
    }
}
