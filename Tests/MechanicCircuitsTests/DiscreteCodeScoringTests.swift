import XCTest
@testable import MechanicCircuits
import MechanicTensor

final class DiscreteCodeScoringTests: XCTestCase {
    func testNodeScoreCountsCodesOnlyPositivesProduce() {
        // Head 0: positives {1, 2, 3}, negatives {3} → 2. Head 1: always code 5 → 0.
        let positive = [[1, 5], [2, 5], [3, 5]], negative = [[3, 5], [3, 5]]
        XCTAssertEqual(DiscreteCodeScoring.nodeScores(positive: positive, negative: negative), [2, 0])
        let soft = DiscreteCodeScoring.softmax([2, 0])
        XCTAssertEqual(soft.reduce(0, +), 1, accuracy: 1e-6)
        XCTAssertGreaterThan(soft[0], soft[1])
    }

    func testEdgeScoreEqualsBruteForceCount() {
        var rng = SeededRandom(seed: 11)
        let (heads, codes) = (5, 4)
        let table = { (n: Int) in (0..<n).map { _ in (0..<heads).map { _ in Int(rng.next() % UInt64(codes)) } } }
        let positive = table(30), negative = table(25)
        let edges = DiscreteCodeScoring.edgeScores(positive: positive, negative: negative, codes: codes)
        XCTAssertEqual(edges.count, heads * (heads - 1) / 2)
        for a in 0..<heads {
            for b in (a + 1)..<heads {
                var expected = 0
                for c1 in 0..<codes {
                    for c2 in 0..<codes {
                        let onPositive = positive.contains { $0[a] == c1 && $0[b] == c2 }
                        let onNegative = negative.contains { $0[a] == c1 && $0[b] == c2 }
                        if onPositive && !onNegative { expected += 1 }
                    }
                }
                XCTAssertEqual(edges[.init(first: a, second: b)], expected, "pair \(a),\(b)")
            }
        }
    }

    /// The reference's rule on ordered pairs, self-pairs included, k = heads² / 2 slots.
    func testNodeScoresFromEdgesCountAppearancesAmongTheFirstComponentsOfOrderedPairs() {
        let edges: [DiscreteCodeScoring.Pair: Int] = [
            .init(first: 0, second: 1): 5, .init(first: 0, second: 2): 4, .init(first: 1, second: 2): 1,
            .init(first: 0, second: 3): 4, .init(first: 1, second: 3): 0, .init(first: 2, second: 3): 0,
        ]
        // Ranked (ties: larger flat index a·4+b first): (1,0) (0,1) | (3,0) (2,0) (0,3) (0,2) | (2,1) (1,2) | zeros.
        // The first 8 slots: 1 0 0 1 3 0 2 0.
        XCTAssertEqual(DiscreteCodeScoring.nodeScoresFromEdges(edges, heads: 4, components: 8), [4, 2, 1, 1])
        // An odd count stops half-way through a pair: 1 0 0 1 3.
        XCTAssertEqual(DiscreteCodeScoring.nodeScoresFromEdges(edges, heads: 4, components: 5), [2, 2, 0, 1])
        XCTAssertEqual(DiscreteCodeScoring.nodeScoresFromEdges(edges, heads: 4, components: 0), [0, 0, 0, 0])
        // More slots than ordered pairs have: every head appears 2·heads times.
        XCTAssertEqual(DiscreteCodeScoring.nodeScoresFromEdges(edges, heads: 4, components: 100), [8, 8, 8, 8])
    }
}
