import XCTest
@testable import MechanicTraining
import MechanicCorpus

/// Corpus v2 interleaves token-level repeat documents with the text's documents.
final class PreparedCorpusTests: XCTestCase {
    func testRepeatDocumentsMakeUpTheirShareAndKeepTheTextInOrder() {
        let eos = 99
        var stream: [Int] = []
        for d in 0..<400 { stream += Array(repeating: d % 90, count: 5 + d % 30) + [eos] }
        let repeats = RepeatDocuments(vocabularySize: 100, excluded: [eos])
        let mixed = PreparedCorpus.interleave(stream, repeats: repeats, share: 0.25, eos: eos, seed: 1)
        XCTAssertEqual(mixed, PreparedCorpus.interleave(stream, repeats: repeats, share: 0.25, eos: eos, seed: 1))
        XCTAssertNotEqual(mixed, PreparedCorpus.interleave(stream, repeats: repeats, share: 0.25, eos: eos, seed: 2))
        let textDocuments = stream.split(separator: eos).map(Array.init)
        let mixedDocuments = mixed.split(separator: eos).map(Array.init)
        // The text's documents survive whole and in order; the rest are repeat documents.
        var next = 0
        var repeatTokens = 0
        for doc in mixedDocuments {
            if next < textDocuments.count && doc == textDocuments[next] { next += 1 } else { repeatTokens += doc.count + 1 }
        }
        XCTAssertEqual(next, textDocuments.count)
        XCTAssertEqual(Double(repeatTokens) / Double(mixed.count), 0.25, accuracy: 0.03)
    }

    func testVersion2RecipesFitTheBudget() {
        for recipe in [ReferenceRecipe.sixLayer, .attentionOnly6L] {
            XCTAssertEqual(recipe.layers, 6)
            XCTAssertGreaterThanOrEqual(recipe.contextLength, 1 + 60 + 2 * 50, "the canonical induction check fits the context")
            XCTAssertEqual(recipe.mix, .version2)
            XCTAssertNotNil(recipe.repeatShare)
            let config = recipe.config(vocabularySize: recipe.vocabularySize, eos: 0)
            XCTAssertLessThan(config.parameterCount * 4, 25_000_000, "\(recipe.name) stays under 25 MB")
        }
        XCTAssertEqual(ReferenceRecipe.named("6l"), .sixLayer)
    }
}
