import Foundation
import XCTest
import MechanicModel
@testable import MechanicSinks
import MechanicTokenizer

/// Sink analysis on models of other families, through their own tokenizers.
final class FamilySinkTests: XCTestCase {
    static let tokenized = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/tokenized")

    /// A tokenizer that adds its own BOS (Llama's SentencePiece style) gets exactly one BOS in the
    /// with-BOS variant and none in the other: the prompts' token counts differ by exactly one per prompt.
    func testBOSIsAddedOnceWhateverTheTokenizersOwnRule() throws {
        for name in ["llama-spm", "qwen2-bytes", "neox-bytes"] {
            let folder = Self.tokenized.appendingPathComponent(name)
            let model = try CheckpointLoader.load(folder: folder)
            let tokenizer = try loadTokenizer(folder: folder)
            let prompts = ["When Mary and John went to the store", "The war lasted from the year 1732"]
            var options = SinkOptions()
            options.prependBOS = .both
            let analysis = try SinkAnalysis.run(model: model, tokenizer: tokenizer, prompts: prompts, options: options)
            let plain = prompts.map { tokenizer.encode($0, prependBOS: false).count }.reduce(0, +)
            let with = try XCTUnwrap(analysis.variants.first { $0.bosPrepended })
            let without = try XCTUnwrap(analysis.variants.first { !$0.bosPrepended })
            XCTAssertEqual(without.tokenCount, plain, name)
            XCTAssertEqual(with.tokenCount, plain + prompts.count, name)
            XCTAssertEqual(with.firstTokenMass.count, model.config.layers, name)
            XCTAssertEqual(with.firstTokenMass[0].count, model.config.heads, name)
            for row in with.firstTokenMass { for mass in row { XCTAssertTrue(mass >= 0 && mass <= 1 + 1e-9, name) } }
        }
    }
}
