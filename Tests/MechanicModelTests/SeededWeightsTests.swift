import XCTest
@testable import MechanicModel

/// Seeded initialisation draws parameters in a frozen order, so a seed gives the same GPT-2
/// weights it always gave (the reference models' training starts from them).
final class SeededWeightsTests: XCTestCase {
    func testSeededGPT2WeightsAreTheOnesMechanicHasAlwaysDrawn() {
        let config = TransformerConfig(layers: 2, heads: 2, dModel: 8, contextLength: 4, vocabSize: 5, innerDimension: 8)
        let w = TransformerWeights.random(config: config, seed: 42)
        // Bit patterns written by the GPT-2-only Mechanic before model families (commit b2fcec5).
        XCTAssertEqual(w.tokenEmbedding.storage.prefix(3).map(\.bitPattern), [3156405521, 3175561149, 3164385563])
        XCTAssertEqual(w.positionEmbedding!.storage.prefix(2).map(\.bitPattern), [1000050550, 1005916707])
        XCTAssertEqual(w.blocks[1].qkvWeight.storage.prefix(2).map(\.bitPattern), [1017347266, 1008305590])
        XCTAssertEqual(w.blocks[0].mlp!.inWeight.storage.prefix(2).map(\.bitPattern), [1007150391, 3163693163])
    }
}
