import XCTest
@testable import MechanicCircuits
import MechanicTensor

final class LabelPermutationTests: XCTestCase {
    /// Exact null mean of a grouping's score when `positives` of the examples are drawn as
    /// positive at random: a group of size s is all-positive with probability Π (P−i)/(N−i).
    func exactNullMean(groupSizes: [Int], positives: Int, examples: Int) -> Double {
        var total = 0.0
        for s in groupSizes {
            var probability = 1.0
            for i in 0..<s { probability *= Double(positives - i) / Double(examples - i) }
            total += probability
        }
        return total
    }

    /// A hand-built table with a known answer. Head 0 gives every prompt its own code (the most
    /// diverse head there is): it scores 4 whatever the labels, so z = 0 and p = 1. Head 1 gives all
    /// positives one code and all negatives another: it scores 1, which a shuffle reaches only when
    /// one code's four prompts all land on the positive side (2 of the 70 ways).
    func testHandBuiltTableHasTheKnownNull() {
        let positive = [[0, 0], [1, 0], [2, 0], [3, 0]], negative = [[4, 1], [5, 1], [6, 1], [7, 1]]
        XCTAssertEqual(DiscreteCodeScoring.nodeScores(positive: positive, negative: negative), [4, 1])
        let labels = LabelPermutation.shuffledLabels(positives: 4, negatives: 4, options: .init(permutations: 7000, seed: 1))
        XCTAssertTrue(labels.allSatisfy { $0[0].nonzeroBitCount == 4 }, "every shuffle keeps four positives")
        let (observed, null) = LabelPermutation.nodeScores(positive: positive, negative: negative, codes: 8, labels: labels)
        XCTAssertEqual(observed, [4, 1])
        let diverse = LabelPermutation.Statistic(observed: observed[0], null: null.map { $0[0] })
        XCTAssertEqual(diverse.nullMean, 4)
        XCTAssertEqual(diverse.nullSD, 0)
        XCTAssertEqual(diverse.z, 0)
        XCTAssertEqual(diverse.p, 1)
        let planted = LabelPermutation.Statistic(observed: observed[1], null: null.map { $0[1] })
        XCTAssertEqual(Double(planted.nullMean), exactNullMean(groupSizes: [4, 4], positives: 4, examples: 8), accuracy: 0.01)
        XCTAssertEqual(Double(planted.p), 2.0 / 70, accuracy: 0.008)
        XCTAssertGreaterThan(planted.z, 5)
    }

    /// On seeded random codes, a head whose codes ignore the label has z near 0; a head whose
    /// codes depend on it has a large z, though both use the same number of distinct codes.
    func testLabelIndependentHeadHasZNearZeroAndAPlantedHeadALargeZ() {
        var rng = SeededRandom(seed: 7)
        let n = 150
        let positive = (0..<n).map { _ in [Int(rng.next() % 40), Int(rng.next() % 20)] }
        let negative = (0..<n).map { _ in [Int(rng.next() % 40), 20 + Int(rng.next() % 20)] }
        let labels = LabelPermutation.shuffledLabels(positives: n, negatives: n, options: .init(permutations: 300, seed: 2))
        let (observed, null) = LabelPermutation.nodeScores(positive: positive, negative: negative, codes: 40, labels: labels)
        let independent = LabelPermutation.Statistic(observed: observed[0], null: null.map { $0[0] })
        let planted = LabelPermutation.Statistic(observed: observed[1], null: null.map { $0[1] })
        XCTAssertLessThan(abs(independent.z), 3, "\(independent)")
        XCTAssertGreaterThan(independent.p, 0.01)
        XCTAssertEqual(planted.observed, 20)
        XCTAssertGreaterThan(planted.z, 20, "\(planted)")
        XCTAssertEqual(planted.p, 1 / 301, accuracy: 1e-6)
        // The Monte Carlo null mean agrees with the exact one for the label-independent head.
        var sizes: [Int: Int] = [:]
        for row in positive + negative { sizes[row[0], default: 0] += 1 }
        XCTAssertEqual(Double(independent.nullMean), exactNullMean(groupSizes: Array(sizes.values), positives: n, examples: 2 * n),
                       accuracy: 4 * Double(independent.nullSD) / 300.0.squareRoot())
    }

    /// Observed scores under the true labels are exactly the method's scores; the same seed gives
    /// the same nulls, another seed other ones.
    func testObservedScoresAreTheMethodsAndTheNullIsSeeded() {
        var rng = SeededRandom(seed: 3)
        let heads = 5, codes = 6
        let positive = (0..<30).map { _ in (0..<heads).map { _ in Int(rng.next() % UInt64(codes)) } }
        let negative = (0..<25).map { _ in (0..<heads).map { _ in Int(rng.next() % UInt64(codes)) } }
        let labels = LabelPermutation.shuffledLabels(positives: 30, negatives: 25, options: .init(permutations: 20, seed: 4))
        let nodes = LabelPermutation.nodeScores(positive: positive, negative: negative, codes: codes, labels: labels)
        XCTAssertEqual(nodes.observed, DiscreteCodeScoring.nodeScores(positive: positive, negative: negative))
        let pairs = LabelPermutation.pairScores(positive: positive, negative: negative, codes: codes, labels: labels)
        let edges = DiscreteCodeScoring.edgeScores(positive: positive, negative: negative, codes: codes)
        var p = 0
        for a in 0..<heads {
            for b in (a + 1)..<heads {
                XCTAssertEqual(Int(pairs.observed[p]), edges[.init(first: a, second: b)])
                // Each null draw is the method's own score on the relabelled prompts.
                let k = p % labels.count
                let isPositive = { (i: Int) in labels[k][i >> 6] & (1 << UInt64(i & 63)) != 0 }
                let all = positive + negative
                let relabelled = DiscreteCodeScoring.edgeScores(positive: all.indices.filter(isPositive).map { all[$0] },
                                                                negative: all.indices.filter { !isPositive($0) }.map { all[$0] }, codes: codes)
                XCTAssertEqual(Int(pairs.null[p][k]), relabelled[.init(first: a, second: b)])
                p += 1
            }
        }
        XCTAssertEqual(labels, LabelPermutation.shuffledLabels(positives: 30, negatives: 25, options: .init(permutations: 20, seed: 4)))
        XCTAssertNotEqual(labels, LabelPermutation.shuffledLabels(positives: 30, negatives: 25, options: .init(permutations: 20, seed: 5)))
    }

    /// The bucketed ranking of ordered pairs is the sort it stands for (its naive twin).
    func testBucketedEdgeRuleEqualsTheSort() {
        var rng = SeededRandom(seed: 9)
        for heads in [3, 7, 12] {
            var edges: [DiscreteCodeScoring.Pair: Int] = [:]
            for a in 0..<heads { for b in (a + 1)..<heads { edges[.init(first: a, second: b)] = Int(rng.next() % 4) } }
            var flat = [Int](repeating: 0, count: heads * heads)
            for (pair, score) in edges { flat[pair.first * heads + pair.second] = score; flat[pair.second * heads + pair.first] = score }
            let sorted = flat.indices.sorted { flat[$0] != flat[$1] ? flat[$0] > flat[$1] : $0 > $1 }
            for components in [0, 1, heads, heads * heads / 2, heads * heads + 3] {
                var expected = [Float](repeating: 0, count: heads)
                for head in sorted.flatMap({ [$0 / heads, $0 % heads] }).prefix(components) { expected[head] += 1 }
                XCTAssertEqual(DiscreteCodeScoring.nodeScoresFromEdges(edges, heads: heads, components: components), expected,
                               "\(heads) heads, \(components) components")
            }
        }
    }

    func testShuffledAUCSaysWhenTheRealOneIsWithinNoise() {
        let near = LabelPermutation.ShuffledAUC(observed: 0.62, shuffled: [0.55, 0.6, 0.65, 0.7])
        XCTAssertEqual(near.mean, 0.625, accuracy: 1e-12)
        XCTAssertTrue(near.withinNoise)
        XCTAssertFalse(LabelPermutation.ShuffledAUC(observed: 0.95, shuffled: [0.55, 0.6, 0.65, 0.7]).withinNoise)
    }
}
