import XCTest
@testable import MechanicCorpus
import MechanicTensor
import MechanicTokenizer

/// e17's copy blocks: spans repeated after random gaps, a quarter skip-bigram, seeded.
final class InductionBlocksTests: XCTestCase {
    let blocks = InductionBlocks()

    func draws(_ count: Int, window: Int, seed: UInt64) -> [InductionBlocks.Drawn] {
        var rng = SeededRandom(seed: seed)
        let p = blocks.permutation
        return (0..<count).map { _ in blocks.draw(window: window, permutation: p, using: &rng) }
    }

    func testSharesAndLengthsFollowTheRecipeInTheFullWindow() {
        let drawn = draws(8000, window: 256, seed: 1)
        var copies: [(prefix: [Int], span: [Int], gap: [Int])] = [], skip: [[Int]] = []
        for d in drawn {
            switch d {
            case .copy(let prefix, let span, let gap): copies.append((prefix, span, gap))
            case .skipBigram(let x): skip.append(x)
            }
        }
        XCTAssertEqual(Double(skip.count) / Double(drawn.count), 0.25, accuracy: 0.02, "skip-bigram share of blocks")
        let withGap = copies.filter { !$0.gap.isEmpty }.count
        // Half the copy blocks draw a gap; a drawn gap of length 0 (1 in 31) looks like none.
        XCTAssertEqual(Double(withGap) / Double(copies.count), 0.5 * 30 / 31, accuracy: 0.025, "share of copy blocks with a gap")
        XCTAssertEqual(Set(copies.map(\.span.count)), Set(5...40))
        XCTAssertEqual(Set(copies.map(\.gap.count)), Set(0...30))
        XCTAssertEqual(Set(copies.map(\.prefix.count)), Set(0...20))
        // e17 grows a skip-bigram block while a fresh draw from 10…40 exceeds its length: 10 or more, short ones likelier.
        XCTAssertEqual(skip.map(\.count).min(), 10)
        XCTAssertTrue(skip.allSatisfy { (10...40).contains($0.count) })
        XCTAssertGreaterThan(skip.map(\.count).max()!, 20)
        let p = blocks.permutation
        XCTAssertEqual(Set(p), Set(0..<256), "the rule is a permutation of the alphabet")
        for x in skip { for t in 2..<x.count { XCTAssertEqual(x[t], p[x[t - 2]]) } }
        for c in copies { XCTAssertTrue((c.prefix + c.span + c.gap).allSatisfy { (0..<256).contains($0) }) }
    }

    func testShortWindowsCapSpansPrefixesAndGaps() {
        var spans = Set<Int>(), gaps = Set<Int>(), prefixes = Set<Int>()
        for case .copy(let prefix, let span, let gap) in draws(3000, window: 32, seed: 2) {
            spans.insert(span.count); gaps.insert(gap.count); prefixes.insert(prefix.count)
        }
        XCTAssertEqual(spans, Set(5...10), "spans of min(5, L/4)…min(40, L/3)")
        XCTAssertEqual(gaps, Set(0...16), "gaps up to L/2")
        XCTAssertEqual(prefixes, Set(0...8), "prefixes up to L/4")
    }

    func testRowsAreSeededAndOfTheAskedLength() {
        func rows(_ seed: UInt64) -> [[Int]] {
            var rng = SeededRandom(seed: seed)
            return (0..<20).map { i in blocks.row(length: 33 + i, window: 32, using: &rng) }
        }
        XCTAssertEqual(rows(5), rows(5))
        XCTAssertNotEqual(rows(5), rows(6))
        XCTAssertEqual(rows(5).map(\.count), (0..<20).map { 33 + $0 })
        XCTAssertTrue(rows(5).joined().allSatisfy { (0...256).contains($0) })
        XCTAssertEqual(blocks.stream(count: 500, window: 256, seed: 3), blocks.stream(count: 500, window: 256, seed: 3))
        XCTAssertEqual(blocks.stream(count: 500, window: 256, seed: 3).first, 256, "a stream starts with its separator")
        var other = blocks
        other.permutationSeed = 100
        XCTAssertNotEqual(other.permutation, blocks.permutation)
    }

    func testByteVocabularyHasOneTokenPerIDAndEndOfTextLast() throws {
        let built = VocabularyBuilder.bytesOnly()
        let tokenizer = try GPT2Tokenizer(vocabulary: built.vocab, merges: built.merges)
        XCTAssertEqual(tokenizer.vocabularySize, 257)
        XCTAssertEqual(tokenizer.eosID, 256)
        XCTAssertEqual(tokenizer.encode(" a"), [220, 64])
    }
}
