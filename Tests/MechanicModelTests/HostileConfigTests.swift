import Foundation
import XCTest
@testable import MechanicModel

/// Hostile `config.json` files of every family give typed errors, never a crash: each key of each
/// fixture's config replaced by values of the wrong type or absurd size, then loaded with the
/// fixture's weights.
final class HostileConfigTests: XCTestCase {
    nonisolated(unsafe) static let replacements: [Any] = [-1, 0, 1, 3, 1 << 40, 1e300, -0.5, 2.5, "x", NSNull(), true, [Any](), ["rope_type": "linear"],
                                      ["rope_type": "llama3", "factor": -1]]

    func testEveryKeyOfEveryFamilyConfigMutatedLoadsOrFailsWithATypedError() throws {
        let fixtures = TestPaths.fixtures.appendingPathComponent("families")
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("mechanic-hostile-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        var loaded = 0, refused = 0
        for name in ["pythia", "llama3-mqa", "qwen3", "gemma2", "gemma3"] {
            let source = fixtures.appendingPathComponent(name)
            try? FileManager.default.removeItem(at: scratch)
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
            for file in try FileManager.default.contentsOfDirectory(atPath: source.path) where file != "config.json" {
                try FileManager.default.createSymbolicLink(at: scratch.appendingPathComponent(file),
                                                           withDestinationURL: source.appendingPathComponent(file))
            }
            let original = try JSONSerialization.jsonObject(with: Data(contentsOf: source.appendingPathComponent("config.json"))) as! [String: Any]
            for key in original.keys.sorted() {
                for value in Self.replacements {
                    var config = original
                    config[key] = value
                    let data = try JSONSerialization.data(withJSONObject: config)
                    try data.write(to: scratch.appendingPathComponent("config.json"))
                    do {
                        let model = try CheckpointLoader.load(folder: scratch)
                        XCTAssertNil(model.config.problem(), "\(name) \(key)=\(value)")
                        loaded += 1
                    } catch is ModelError {
                        refused += 1
                    } catch {
                        XCTFail("\(name) \(key)=\(value): untyped error \(error)")
                    }
                }
            }
        }
        XCTAssertGreaterThan(refused, 0)
        XCTAssertGreaterThan(loaded, 0)
    }
}
